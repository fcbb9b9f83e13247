"""The workbook of a background import is a ``core.StoredFile`` (purpose ``workbook``):
each existing job's file becomes one, with the id
``uuid5(NAMESPACE_URL, "inspecta:registry.importjob:<job id>")``, its SHA-256 and
original name, the agency's organisation as owner and the importing person as
uploader; the job (and its audit history) names it instead of holding the file columns.
The bytes stay where they are in the storage."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_uuid(pk):
    return uuid.uuid5(uuid.NAMESPACE_URL, f"inspecta:registry.importjob:{pk}")


def _size(name):
    from django.core.files.storage import default_storage

    try:
        return default_storage.size(name)
    except (OSError, NotImplementedError):
        return 0


def _checked_now(schema_editor):
    """PostgreSQL: check the deferred foreign keys of the rows just written, so the
    schema changes that follow in this migration's transaction may alter the tables."""

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def carry_over(apps, schema_editor):
    ImportJob = apps.get_model("registry", "ImportJob")
    HistoricalImportJob = apps.get_model("registry", "HistoricalImportJob")
    StoredFile = apps.get_model("core", "StoredFile")
    for job in ImportJob.objects.select_related("agency").order_by("pk").iterator():
        file_id = workbook_uuid(job.pk)
        StoredFile.objects.create(
            id=file_id,
            organisation_id=job.agency.organisation_id,
            uploaded_by_id=job.created_by_id,
            original_name=job.original_name,
            purpose="workbook",
            sha256=job.sha256,
            size=_size(job.file.name),
            content_type=XLSX,
            file=job.file.name,
            created_at=job.created_at,
        )
        ImportJob.objects.filter(pk=job.pk).update(workbook_id=file_id)
    for job_id in HistoricalImportJob.objects.values_list("id", flat=True).distinct().order_by():
        HistoricalImportJob.objects.filter(id=job_id).update(workbook_id=workbook_uuid(job_id))
    _checked_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_storedfile_fill"),
        ("registry", "0007_files_in_core"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalimportjob",
            name="workbook",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="core.storedfile",
                verbose_name="导入文件",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="workbook",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.storedfile",
                verbose_name="导入文件",
            ),
        ),
        # undone, the file columns come back empty (see core 0004_storedfile_fill)
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="importjob",
            name="workbook",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.storedfile",
                verbose_name="导入文件",
            ),
        ),
        *(
            migrations.RemoveField(model_name=model, name=name)
            for model in ("importjob", "historicalimportjob")
            for name in ("file", "original_name", "sha256")
        ),
    ]
