"""The scans and photos of the registry point at ``core.StoredFile``; ``Attachment`` goes.

Each file field (and its column in the audit history) gets a UUID column filled with
the id the attachment received in ``core`` migration ``0004_storedfile_fill``
(``uuid5(NAMESPACE_URL, "inspecta:registry.attachment:<id>")``), then replaces the
integer column under the same name. History rows that named an attachment removed since
get the same computed id, which is also the id of that attachment's copied history.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

FIELDS = [
    ("agency", "business_licence", "营业执照扫描件"),
    ("agencyhead", "photo", "照片"),
    ("staff", "photo", "照片"),
    ("staff", "social_insurance_proof", "社保证明"),
    ("staff", "title_certificate_scan", "最高职称证书"),
    ("postcertificate", "scan", "上岗证附件"),
    ("othercertificate", "scan", "证书附件"),
    ("equipment", "certificate_scan", "计量检定证书"),
    ("qualificationcertificate", "scan", "资质证书附件"),
    ("qualificationcertificate", "capability_annex", "检测能力附表"),
    ("qualificationcertificate", "signatory_annex", "报告批准人附表"),
    ("agencycertificate", "scan", "证书附件"),
]
"""(model, field, label) of every foreign key that pointed at ``Attachment``."""


def attachment_uuid(pk):
    # the same mapping as core/migrations/0004_storedfile_fill.py
    return uuid.uuid5(uuid.NAMESPACE_URL, f"inspecta:registry.attachment:{pk}")


def _field(label, historical):
    if historical:
        return models.ForeignKey(
            blank=True,
            db_constraint=False,
            null=True,
            on_delete=django.db.models.deletion.DO_NOTHING,
            related_name="+",
            to="core.storedfile",
            verbose_name=label,
        )
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="core.storedfile",
        verbose_name=label,
    )


def _each():
    for model, name, label in FIELDS:
        yield model, name, label, False
        yield f"historical{model}", name, label, True


def _checked_now(schema_editor):
    """PostgreSQL: check the deferred foreign keys of the rows just written, so the
    schema changes that follow in this migration's transaction may alter the tables."""

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def carry_over(apps, schema_editor):
    for model_name, name, _label, _historical in _each():
        model = apps.get_model("registry", model_name)
        old_ids = (
            model.objects.exclude(**{f"{name}_id": None}).values_list(f"{name}_id", flat=True).distinct().order_by()
        )
        for old_id in list(old_ids):
            model.objects.filter(**{f"{name}_id": old_id}).update(**{f"{name}_new_id": attachment_uuid(old_id)})
    _checked_now(schema_editor)


def _index_names(schema_editor, table, name):
    new = schema_editor._create_index_name(table, [f"{name}_id"], suffix="")
    old = schema_editor._create_index_name(table, [f"{name}_new_id"], suffix="")
    return old, new


def _rename_index(schema_editor, table, old, new):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        existing = connection.introspection.get_constraints(cursor, table)
    if old not in existing or new in existing:
        return
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [old])
            (sql,) = cursor.fetchone()
        schema_editor.execute(f'DROP INDEX "{old}"')
        schema_editor.execute(sql.replace(f'"{old}"', f'"{new}"', 1))
    else:
        schema_editor.execute(f'ALTER INDEX "{old}" RENAME TO "{new}"')


def index_names_follow(apps, schema_editor):
    """The renamed columns keep the index names of their ``*_new`` columns; a later
    table rebuild on SQLite names them after the column. Name them after the column
    now, so a later rebuild and the undoing of this migration agree on the names."""

    for model_name, name, _label, _historical in _each():
        table = apps.get_model("registry", model_name)._meta.db_table
        old, new = _index_names(schema_editor, table, name)
        _rename_index(schema_editor, table, old, new)


def index_names_back(apps, schema_editor):
    for model_name, name, _label, _historical in _each():
        table = apps.get_model("registry", model_name)._meta.db_table
        old, new = _index_names(schema_editor, table, name)
        _rename_index(schema_editor, table, new, old)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_storedfile_fill"),
        ("registry", "0006_finding_fill"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=model, name=f"{name}_new", field=_field(label, historical))
            for model, name, label, historical in _each()
        ),
        # undone, the integer columns come back empty (see core 0004_storedfile_fill)
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        *(migrations.RemoveField(model_name=model, name=name) for model, name, _label, _historical in _each()),
        *(
            migrations.RenameField(model_name=model, old_name=f"{name}_new", new_name=name)
            for model, name, _label, _historical in _each()
        ),
        migrations.RunPython(index_names_follow, index_names_back),
        migrations.DeleteModel(name="HistoricalAttachment"),
        migrations.DeleteModel(name="Attachment"),
    ]
