"""Large Excel imports run as a background job with visible progress."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from inspecta.core.files import file_store
from inspecta.registry.choices import ImportJobStatus
from inspecta.registry.models import ImportJob, Staff
from inspecta.registry.testing import id_number, register

from .test_pages import _staff_row, _workbook

pytestmark = pytest.mark.django_db


def _rows(seed: int, count: int) -> list[list[object]]:
    return [_staff_row(f"员工{i}", id_number(seed * 1000 + i)) for i in range(count)]


def test_large_import_runs_as_job(client, tree):
    agency, admin = register(41)
    client.force_login(admin)
    response = client.post(f"/registry/{agency.pk}/import/staff/", {"file": _workbook(_rows(41, 250))})
    job = ImportJob.objects.get(agency=agency)
    assert response.status_code == 302 and response["Location"] == f"/registry/{agency.pk}/imports/{job.pk}/"
    assert job.status == ImportJobStatus.SUCCEEDED, job.errors
    assert job.total_rows == 250 and job.processed_rows == 250 and job.errors == []
    assert job.created_by == admin and len(job.workbook.sha256) == 64 and default_storage.exists(job.workbook.file.name)
    assert job.created_count == 250 and Staff.objects.filter(agency=agency).count() == 250
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="import-done"' in html and "100%" in html
    assert "hx-trigger" not in html  # finished: no more polling
    assert job.history.exists()


def test_small_import_stays_synchronous(client, tree):
    agency, admin = register(42)
    client.force_login(admin)
    response = client.post(f"/registry/{agency.pk}/import/staff/", {"file": _workbook(_rows(42, 3))})
    assert response.status_code == 302 and response["Location"] == f"/registry/{agency.pk}/staff/"
    assert not ImportJob.objects.exists() and Staff.objects.filter(agency=agency).count() == 3


def test_large_import_with_bad_row_fails_and_saves_nothing(client, tree):
    agency, admin = register(43)
    client.force_login(admin)
    rows = _rows(43, 250)
    rows[100] = _staff_row("坏", "440106198501010000")  # sheet row 102
    response = client.post(f"/registry/{agency.pk}/import/staff/", {"file": _workbook(rows)})
    job = ImportJob.objects.get(agency=agency)
    assert response.status_code == 302
    assert job.status == ImportJobStatus.FAILED and job.processed_rows == job.total_rows == 250
    assert [(e["row"], e["column"]) for e in job.errors] == [(102, "身份证号码")]
    assert not Staff.objects.filter(agency=agency).exists()
    html = client.get(f"/registry/{agency.pk}/imports/{job.pk}/").content.decode()
    assert "<td>102</td><td>身份证号码</td>" in html


def test_job_page_scoped_and_partial_polls(client, tree):
    agency, admin = register(44)
    _other, other_admin = register(45)
    workbook = file_store(_workbook(_rows(44, 1)), organisation_id=agency.organisation_id, purpose="workbook")
    job = ImportJob.objects.create(agency=agency, kind="staff", workbook=workbook, total_rows=400, processed_rows=100)
    url = f"/registry/{agency.pk}/imports/{job.pk}/"
    client.force_login(admin)
    partial = client.get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200 and "25%" in html and "100 / 400" in html
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html and "<html" not in html
    assert client.get(url).status_code == 200
    client.force_login(other_admin)
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
    assert client.get(f"/registry/{_other.pk}/imports/{job.pk}/").status_code == 404
