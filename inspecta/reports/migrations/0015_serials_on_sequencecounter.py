"""Report serial numbers move onto the platform's one counter (``core.SequenceCounter``,
name ``report_serial``, scope the issuing region): the rows are copied, then the old
table is dropped."""

from django.db import migrations


def copy_forward(apps, schema_editor):
    old = apps.get_model("reports", "SerialCounter")
    new = apps.get_model("core", "SequenceCounter")
    for row in old.objects.all():
        new.objects.update_or_create(
            name="report_serial", scope=row.region_code, year=row.year, defaults={"last": row.last}
        )


def copy_back(apps, schema_editor):
    old = apps.get_model("reports", "SerialCounter")
    new = apps.get_model("core", "SequenceCounter")
    for row in new.objects.filter(name="report_serial"):
        old.objects.update_or_create(region_code=row.scope, year=row.year, defaults={"last": row.last})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_sequencecounter"),
        ("reports", "0014_alter_checkrule_code_alter_historicalcheckrule_code_and_more"),
    ]

    operations = [
        migrations.RunPython(copy_forward, copy_back),
        migrations.DeleteModel(name="SerialCounter"),
    ]
