"""The index of the report change feed, ``(updated_at, id)``: the feed's order
(``core.pagination.Keyset``). Built ``CONCURRENTLY`` on PostgreSQL, so reports keep being
accepted while it is built on a big table (hence a migration of its own, outside a
transaction); other databases build it as usual."""

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """``AddIndexConcurrently`` on PostgreSQL, ``AddIndex`` elsewhere."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('reports', '0012_report_updated_at'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='report',
            index=models.Index(fields=['updated_at', 'id'], name='reports_report_feed_idx'),
        ),
    ]
