"""Report PDFs point at ``core.StoredFile`` (the same UUIDs: core 0004_storedfile_fill)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_storedfile_fill"),
        ("reports", "0007_finding_fill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="amendment",
            name="pdf",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.storedfile",
                verbose_name="新报告文件",
            ),
        ),
        migrations.AlterField(
            model_name="historicalamendment",
            name="pdf",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="core.storedfile",
                verbose_name="新报告文件",
            ),
        ),
        migrations.AlterField(
            model_name="reportversion",
            name="pdf",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.storedfile",
                verbose_name="报告文件",
            ),
        ),
    ]
