"""Finished uploads point at ``core.StoredFile`` (the same UUIDs: core
0004_storedfile_fill); ``exchange.StoredFile`` and its history go, once every foreign
key that named it points at ``core``."""

import django.db.models.deletion
from django.db import migrations, models


def _checked_now(schema_editor):
    """PostgreSQL: check the deferred foreign keys of the rows just written, so the
    schema changes that follow in this migration's transaction may alter the tables."""

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def restore(apps, schema_editor):
    """Undone: the files that came from here (version-4 UUIDs, not the version-5 ids
    of former registry attachments) are rows of ``exchange.StoredFile`` again, so the
    contracts, reports and uploads that name them keep their keys."""

    StoredFile = apps.get_model("core", "StoredFile")
    OldFile = apps.get_model("exchange", "StoredFile")
    OldFile.objects.bulk_create(
        (
            OldFile(
                id=f.id,
                organisation_id=f.organisation_id,
                uploaded_by_id=f.uploaded_by_id,
                client_id=f.client_id,
                name=f.original_name,
                sha256=f.sha256,
                size=f.size,
                content_type=f.content_type,
                storage_path=f.file.name,
                created_at=f.created_at,
            )
            for f in StoredFile.objects.order_by("pk").iterator()
            if f.id.version != 5
        ),
        batch_size=1000,
    )
    _checked_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_storedfile_fill"),
        ("exchange", "0006_receipt_key_and_error"),
        ("projects", "0004_files_in_core"),
        ("reports", "0008_files_in_core"),
    ]

    operations = [
        migrations.AlterField(
            model_name="upload",
            name="stored_file",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="core.storedfile",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, restore),
        migrations.DeleteModel(name="HistoricalStoredFile"),
        migrations.DeleteModel(name="StoredFile"),
    ]
