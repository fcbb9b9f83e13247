"""Contract scans point at ``core.StoredFile`` (the same UUIDs: core 0004_storedfile_fill)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_storedfile_fill"),
        ("projects", "0003_audit_acting_client"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contract",
            name="scan",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.storedfile",
                verbose_name="合同扫描件",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcontract",
            name="scan",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="core.storedfile",
                verbose_name="合同扫描件",
            ),
        ),
    ]
