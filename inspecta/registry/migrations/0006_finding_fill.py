"""Fill the shared finding columns of the rows that exist (a migration of its own: on
PostgreSQL an index may not be created in the transaction that updated the table)."""

from django.db import migrations


def _fill(apps, schema_editor):
    from django.db.models import OuterRef, Subquery

    Agency = apps.get_model("registry", "Agency")
    for name in ("Finding", "HistoricalFinding"):
        model = apps.get_model("registry", name)
        model.objects.update(region=Subquery(Agency.objects.filter(pk=OuterRef("agency_id")).values("region_id")[:1]))
        model.objects.filter(resolved_at__isnull=False).update(status="resolved")


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_finding_columns")]

    operations = [migrations.RunPython(_fill, migrations.RunPython.noop, elidable=False)]
