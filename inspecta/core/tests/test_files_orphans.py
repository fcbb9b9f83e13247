"""Bytes left without their row (``inspecta.core.files.files_orphans_remove``): a
transaction that stored a file and then rolled back leaves bytes no ``StoredFile`` names;
the hourly job removes them once past ``INSPECTA_ORPHAN_GRACE_HOURS``, and never bytes a
row names, bytes still within the grace period or anything outside ``files/``."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from inspecta.core import files
from inspecta.core.files import file_store, file_store_many, files_orphans_remove
from inspecta.core.models import StoredFile
from inspecta.registry.testing import register

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOUR = 3600


class Refused(Exception):
    pass


@pytest.fixture
def disk(settings, tmp_path):
    """The default storage is a folder, as in production without object storage."""

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.INSPECTA_ORPHAN_GRACE_HOURS = 24
    return tmp_path / "media"


@pytest.fixture
def organisation_id(tree) -> int:
    agency, _admin = register(381)
    return agency.organisation_id


def _age(name: str, hours: float) -> None:
    then = time.time() - hours * HOUR
    os.utime(default_storage.path(name), (then, then))


def _rolled_back(organisation_id: int) -> str:
    """A file stored in a transaction that then fails: its name."""

    with pytest.raises(Refused), transaction.atomic():
        stored = file_store(PDF, organisation_id=organisation_id, purpose="report", name="盖章件.pdf")
        raise Refused
    assert not StoredFile.objects.filter(pk=stored.pk).exists()
    assert default_storage.exists(stored.file.name)
    return stored.file.name


def test_bytes_of_a_rolled_back_transaction_go_once_past_the_grace_period(disk, organisation_id):
    name = _rolled_back(organisation_id)
    assert files_orphans_remove() == 0  # just written: its transaction may still be in flight
    _age(name, 23)
    assert files_orphans_remove() == 0 and default_storage.exists(name)
    _age(name, 25)
    assert files_orphans_remove() == 1
    assert not default_storage.exists(name)
    assert files_orphans_remove() == 0  # a second run finds nothing


def test_a_batch_that_rolls_back_leaves_nothing_after_the_sweep(disk, organisation_id):
    with pytest.raises(Refused), transaction.atomic():
        rows = file_store_many([(PDF, "a.pdf"), (PDF, "b.pdf")], organisation_id=organisation_id, purpose="report")
        raise Refused
    names = [row.file.name for row in rows if isinstance(row, StoredFile)]
    assert len(names) == 2 and all(default_storage.exists(n) for n in names)
    for name in names:
        _age(name, 48)
    assert files_orphans_remove() == 2
    assert not any(default_storage.exists(n) for n in names)


def test_bytes_a_row_names_stay_however_old(disk, organisation_id):
    kept = file_store(PDF, organisation_id=organisation_id, purpose="report", name="报告.pdf")
    _age(kept.file.name, 24 * 3650)
    assert files_orphans_remove() == 0
    assert default_storage.exists(kept.file.name)
    assert files.file_read(StoredFile.objects.get(pk=kept.pk)) == PDF


def test_only_old_orphans_are_counted_and_removed(disk, organisation_id):
    old = [_rolled_back(organisation_id) for _ in range(3)]
    fresh = _rolled_back(organisation_id)
    kept = file_store(PDF, organisation_id=organisation_id, purpose="report").file.name
    for name in [*old, kept]:
        _age(name, 30)
    assert files_orphans_remove() == 3
    assert [default_storage.exists(n) for n in old] == [False] * 3
    assert default_storage.exists(fresh) and default_storage.exists(kept)
    assert files_orphans_remove() == 0


def test_a_row_naming_bytes_not_after_its_id_keeps_them(disk, organisation_id):
    """Files carried over from older columns keep their names; the row still protects them."""

    name = default_storage.save("files/workbook/2024/01/导入.xlsx", ContentFile(b"PK\x03\x04"))
    StoredFile.objects.create(
        organisation_id=organisation_id, sha256="0" * 64, size=4, content_type="application/zip", file=name
    )
    _age(name, 24 * 400)
    assert files_orphans_remove() == 0 and default_storage.exists(name)


def test_the_audit_history_of_a_row_keeps_its_bytes(disk, organisation_id):
    stored = file_store(PDF, organisation_id=organisation_id, purpose="report")
    _age(stored.file.name, 48)
    StoredFile.objects.filter(pk=stored.pk).delete()  # the row gone, its history kept
    assert StoredFile.history.filter(id=stored.pk).exists()
    assert files_orphans_remove() == 0 and default_storage.exists(stored.file.name)


def test_nothing_outside_the_files_folder_is_touched(disk, organisation_id):
    outside = [
        default_storage.save("registry/imports/old.xlsx", ContentFile(b"x")),
        default_storage.save(f"{uuid.uuid4()}.pdf", ContentFile(PDF)),
    ]
    for name in outside:
        _age(name, 24 * 400)
    (disk.parent / "elsewhere.pdf").write_bytes(PDF)
    assert files_orphans_remove() == 0
    assert all(default_storage.exists(n) for n in outside)
    assert (disk.parent / "elsewhere.pdf").exists()


def test_a_negative_grace_period_switches_the_removal_off(disk, organisation_id, settings):
    name = _rolled_back(organisation_id)
    _age(name, 24 * 400)
    settings.INSPECTA_ORPHAN_GRACE_HOURS = -1
    assert files_orphans_remove() == 0 and default_storage.exists(name)
    settings.INSPECTA_ORPHAN_GRACE_HOURS = 24
    assert files_orphans_remove() == 1


def test_an_empty_storage_is_no_error(disk, db):
    assert not Path(disk).exists()
    assert files_orphans_remove() == 0


def test_the_rows_are_read_a_batch_of_names_at_a_time(disk, organisation_id, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(files, "ORPHAN_BATCH", 2)
    kept = [file_store(PDF, organisation_id=organisation_id, purpose="report").file.name for _ in range(5)]
    orphan = _rolled_back(organisation_id)
    for name in [*kept, orphan]:
        _age(name, 48)
    # 6 names, 3 batches: each asks the rows and their history by id; the one batch
    # with an old unnamed name asks both once more by name
    with django_assert_num_queries(3 * 2 + 2):
        assert files_orphans_remove() == 1
    assert all(default_storage.exists(n) for n in kept) and not default_storage.exists(orphan)


def test_object_storage_without_a_folder_is_swept_too(settings, organisation_id):
    """The test settings keep files in memory (no ``os.utime``): with no grace period
    an orphan goes at once, a named file stays."""

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    settings.INSPECTA_ORPHAN_GRACE_HOURS = 0
    kept = file_store(PDF, organisation_id=organisation_id, purpose="report").file.name
    name = _rolled_back(organisation_id)
    assert files_orphans_remove() == 1
    assert not default_storage.exists(name) and default_storage.exists(kept)


def test_the_hourly_job_reports_the_count(disk, organisation_id):
    from inspecta.core.tasks import remove_orphaned_files

    _age(_rolled_back(organisation_id), 48)
    assert remove_orphaned_files.call_local() == {"files_orphaned_removed": 1}
    assert remove_orphaned_files.call_local() == {"files_orphaned_removed": 0}
