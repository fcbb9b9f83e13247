"""Tests of data migrations: undo to an older state, write rows as they were, redo.

Undoing a migration makes Django render the project state of every later migration of
every app (a few minutes now that the graph is long); on SQLite each altered table is
also rebuilt, in both directions. The data migrations are the same Python on both
databases, so their tests undo and redo on PostgreSQL only (``on_postgresql``); every
test database, SQLite included, is still built by running every migration forward.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inspecta.core import immutability

__all__ = ["migrate_to", "on_postgresql"]

on_postgresql = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="undoing migrations rebuilds every later SQLite table (minutes); run on PostgreSQL",
)


def migrate_to(targets: list[tuple[str, str]]) -> MigrationExecutor:
    """Migrate to ``targets`` (backwards or forwards), as the migrate command does: the
    immutability triggers are off while old-state rows are written between the two
    migrations and come back at the latest state only."""

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    immutability.remove()
    executor.migrate(targets)
    if set(targets) == set(executor.loader.graph.leaf_nodes()):
        immutability.install()
    return MigrationExecutor(connection)
