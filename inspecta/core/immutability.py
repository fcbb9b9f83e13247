"""Audit records are immutable in the database, not only in the model (GB/T 22239-2019
level 2, 8.1.4.3 c: audit records are protected from deletion, change and overwriting;
Guangxi 第七条(八); T/CECS 7.2.3).

The models refuse ``save()`` of an existing row and ``delete()`` (``core.audit.AuditRecord``,
``ledger.Entry``, ``ledger.TreeNode``), but a queryset ``update()``, raw SQL or another
client would still change the rows. Database triggers, on PostgreSQL and SQLite alike,
refuse:

- any ``UPDATE`` or ``DELETE`` (and, on PostgreSQL, ``TRUNCATE``) of a row of every
  history table (every model built on ``AuditRecord``, i.e. every ``audited()`` model's
  historical table, present and future);
- any ``DELETE``/``TRUNCATE`` of a transparency-log entry, any ``UPDATE`` of an entry
  once sequenced, and any ``UPDATE`` of an entry's recorded columns (only the sequencer
  fills in ``index``/``sequenced_at``, once);
- any ``UPDATE``, ``DELETE`` or ``TRUNCATE`` of a tree node;
- any ``UPDATE``, ``DELETE`` or ``TRUNCATE`` of a row of a model that declares
  ``append_only = True`` (``testing.InstrumentRecord``: data the instruments collected).

The triggers are (re)installed after every ``migrate`` (``post_migrate``), so a history
table added later is covered as soon as it exists; ``test_immutability`` checks that
every protected table carries them. They are lifted only by the two maintenance paths
that must rewrite or empty these tables, for the duration of the command: ``migrate``
(``pre_migrate``: a data migration may rewrite a foreign-key column of a history table,
as the move onto ``core.StoredFile`` did; SQLite rebuilds a table it alters) and
``flush`` (which empties the whole database: tests between transactional test cases).
Both are operator commands run with the database owner's rights, and both are logged
(``inspecta.security``). Nothing else in the platform deletes audit rows: there is no
retention job for them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from .audit import AuditRecord

__all__ = ["append_only_tables", "install", "protected_tables", "remove", "suspended", "triggers_present"]

log = logging.getLogger("inspecta.security")

PREFIX = "inspecta_immutable"
LEDGER_ENTRY = "ledger_entry"
TREE_NODE = "ledger_treenode"
# the columns the sequencer never writes: fixed when the entry is appended
ENTRY_RECORDED = ("kind", "record_type", "record_id", "entry", "leaf_hash", "created_at")


def history_tables() -> list[str]:
    """The table of every historical model (``audited()``), in a stable order."""

    return sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True) if issubclass(m, AuditRecord)})


def append_only_tables() -> list[str]:
    """The table of every model that declares ``append_only = True``: records written once
    and never changed (instrument data collected by the instruments themselves)."""

    return sorted({m._meta.db_table for m in apps.get_models() if getattr(m, "append_only", False)})


def protected_tables() -> list[str]:
    return [*history_tables(), *append_only_tables(), LEDGER_ENTRY, TREE_NODE]


def _existing(connection: BaseDatabaseWrapper) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


# --- PostgreSQL --------------------------------------------------------------------

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION {PREFIX}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are immutable: % of %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE OR REPLACE FUNCTION {PREFIX}_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD."index" IS NOT NULL
       OR ({", ".join(f'NEW."{c}"' for c in ENTRY_RECORDED)})
          IS DISTINCT FROM ({", ".join(f'OLD."{c}"' for c in ENTRY_RECORDED)}) THEN
        RAISE EXCEPTION 'log entries are immutable once sequenced: % of %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
"""


