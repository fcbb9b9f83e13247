"""Fill the shared finding columns of the rows that exist (a migration of its own: on
PostgreSQL an index may not be created in the transaction that updated the table)."""

from django.db import migrations


_LABELS = {"error_rate": "错误率超过阈值", "silent": "接入方长时间无调用"}


def _fill(apps, schema_editor):
    from django.db.models import CharField, OuterRef, Subquery, Value
    from django.db.models.functions import Cast, Concat

    AnomalyFinding = apps.get_model("exchange", "AnomalyFinding")
    ExchangeClient = apps.get_model("exchange", "ExchangeClient")
    client = ExchangeClient.objects.filter(pk=OuterRef("client_id"))
    AnomalyFinding.objects.update(
        region=Subquery(client.values("organisation__region")[:1]),
        subject=Subquery(client.values("name")[:1]),
        key=Concat(Value("client:"), Cast("client_id", CharField())),
    )
    AnomalyFinding.objects.filter(resolved_at__isnull=False).update(status="resolved")
    for rule, label in _LABELS.items():
        AnomalyFinding.objects.filter(rule=rule).update(detail=label)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0004_finding_columns")]

    operations = [migrations.RunPython(_fill, migrations.RunPython.noop, elidable=False)]
