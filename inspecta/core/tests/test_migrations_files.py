"""The migrations onto one stored-file model keep every file and every key that names
one: tus uploads, contract scans and report PDFs of ``exchange.StoredFile`` keep their
UUIDs, scans and photos of ``registry.Attachment`` get their computed UUIDs, and the
audit history of both is readable as the history of ``core.StoredFile``. Runs on SQLite
and PostgreSQL (``DATABASE_URL``)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from inspecta.core import services as core_services
from inspecta.core.models import StoredFile
from inspecta.core.testing.migrations import migrate_to, on_postgresql
from inspecta.projects import services as project_services
from inspecta.projects.models import Contract
from inspecta.registry.models import Agency, AgencyHead, ImportJob, Staff
from inspecta.registry.testing import CEMENT
from inspecta.reports import services as report_services
from inspecta.reports.models import ReportVersion
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission

BEFORE = [
    ("core", "0002_audit_acting_client"),
    ("exchange", "0005_finding_fill"),
    ("registry", "0006_finding_fill"),
    ("projects", "0003_audit_acting_client"),
    ("reports", "0007_finding_fill"),
]


def attachment_uuid(pk: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"inspecta:registry.attachment:{pk}")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_files_and_their_keys_survive_the_move_to_core(tree):
    # a transactional test before this one flushed the reference data
    core_services.regions_load()
    core_services.catalog_load()
    agency, admin, made = approved_agency(tree, 361)
    project = project_with(tree, [agency], code="P-FILES", region="440106")
    report = report_services.report_submit(actor=admin, **submission(agency, made, project, number="R-FILES"))
    scan = stored_file(agency.organisation_id, pdf_bytes("contract"), name="合同.pdf")
    today = datetime.date.today()
    contract = project_services.contract_upload(
        actor=admin,
        agency=agency,
        project=project,
        number="HT-FILES",
        client_name="某建设单位",
        amount="1000.00",
        signed_on=today,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
        test_items=[CEMENT],
        scan_id=scan.pk,
    )
    version = ReportVersion.objects.get(report=report)
    pdf = StoredFile.objects.get(pk=version.pdf_id)
    staff = made["staff"]
    head = AgencyHead.objects.filter(agency=agency).first()
    assert head is not None
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()  # every app: migrations cross apps

    # --- the old state: files of exchange come back; registry attachments are made there
    old = migrate_to(BEFORE).loader.project_state(BEFORE).apps
    OldFile = old.get_model("exchange", "StoredFile")
    restored = OldFile.objects.get(pk=scan.pk)
    assert (restored.name, restored.sha256, restored.storage_path) == ("合同.pdf", scan.sha256, scan.file.name)
    assert OldFile.objects.filter(pk=pdf.pk).exists()
    old.get_model("exchange", "HistoricalStoredFile").objects.create(
        id=scan.pk,
        organisation_id=agency.organisation_id,
        name="合同.pdf",
        sha256=scan.sha256,
        size=scan.size,
        content_type="application/pdf",
        storage_path=scan.file.name,
        created_at=scan.created_at,
        history_date=scan.created_at,
        history_type="+",
        history_user_id=admin.pk,
        request_id="req-scan",
    )
    upload = old.get_model("exchange", "Upload").objects.create(
        organisation_id=agency.organisation_id,
        user_id=admin.pk,
        length=scan.size,
        offset=scan.size,
        state="complete",
        expires_at=timezone.now(),
        stored_file_id=scan.pk,
    )
    Attachment = old.get_model("registry", "Attachment")
    photo = Attachment.objects.create(
        agency_id=agency.pk,
        file="registry/photo.png",
        original_name="照片.png",
        purpose="photo",
        sha256="a" * 64,
        size=120,
        content_type="image/png",
        uploaded_by_id=admin.pk,
    )
    licence = Attachment.objects.create(
        agency_id=agency.pk,
        file="registry/licence.pdf",
        original_name="营业执照.pdf",
        purpose="business_licence",
        sha256="b" * 64,
        size=340,
        content_type="application/pdf",
        uploaded_by_id=admin.pk,
    )
    old.get_model("registry", "HistoricalAttachment").objects.create(
        id=photo.pk,
        agency_id=agency.pk,
        file="registry/photo.png",
        original_name="照片.png",
        purpose="photo",
        sha256="a" * 64,
        size=120,
        content_type="image/png",
        uploaded_by_id=admin.pk,
        uploaded_at=photo.uploaded_at,
        history_date=photo.uploaded_at,
        history_type="+",
        history_user_id=admin.pk,
        request_id="req-photo",
    )
    old.get_model("registry", "Staff").objects.filter(pk=staff.pk).update(photo_id=photo.pk)
    old.get_model("registry", "HistoricalStaff").objects.filter(id=staff.pk).update(photo_id=photo.pk)
    old.get_model("registry", "AgencyHead").objects.filter(pk=head.pk).update(photo_id=photo.pk)
    old.get_model("registry", "Agency").objects.filter(pk=agency.pk).update(business_licence_id=licence.pk)
    job = old.get_model("registry", "ImportJob").objects.create(
        agency_id=agency.pk,
        kind="staff",
        file="registry/imports/staff.xlsx",
        original_name="人员.xlsx",
        sha256="c" * 64,
        created_by_id=admin.pk,
    )

    # --- forward: everything is a core.StoredFile, every key still names its file
    migrate_to(latest)
    moved = StoredFile.objects.get(pk=scan.pk)
    assert (moved.original_name, moved.sha256, moved.size, moved.file.name, moved.organisation_id) == (
        "合同.pdf",
        scan.sha256,
        scan.size,
        scan.file.name,
        agency.organisation_id,
    )
    assert Contract.objects.get(pk=contract.pk).scan_id == scan.pk
    assert ReportVersion.objects.get(pk=version.pk).pdf_id == pdf.pk
    from inspecta.exchange.models import Upload

    assert Upload.objects.get(pk=upload.pk).stored_file_id == scan.pk

    photo_id, licence_id = attachment_uuid(photo.pk), attachment_uuid(licence.pk)
    moved_photo = StoredFile.objects.get(pk=photo_id)
    assert (moved_photo.original_name, moved_photo.file.name, moved_photo.content_type, moved_photo.size) == (
        "照片.png",
        "registry/photo.png",
        "image/png",
        120,
    )
    assert (moved_photo.organisation_id, moved_photo.uploaded_by_id, moved_photo.purpose) == (
        agency.organisation_id,
        admin.pk,
        "scan",
    )
    assert Staff.objects.get(pk=staff.pk).photo_id == photo_id
    assert AgencyHead.objects.get(pk=head.pk).photo_id == photo_id
    assert Agency.objects.get(pk=agency.pk).business_licence_id == licence_id
    assert StoredFile.objects.get(pk=licence_id).original_name == "营业执照.pdf"
    assert set(Staff.history.filter(id=staff.pk).values_list("photo_id", flat=True)) == {photo_id}  # type: ignore[attr-defined]

    workbook = ImportJob.objects.select_related("workbook").get(pk=job.pk).workbook
    assert (workbook.original_name, workbook.sha256, workbook.file.name, workbook.purpose) == (
        "人员.xlsx",
        "c" * 64,
        "registry/imports/staff.xlsx",
        "workbook",
    )
    assert (workbook.organisation_id, workbook.uploaded_by_id) == (agency.organisation_id, admin.pk)

    # the old audit rows read as the history of the new model
    history = {row.id: row for row in StoredFile.history.filter(request_id__in=["req-scan", "req-photo"])}  # type: ignore[attr-defined]
    assert set(history) == {scan.pk, photo_id}
    assert (history[photo_id].history_user_id, history[photo_id].original_name) == (admin.pk, "照片.png")
    assert (history[scan.pk].history_user_id, history[scan.pk].file) == (admin.pk, scan.file.name)
