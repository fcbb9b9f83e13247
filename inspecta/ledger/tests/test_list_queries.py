"""Log lists, API and the explorer, do a constant number of queries (STYLE.md 14), built
with ``n`` and ``3n`` entries appended and sequenced through the real services."""

from __future__ import annotations

import pytest

from inspecta.core.testing.queries import assert_queries_constant, guards, json_rows
from inspecta.ledger import services
from inspecta.ledger.testing import append

pytestmark = pytest.mark.django_db


def _entries():
    appended = 0

    def grow(k: int) -> None:
        nonlocal appended
        append(k, start=appended)
        appended += k
        services.sequence_pending()
        services.checkpoint_publish(force=True)

    return grow


def _keys(k: int) -> None:
    for _i in range(k):
        services.signing_key_rotate()


@guards("inspecta_ledger_api_entries")
def test_entry_range_api(client):
    assert_queries_constant(
        lambda: client.get("/api/v1/log/entries?start=0&end=1000"), _entries(), limit=6, rows=json_rows("items")
    )


@guards("inspecta_ledger_api_keys")
def test_key_history_api(client):
    assert_queries_constant(lambda: client.get("/api/v1/log/keys"), _keys, limit=6, rows=json_rows("items"))


def test_explorer_home(client):
    assert_queries_constant(lambda: client.get("/log/"), _entries(), limit=12)