def _pg_install(connection: BaseDatabaseWrapper, tables: list[str]) -> None:
    q = connection.ops.quote_name
    statements = [PG_FUNCTIONS]
    for table in tables:
        if table == LEDGER_ENTRY:
            statements += [
                f"CREATE OR REPLACE TRIGGER {PREFIX}_u BEFORE UPDATE ON {q(table)} "
                f"FOR EACH ROW EXECUTE FUNCTION {PREFIX}_entry()",
                f"CREATE OR REPLACE TRIGGER {PREFIX}_d BEFORE DELETE ON {q(table)} "
                f"FOR EACH ROW EXECUTE FUNCTION {PREFIX}_refuse()",
            ]
        else:
            statements.append(
                f"CREATE OR REPLACE TRIGGER {PREFIX}_ud BEFORE UPDATE OR DELETE ON {q(table)} "
                f"FOR EACH ROW EXECUTE FUNCTION {PREFIX}_refuse()"
            )
        statements.append(
            f"CREATE OR REPLACE TRIGGER {PREFIX}_t BEFORE TRUNCATE ON {q(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}_refuse()"
        )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _pg_present(connection: BaseDatabaseWrapper) -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE %s AND n.nspname = current_schema()",
            [PREFIX + "%"],
        )
        found: dict[str, set[str]] = {}
        for table, name in cursor.fetchall():
            found.setdefault(table, set()).add(name)
        return found


def _pg_remove(connection: BaseDatabaseWrapper) -> None:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, names in _pg_present(connection).items():
            for name in names:
                cursor.execute(f"DROP TRIGGER IF EXISTS {q(name)} ON {q(table)}")


# --- SQLite ------------------------------------------------------------------------


def _sqlite_install(connection: BaseDatabaseWrapper, tables: list[str]) -> None:
    q = connection.ops.quote_name
    statements = []
    for table in tables:
        refuse = f"SELECT RAISE(ABORT, 'audit records are immutable: {table}');"
        if table == LEDGER_ENTRY:
            changed = " OR ".join(f"NEW.{q(c)} IS NOT OLD.{q(c)}" for c in ENTRY_RECORDED)
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {PREFIX}_u_{table} BEFORE UPDATE ON {q(table)} "
                f'WHEN OLD."index" IS NOT NULL OR {changed} BEGIN {refuse} END'
            )
        else:
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {PREFIX}_u_{table} BEFORE UPDATE ON {q(table)} BEGIN {refuse} END"
            )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {PREFIX}_d_{table} BEFORE DELETE ON {q(table)} BEGIN {refuse} END"
        )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _sqlite_present(connection: BaseDatabaseWrapper) -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [PREFIX + "%"]
        )
        found: dict[str, set[str]] = {}
        for table, name in cursor.fetchall():
            found.setdefault(table, set()).add(name)
        return found


def _sqlite_remove(connection: BaseDatabaseWrapper) -> None:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for names in _sqlite_present(connection).values():
            for name in names:
                cursor.execute(f"DROP TRIGGER IF EXISTS {q(name)}")


# --- the interface -----------------------------------------------------------------


def install(using: str = "default") -> list[str]:
    """Install (or refresh) the triggers on every protected table that exists; returns
    the tables covered."""

    connection = connections[using]
    tables = [t for t in protected_tables() if t in _existing(connection)]
    if connection.vendor == "postgresql":
        _pg_install(connection, tables)
    elif connection.vendor == "sqlite":
        _sqlite_install(connection, tables)
    return tables


def remove(using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        _pg_remove(connection)
    elif connection.vendor == "sqlite":
        _sqlite_remove(connection)


def triggers_present(using: str = "default") -> dict[str, set[str]]:
    """The immutability triggers in the database, by table."""

    connection = connections[using]
    if connection.vendor == "postgresql":
        return _pg_present(connection)
    if connection.vendor == "sqlite":
        return _sqlite_present(connection)
    return {}


@contextlib.contextmanager
def suspended(why: str, using: str = "default") -> Iterator[None]:
    """Lift the triggers for a maintenance command (``migrate``, ``flush``) and put them
    back afterwards, whatever happens; logged."""

    log.warning("audit immutability lifted on %s for %s", using, why)
    remove(using)
    try:
        yield
    finally:
        install(using)
        log.warning("audit immutability restored on %s after %s", using, why)


def before_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    log.warning("audit immutability lifted on %s for migrate", using)
    remove(using)


def after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    install(using)
