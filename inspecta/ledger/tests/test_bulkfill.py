"""The benchmark's bulk fill (``benchmarks/ledger_fill.py``) writes exactly the rows of
the production path (``log_append_many`` + ``sequence_pending``): same entries, same
tree nodes under the same keys, same roots and proofs; the endpoints serve proofs
that verify afterwards. Without this, the 10M-entry figures would measure another log."""

from __future__ import annotations

import datetime
import importlib
import random
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction

from inspecta.core import immutability
from inspecta.ledger import merkle, services, store
from inspecta.ledger.models import Entry, SequencerState, TreeNode
from inspecta.ledger.testing import get_json, unb64

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
ledger_fill: Any = importlib.import_module("ledger_fill")

pytestmark = pytest.mark.django_db

BASE = "/api/v1/log"
FROZEN = datetime.datetime(2026, 11, 21, 2, 30, 15, 123456, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    """Both paths log and sequence at the same instant, so whole rows can be compared."""
    with mock.patch("django.utils.timezone.now", return_value=FROZEN):
        yield


def _reset() -> None:
    """Empty the log by raw SQL (the application and the database refuse deletes, by
    design: the triggers are lifted as ``flush`` does)."""
    with immutability.suspended("test reset"), connection.cursor() as cursor:
        for model in (Entry, TreeNode, SequencerState):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608


def _entries() -> list[tuple[Any, ...]]:
    rows = Entry.objects.order_by("index").values_list(
        "index", "kind", "record_type", "record_id", "entry", "leaf_hash", "created_at", "sequenced_at"
    )
    return [(i, k, t, r, bytes(e), bytes(h), c, s) for i, k, t, r, e, h, c, s in rows]


def _nodes() -> list[tuple[int, int, int, bytes]]:
    return [
        (i, lv, ix, bytes(h))
        for i, lv, ix, h in TreeNode.objects.order_by("id").values_list("id", "level", "index", "hash")
    ]


def _snapshot() -> tuple[int, list[tuple[Any, ...]], list[tuple[int, int, int, bytes]]]:
    assert not Entry.objects.pending().exists()
    return store.tree_size(), _entries(), _nodes()


def _reference(size: int) -> merkle.MemoryTree:
    """Independent of both paths: leaves from ``services.entry_bytes`` of each record."""
    logged_at = services.format_time(FROZEN)
    tree = merkle.MemoryTree()
    for i in range(size):
        raw = services.entry_bytes(
            kind="bench", record_type="bench.thing", record_id=str(i), logged_at=logged_at, data={"n": i}, files=[]
        )
        tree.append_entry(raw)
    return tree


def test_node_keys_formula_matches_stored_hash_index():
    frontier: list[tuple[int, bytes]] = []
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(1100)]
    tree = merkle.MemoryTree(leaves)
    for node_id, level, index, h in ledger_fill._node_rows(0, leaves, frontier):
        assert node_id == merkle.stored_hash_index(level, index)
        assert h == tree.perfect_hash(level, index)


def test_identical_rows_for_every_size_from_1_to_300():
    # Normal path, one entry per ingest transaction and sequencer run (as in production
    # under a trickle of writes); keep what the log held at each size.
    normal = {}
    for n in range(1, 301):
        ledger_fill.append_normal(n - 1, n)
        normal[n] = _snapshot()
    reference = _reference(300)
    for n in range(1, 301):
        assert store.root(n) == reference.root(n)

    # Bulk path, growing one entry at a time (continues from the stored frontier).
    _reset()
    for n in range(1, 301):
        assert ledger_fill.bulk_fill(n, chunk=7) == 1
        assert _snapshot() == normal[n], n

    # Bulk path from the empty log to each size, in chunks of 16 (chunk edges inside
    # and across perfect subtrees). Back to the empty log by a savepoint: lifting the
    # triggers 300 times in one transaction would exhaust PostgreSQL's lock table.
    _reset()
    empty = transaction.savepoint()
    for n in range(1, 301):
        transaction.savepoint_rollback(empty)
        assert store.tree_size() == 0 and not Entry.objects.exists()
        ledger_fill.bulk_fill(n, chunk=16)
        assert _snapshot() == normal[n], n
        rng = random.Random(n)
        for _ in range(3):
            size = rng.randint(1, n)
            index = rng.randrange(size)
            proof = store.inclusion_proof(index, size)
            assert proof == reference.inclusion_proof(index, size)
            merkle.verify_inclusion(reference.leaf(index), index, size, proof, reference.root(size))
            size1 = rng.randint(1, size)
            assert store.consistency_proof(size1, size) == reference.consistency_proof(size1, size)


