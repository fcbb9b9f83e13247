"""Plans' lead-time rules become regional rules of the kind ``plan_lead_hours``
(``core.regionrules``): every rule and its audit history is copied, then the old table
goes."""

from django.db import migrations

NAME = "plan_lead_hours"


def copy_rules(apps, schema_editor):
    PlanLeadRule = apps.get_model("projects", "PlanLeadRule")
    HistoricalPlanLeadRule = apps.get_model("projects", "HistoricalPlanLeadRule")
    RegionRule = apps.get_model("core", "RegionRule")
    HistoricalRegionRule = apps.get_model("core", "HistoricalRegionRule")
    ids = {}
    for old in PlanLeadRule.objects.order_by("pk"):
        new = RegionRule.objects.create(
            name=NAME,
            region_id=old.region_id,
            test_item_id=old.test_item_id,
            value=str(old.lead_hours),
            created_by_id=old.created_by_id,
            created_at=old.created_at,
        )
        ids[old.pk] = new.pk
    next_id = max(ids.values(), default=0) + 1
    for h in HistoricalPlanLeadRule.objects.order_by("history_id"):
        if h.id not in ids:  # a rule deleted before: its history keeps its own id range
            ids[h.id] = next_id
            next_id += 1
        HistoricalRegionRule.objects.create(
            id=ids[h.id],
            name=NAME,
            region_id=h.region_id,
            test_item_id=h.test_item_id,
            value=str(h.lead_hours),
            created_by_id=h.created_by_id,
            created_at=h.created_at,
            history_date=h.history_date,
            history_change_reason=h.history_change_reason,
            history_type=h.history_type,
            history_user_id=h.history_user_id,
            acting_client_id=h.acting_client_id,
            request_id=h.request_id,
            remote_addr=h.remote_addr,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0005_inspection_plans'),
        ('core', '0005_region_rules'),
    ]

    operations = [
        migrations.RunPython(copy_rules, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='HistoricalPlanLeadRule',
        ),
        migrations.DeleteModel(
            name='PlanLeadRule',
        ),
    ]
