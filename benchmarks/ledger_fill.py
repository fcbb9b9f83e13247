"""Benchmark tooling: fill the transparency log to a large size fast.

Not application code. ``bulk_fill`` writes exactly the rows that ``log_append_many``
followed by ``sequence_pending`` would have written for the benchmark records
``{"type": "bench.thing", "id": i, "n": i}`` of kind ``bench`` — the sequenced
``ledger_entry`` rows (RFC 8785 entry bytes, leaf hash, ``index``, ``sequenced_at``),
every perfect-subtree ``ledger_treenode`` row keyed by ``merkle.stored_hash_index``,
and the ``SequencerState`` tree size — but computes them in Python in streaming
chunks and loads them with PostgreSQL ``COPY`` (plain ``executemany`` on SQLite), each
chunk in its own transaction like a sequencer batch: about 35,000 entries/s on 2
cores, 10x the ingest path (about an hour for 10,000,000 entries).

``inspecta/ledger/tests/test_bulkfill.py`` proves the rows, roots and proofs identical
to the normal path. ``append_normal`` is that normal path, as the benchmark used it.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator

import rfc8785

__all__ = ["BENCH_KIND", "BENCH_TYPE", "append_normal", "bench_record", "bulk_fill", "entry_template"]

BENCH_KIND = "bench"
BENCH_TYPE = "bench.thing"


def bench_record(i: int) -> dict[str, object]:
    """The ``i``-th benchmark record (what ``log_append_many`` is given)."""
    return {"type": BENCH_TYPE, "id": i, "n": i}


def entry_template(
    kind: str, record_type: str, logged_at: str, record_id: Callable[[int], int] | None = None
) -> Callable[[int], bytes]:
    """``i -> entry bytes`` of ``bench_record(i)``: the RFC 8785 serialisation written
    out (keys sorted, ``data = {"n": i}``, ``id = str(i)`` or ``str(record_id(i))``, no
    files), checked against ``services.entry_bytes`` by ``bulk_fill`` for the first
    entry of every chunk."""

    def s(value: str) -> bytes:
        return bytes(rfc8785.dumps(value))

    head = b'{"data":{"n":'
    mid = b'},"files":[],"id":"'
    tail = b'","kind":' + s(kind) + b',"logged_at":' + s(logged_at) + b',"type":' + s(record_type) + b',"v":1}'

    def make(i: int) -> bytes:
        return b"%s%d%s%d%s" % (head, i, mid, i if record_id is None else record_id(i), tail)

    return make


def append_normal(start: int, end: int, *, batch: int = 1000) -> None:
    """The production path: ``log_append_many`` per ``batch`` records (one transaction
    each), then ``sequence_pending``."""
    from django.db import transaction

    from inspecta.ledger import services

    for b in range(start, end, batch):
        with transaction.atomic():
            services.log_append_many(kind=BENCH_KIND, records=[bench_record(i) for i in range(b, min(b + batch, end))])
    services.sequence_pending()


def _node_rows(
    first: int, leaves: list[bytes], frontier: list[tuple[int, bytes]]
) -> Iterator[tuple[int, int, int, bytes]]:
    """``(id, level, index, hash)`` of every perfect subtree completed by appending
    ``leaves`` at ``first, first + 1, ...``; ``frontier`` (the perfect subtrees of
    ``[0, first)``, levels decreasing) is updated in place. Same rows as
    ``merkle.append_nodes`` + ``merkle.stored_hash_index``: the nodes completed by leaf
    ``n`` are numbered ``2n - popcount(n) + level`` (Go's ``tlog.StoredHashIndex``)."""
    from hashlib import sha256

    n = first
    for leaf in leaves:
        base = 2 * n - n.bit_count()
        yield base, 0, n, leaf
        h, level = leaf, 0
        while frontier and frontier[-1][0] == level:
            h = sha256(b"\x01" + frontier.pop()[1] + h).digest()
            level += 1
            yield base + level, level, n >> level, h
        frontier.append((level, h))
        n += 1


def bulk_fill(
    size: int,
    *,
    chunk: int = 100_000,
    now: datetime.datetime | None = None,
    progress: Callable[[int, float], None] | None = None,
    kind: str = BENCH_KIND,
    record_type: str = BENCH_TYPE,
    record_id: Callable[[int], int] | None = None,
) -> int:
    """Append benchmark entries until the log holds ``size`` sequenced entries.

    Continues from the current tree (its frontier nodes are read from the store);
    refuses to run while entries are pending. ``now`` is the logging and sequencing
    time of every entry (``log_append_many`` also uses one time per call). Returns the
    number of entries added; ``progress(size_so_far, seconds)`` after each chunk.

    ``kind``, ``record_type`` and ``record_id`` (log position -> record id) let the
    entries stand for records of another table (the reports benchmark gives each of its
    bulk report versions an entry); the entry data stays ``{"n": position}``.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from inspecta.ledger import merkle, services, store
    from inspecta.ledger.models import Entry, SequencerState, TreeNode

    now = now or timezone.now()
    have = store.tree_size()
    if size <= have:
        return 0
    if Entry.objects.pending().exists():
        raise RuntimeError("entries are pending: run the sequencer first")
    nodes = store.fetch_nodes(merkle.perfect_subtrees(0, have))
    frontier = [(level, nodes[(level, index)]) for level, index in merkle.perfect_subtrees(0, have)]
    logged_at = services.format_time(now)
    make = entry_template(kind, record_type, logged_at, record_id)
    rid = (lambda i: i) if record_id is None else record_id
    entry_table = connection.ops.quote_name(Entry._meta.db_table)
    node_table = connection.ops.quote_name(TreeNode._meta.db_table)
    col = connection.ops.quote_name("index")
    entry_cols = f"kind, record_type, record_id, entry, leaf_hash, created_at, {col}, sequenced_at"
    postgres = connection.vendor == "postgresql"
    stamp = connection.ops.adapt_datetimefield_value(now)  # what the ORM would store
    leaf_hash = merkle.leaf_hash
    started = time.perf_counter()

    for start in range(have, size, chunk):
        end = min(start + chunk, size)
        expected = services.entry_bytes(
            kind=kind,
            record_type=record_type,
            record_id=str(rid(start)),
            logged_at=logged_at,
            data={"n": start},
            files=[],
        )
        if make(start) != expected:
            raise AssertionError(f"entry template differs from services.entry_bytes: {make(start)!r}")
        raws = [make(i) for i in range(start, end)]
        leaves = [leaf_hash(raw) for raw in raws]
        with transaction.atomic():
            state = SequencerState.objects.select_for_update().filter(pk=1).first()
            if (state.size if state else 0) != start:
                raise RuntimeError("the log grew during the bulk fill")
            if postgres:
                connection.ensure_connection()
                raw_cursor = connection.connection.cursor()  # psycopg 3: cursor.copy
                with raw_cursor.copy(f"COPY {entry_table} ({entry_cols}) FROM STDIN") as copy:
                    for i, (raw, leaf) in enumerate(zip(raws, leaves, strict=True), start):
                        copy.write_row((kind, record_type, str(rid(i)), raw, leaf, stamp, i, stamp))
                with raw_cursor.copy(f"COPY {node_table} (id, level, {col}, hash) FROM STDIN") as copy:
                    for row in _node_rows(start, leaves, frontier):
                        copy.write_row(row)
                raw_cursor.close()
            else:
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {entry_table} ({entry_cols}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                        [
                            (kind, record_type, str(rid(i)), raw, leaf, stamp, i, stamp)
                            for i, (raw, leaf) in enumerate(zip(raws, leaves, strict=True), start)
                        ],
                    )
                    cursor.executemany(
                        f"INSERT INTO {node_table} (id, level, {col}, hash) VALUES (%s, %s, %s, %s)",  # noqa: S608
                        list(_node_rows(start, leaves, frontier)),
                    )
            SequencerState.objects.update_or_create(pk=1, defaults={"size": end, "updated_at": now})
        del raws, leaves
        if progress:
            progress(end, time.perf_counter() - started)
    return size - have
