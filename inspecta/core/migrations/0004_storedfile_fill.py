"""The files of ``exchange.StoredFile`` (tus uploads, contract scans, report PDFs) and of
``registry.Attachment`` (scans and photos of the registry) become ``core.StoredFile``
rows, with their audit history.

An exchange file keeps its UUID. An attachment's integer id becomes the UUID
``uuid5(NAMESPACE_URL, "inspecta:registry.attachment:<id>")``: the registry migration
that moves its foreign keys computes the same value, and so can anyone reading an old
export (version-5 UUIDs never meet the version-4 UUIDs of new files). The bytes stay
where they are in the storage; the rows keep their paths. The audit rows of both old
models are copied into the history of ``core.StoredFile`` (same times, people, acting
clients and request ids), so a file's history reads as one.
"""

import uuid

from django.db import migrations

BATCH = 1000


def attachment_uuid(pk):
    return uuid.uuid5(uuid.NAMESPACE_URL, f"inspecta:registry.attachment:{pk}")


HISTORY = ("history_date", "history_change_reason", "history_type", "history_user_id", "request_id", "remote_addr")


def _history(row):
    return {name: getattr(row, name) for name in HISTORY} | {"acting_client_id": row.acting_client_id}


def _checked_now(schema_editor):
    """PostgreSQL: check the deferred foreign keys of the rows just written, so the
    schema changes that follow in this migration's transaction may alter the tables."""

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def fill(apps, schema_editor):
    StoredFile = apps.get_model("core", "StoredFile")
    Historical = apps.get_model("core", "HistoricalStoredFile")
    OldFile = apps.get_model("exchange", "StoredFile")
    OldFileHistory = apps.get_model("exchange", "HistoricalStoredFile")
    Attachment = apps.get_model("registry", "Attachment")
    AttachmentHistory = apps.get_model("registry", "HistoricalAttachment")
    Agency = apps.get_model("registry", "Agency")

    StoredFile.objects.bulk_create(
        (
            StoredFile(
                id=f.id,
                organisation_id=f.organisation_id,
                uploaded_by_id=f.uploaded_by_id,
                client_id=f.client_id,
                original_name=f.name,
                purpose="upload",
                sha256=f.sha256,
                size=f.size,
                content_type=f.content_type,
                file=f.storage_path,
                created_at=f.created_at,
            )
            for f in OldFile.objects.order_by("pk").iterator()
        ),
        batch_size=BATCH,
    )
    Historical.objects.bulk_create(
        (
            Historical(
                id=h.id,
                organisation_id=h.organisation_id,
                uploaded_by_id=h.uploaded_by_id,
                client_id=h.client_id,
                original_name=h.name,
                purpose="upload",
                sha256=h.sha256,
                size=h.size,
                content_type=h.content_type,
                file=h.storage_path,
                created_at=h.created_at,
                **_history(h),
            )
            for h in OldFileHistory.objects.order_by("history_id").iterator()
        ),
        batch_size=BATCH,
    )

    organisation_of = dict(Agency.objects.values_list("pk", "organisation_id"))
    StoredFile.objects.bulk_create(
        (
            StoredFile(
                id=attachment_uuid(a.pk),
                organisation_id=organisation_of[a.agency_id],
                uploaded_by_id=a.uploaded_by_id,
                original_name=a.original_name,
                purpose="scan",
                sha256=a.sha256,
                size=a.size,
                content_type=a.content_type,
                file=a.file.name,
                created_at=a.uploaded_at,
            )
            for a in Attachment.objects.order_by("pk").iterator()
        ),
        batch_size=BATCH,
    )
    Historical.objects.bulk_create(
        (
            Historical(
                id=attachment_uuid(h.id),
                organisation_id=organisation_of.get(h.agency_id),
                uploaded_by_id=h.uploaded_by_id,
                original_name=h.original_name,
                purpose="scan",
                sha256=h.sha256,
                size=h.size,
                content_type=h.content_type,
                file=h.file,
                created_at=h.uploaded_at,
                **_history(h),
            )
            for h in AttachmentHistory.objects.order_by("history_id").iterator()
        ),
        batch_size=BATCH,
    )
    _checked_now(schema_editor)


def unfill(apps, schema_editor):
    apps.get_model("core", "HistoricalStoredFile").objects.all().delete()
    apps.get_model("core", "StoredFile").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_storedfile"),
        ("exchange", "0005_finding_fill"),
        ("registry", "0006_finding_fill"),
    ]

    # Undone (after every key that names a core file has been undone, exchange
    # 0007_files_in_core restoring the exchange files), the copies go, so that redoing
    # copies again.
    operations = [migrations.RunPython(fill, unfill)]
