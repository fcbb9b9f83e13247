"""Fill the shared finding columns of the rows that exist (a migration of its own: on
PostgreSQL an index may not be created in the transaction that updated the table)."""

from django.db import migrations


def _fill(apps, schema_editor):
    from django.db.models import CharField, OuterRef, Subquery, Value
    from django.db.models.functions import Cast, Concat

    ReportFinding = apps.get_model("reports", "ReportFinding")
    Report = apps.get_model("reports", "Report")
    report = Report.objects.filter(pk=OuterRef("report_id"))
    ReportFinding.objects.update(
        region=Subquery(report.values("project__region")[:1]),
        subject=Subquery(report.values("report_number")[:1]),
        key=Concat(Value("report:"), Cast("report_id", CharField())),
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0006_finding_columns")]

    operations = [migrations.RunPython(_fill, migrations.RunPython.noop, elidable=False)]
