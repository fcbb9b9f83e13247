# ruff: noqa: S608  (raw SQL on fixed table names is the point of these tests)
"""Audit rows, log entries and tree nodes are immutable in the database (GB/T 22239
level 2 audit protection; ``inspecta.core.immutability``), checked with raw SQL on the
database of the run (SQLite, or PostgreSQL with ``DATABASE_URL``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from inspecta.accounts.models import Organisation
from inspecta.core import immutability
from inspecta.core.audit import AuditRowImmutable
from inspecta.ledger.models import Entry, TreeNode
from inspecta.ledger.services import log_append, sequence_pending

pytestmark = pytest.mark.django_db


def _refused(sql: str, params: list[Any] | None = None) -> bool:
    """Whether the database refuses the statement (nothing changed)."""

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params or [])
    except DatabaseError:
        return True
    return False


def _count(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def test_every_history_table_and_the_log_carry_the_triggers(db: None) -> None:
    """A history table added later is covered too: the triggers follow the models after
    every migrate, and this fails if one lacks them."""

    tables = immutability.protected_tables()
    assert "accounts_historicalorganisation" in tables and "ledger_entry" in tables and "ledger_treenode" in tables
    present = immutability.triggers_present()
    missing = [t for t in tables if len(present.get(t, ())) < 2]
    assert not missing, f"tables without immutability triggers: {missing}"


def test_history_rows_refuse_update_and_delete(tree: dict[str, Any]) -> None:
    Historical = Organisation.history.model  # type: ignore[attr-defined]
    table = Historical._meta.db_table
    row = Historical.objects.filter(id=tree["gz"].pk).order_by("history_id").first()
    assert row is not None
    q = connection.ops.quote_name
    assert _refused(f"UPDATE {q(table)} SET name = %s WHERE history_id = %s", ["篡改", row.history_id])
    assert _refused(f"UPDATE {q(table)} SET history_user_id = NULL WHERE history_id = %s", [row.history_id])
    assert _refused(f"DELETE FROM {q(table)} WHERE history_id = %s", [row.history_id])
    assert _refused(f"DELETE FROM {q(table)}")
    if connection.vendor == "postgresql":
        assert _refused(f"TRUNCATE {q(table)} CASCADE")
    # the queryset path the model could not stop before
    with pytest.raises(DatabaseError), transaction.atomic():
        Historical.objects.filter(history_id=row.history_id).update(name="篡改")
    with pytest.raises(AuditRowImmutable):
        row.delete()
    row.refresh_from_db()
    assert row.name == tree["gz"].name
    # new history rows are still written
    before = Historical.objects.count()
    tree["gz"].name = "广州市住房和城乡建设局（新）"
    tree["gz"].save()
    assert Historical.objects.count() == before + 1


def _entry() -> Entry:
    with transaction.atomic():
        return log_append(kind="test", record={"type": "test", "id": "x-1", "text": "原文"})


def test_log_entries_are_sequenced_once_and_never_changed(db: None) -> None:
    entry = _entry()
    q = connection.ops.quote_name
    table, pk = q("ledger_entry"), entry.pk
    # while pending: only the sequencer's columns may be filled in, nothing recorded changes
    assert _refused(f"UPDATE {table} SET entry = %s WHERE id = %s", [b"forged", pk])
    assert _refused(f"UPDATE {table} SET kind = %s WHERE id = %s", ["forged", pk])
    assert _refused(f"DELETE FROM {table} WHERE id = %s", [pk])
    assert sequence_pending() >= 1
    entry.refresh_from_db()
    assert entry.index is not None
    # once sequenced: no change at all
    assert _refused(f'UPDATE {table} SET "index" = %s WHERE id = %s', [entry.index + 1000, pk])
    assert _refused(f"UPDATE {table} SET sequenced_at = NULL WHERE id = %s", [pk])
    assert _refused(f"DELETE FROM {table} WHERE id = %s", [pk])
    if connection.vendor == "postgresql":
        assert _refused(f"TRUNCATE {table} CASCADE")
    assert _count(f'SELECT COUNT(*) FROM {table} WHERE id = %s AND "index" = %s', [pk, entry.index]) == 1


def test_tree_nodes_are_never_changed(db: None) -> None:
    _entry()
    _entry()
    sequence_pending()
    node = TreeNode.objects.order_by("id").first()
    assert node is not None
    q = connection.ops.quote_name
    table = q("ledger_treenode")
    assert _refused(f"UPDATE {table} SET hash = %s WHERE id = %s", [b"\0" * 32, node.pk])
    assert _refused(f"DELETE FROM {table} WHERE id = %s", [node.pk])
    assert bytes(TreeNode.objects.get(pk=node.pk).hash) == bytes(node.hash)


def test_suspended_lifts_the_triggers_and_puts_them_back(db: None) -> None:
    with immutability.suspended("test"):
        assert not immutability.triggers_present()
    assert immutability.triggers_present().keys() >= set(immutability.protected_tables())
