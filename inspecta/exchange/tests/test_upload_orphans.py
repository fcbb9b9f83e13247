"""Partial files a crash left behind (``inspecta.exchange.uploads.uploads_orphans_remove``):
the partial file of an upload that no longer receives goes once past
``INSPECTA_ORPHAN_GRACE_HOURS``; that of an upload still receiving never does."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from inspecta.exchange import uploads
from inspecta.exchange.choices import UploadState
from inspecta.exchange.models import Upload


@pytest.fixture
def make(agency, settings):
    settings.INSPECTA_ORPHAN_GRACE_HOURS = 24

    def make(state: str, *, hours: float = 48) -> Upload:
        upload = Upload.objects.create(
            organisation=agency["org"],
            user=agency["admin"],
            length=10,
            state=state,
            expires_at=timezone.now() + timedelta(hours=1),
        )
        _partial(uploads.partial_path(upload), hours)
        return upload

    return make


def _partial(path, hours: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 5)
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_partial_files_no_upload_receives_go_once_past_the_grace_period(make, settings):
    receiving = make(UploadState.RECEIVING, hours=24 * 30)
    ended = [make(UploadState.COMPLETE), make(UploadState.TERMINATED), make(UploadState.EXPIRED)]
    fresh = make(UploadState.COMPLETE, hours=1)
    folder = uploads.partial_path(receiving).parent
    unknown = _partial(folder / f"{uuid.uuid4()}.part", 48)
    other = [_partial(folder / "notes.part", 48), _partial(folder / f"{uuid.uuid4()}.txt", 48)]

    assert uploads.uploads_orphans_remove() == 4
    assert [uploads.partial_path(u).exists() for u in ended] == [False] * 3 and not unknown.exists()
    assert uploads.partial_path(receiving).exists() and uploads.partial_path(fresh).exists()
    assert all(p.exists() for p in other)
    assert uploads.uploads_orphans_remove() == 0
    settings.INSPECTA_ORPHAN_GRACE_HOURS = -1  # switched off
    _partial(uploads.partial_path(fresh), 48)
    assert uploads.uploads_orphans_remove() == 0


def test_a_partial_file_being_written_stays(make):
    import fcntl

    upload = make(UploadState.COMPLETE)
    path = uploads.partial_path(upload)
    with open(path, "r+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        assert uploads.uploads_orphans_remove() == 0
    assert path.exists()


def test_the_housekeeping_job_reports_the_count(make):
    from inspecta.exchange.tasks import exchange_housekeeping

    make(UploadState.COMPLETE)
    assert exchange_housekeeping.call_local()["uploads_orphaned_removed"] == 1
    assert exchange_housekeeping.call_local()["uploads_orphaned_removed"] == 0