def test_identical_rows_and_proofs_at_a_few_thousand(client):
    size = 4321
    ledger_fill.append_normal(0, 1234)  # batches of 1000 as the benchmark appends
    ledger_fill.append_normal(1234, size, batch=777)
    normal = _snapshot()
    assert normal[0] == size and len(normal[1]) == size and len(normal[2]) == 2 * size - size.bit_count()

    _reset()
    assert ledger_fill.bulk_fill(size, chunk=1000) == size
    assert _snapshot() == normal

    # Mixed: the benchmark's own appends first, then the bulk fill continues.
    _reset()
    ledger_fill.append_normal(0, 1234)
    assert ledger_fill.bulk_fill(size, chunk=512) == size - 1234
    assert _snapshot() == normal
    assert ledger_fill.bulk_fill(size) == 0

    # What the endpoints serve now verifies against an independently built tree.
    reference = _reference(size)
    rng = random.Random(4321)
    checks = [(0, 1), (0, size), (size - 1, size), (4095, 4096), (4096, 4097), (1233, 1234)]
    checks += [(rng.randrange(s), s) for s in (rng.randint(1, size) for _ in range(40))]
    for index, s in checks:
        assert store.root(s) == reference.root(s)
        data = get_json(client, f"{BASE}/proof/inclusion", index=index, size=s)
        merkle.verify_inclusion(reference.leaf(index), index, s, [unb64(h) for h in data["hashes"]], reference.root(s))
        size1 = rng.randint(1, s)
        data = get_json(client, f"{BASE}/proof/consistency", **{"from": size1, "size": s})
        hashes = [unb64(h) for h in data["hashes"]]
        merkle.verify_consistency(size1, s, hashes, reference.root(size1), reference.root(s))
    for index in (0, 1233, 1234, size - 1):
        item = get_json(client, f"{BASE}/entries/{index}")
        assert merkle.leaf_hash(unb64(item["entry"])) == reference.leaf(index)


def test_refuses_pending_entries():
    from django.db import transaction

    with transaction.atomic():
        services.log_append_many(kind="bench", records=[ledger_fill.bench_record(0)])
    with pytest.raises(RuntimeError, match="pending"):
        ledger_fill.bulk_fill(10)


def test_entries_for_records_of_another_table():
    """The reports benchmark gives its bulk report versions entries: kind, record type
    and record id as asked, entry bytes as ``services.entry_bytes`` makes them."""

    size = 300
    assert (
        ledger_fill.bulk_fill(
            size, chunk=128, kind="report_version", record_type="reports.reportversion", record_id=lambda i: 5000 + i
        )
        == size
    )
    logged_at = services.format_time(FROZEN)
    rows = _entries()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (i, "report_version", "reports.reportversion", str(5000 + i)) for i in range(size)
    ]
    tree = merkle.MemoryTree()
    for i, row in enumerate(rows):
        raw = services.entry_bytes(
            kind="report_version",
            record_type="reports.reportversion",
            record_id=str(5000 + i),
            logged_at=logged_at,
            data={"n": i},
            files=[],
        )
        assert row[4] == raw and row[5] == merkle.leaf_hash(raw)
        tree.append_entry(raw)
    assert store.root(size) == tree.root(size)
