"""``Report.updated_at``: the last change of a report, the key of the change feed
(``GET /api/v1/reports/feed``).

Existing reports (and their audit rows) get the time of the migration, one constant:
PostgreSQL (11+) adds a column with a constant default without rewriting the table, so
the migration is cheap on a big table. Copying each report's ``issued_at`` instead would
rewrite every row under lock; the constant is also the truthful answer to a feed read
since before the migration: every existing report is "changed at or after" it, so a
client syncing from an earlier time gets all of them once, and nothing is missed."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0011_report_draft_signoff'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalreport',
            name='updated_at',
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, editable=False, verbose_name='修改时间'),
            preserve_default=False,
        ),
        # an ``auto_now`` column is added with the current time as the value of the rows
        # already there (``BaseDatabaseSchemaEditor.effective_default``)
        migrations.AddField(
            model_name='report',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, verbose_name='修改时间'),
        ),
    ]
