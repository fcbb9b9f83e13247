"""Sample code sequences move onto the platform's one counter (``core.SequenceCounter``,
name ``sample_code``, scope the region): the rows are copied, then the old table is
dropped."""

from django.db import migrations


def copy_forward(apps, schema_editor):
    old = apps.get_model("sampling", "SampleCodeCounter")
    new = apps.get_model("core", "SequenceCounter")
    for row in old.objects.all():
        new.objects.update_or_create(
            name="sample_code", scope=row.region_code, year=row.year, defaults={"last": row.last}
        )


def copy_back(apps, schema_editor):
    old = apps.get_model("sampling", "SampleCodeCounter")
    new = apps.get_model("core", "SequenceCounter")
    for row in new.objects.filter(name="sample_code"):
        old.objects.update_or_create(region_code=row.scope, year=row.year, defaults={"last": row.last})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_sequencecounter"),
        ("sampling", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_forward, copy_back),
        migrations.DeleteModel(name="SampleCodeCounter"),
    ]
