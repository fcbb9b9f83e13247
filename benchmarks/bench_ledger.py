"""Transparency log throughput and proof latency, with the PyPI
package ``pymerkle`` (``SqliteTree``, persistent like ours) as the peer in the same run.

Figures (one JSON line each; ``ratio`` = ours / peer):

* ``ledger_append_single``: ``log_append`` calls per second, each in its own
  transaction (the ingest path; sequencing runs separately, as in production);
  peer: ``SqliteTree.append_entry`` (one commit each).
* ``ledger_append_batched``: entries per second appended 1000 per transaction
  (``log_append_many``) *and* integrated by the sequencer; peer:
  ``SqliteTree.append_entries`` of 1000.
* ``ledger_inclusion_proof_ms`` / ``ledger_consistency_proof_ms``: median server-side
  time of ``store.inclusion_proof`` / ``store.consistency_proof`` (the functions behind
  the endpoints: one indexed query plus hashing) at ``--size`` entries, random
  (index, size) pairs in the upper half of the tree; ``p99_ms`` beside; target <= 2 ms;
  peer: ``prove_inclusion`` / ``prove_consistency`` on a ``SqliteTree`` of the same
  entries.

Run: ``uv run python benchmarks/bench_ledger.py`` (default 200,000 entries, a few
minutes on 2 cores, throw-away SQLite file) or through ``benchmarks/run.py --only
ledger``. At the issue's 10,000,000 entries, on PostgreSQL (a scratch database!)::

    createdb -h 127.0.0.1 -U postgres inspecta_bench_ledger
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inspecta_bench_ledger \\
        uv run python benchmarks/bench_ledger.py --size 10000000 --peer-size 10000000
    dropdb -h 127.0.0.1 -U postgres inspecta_bench_ledger

``--fill`` chooses how the tree is grown to ``--size``: ``normal`` is the ingest path
(``log_append_many`` per 1000 + the sequencer, 3,000-12,000 entries/s on 2 cores, so
about an hour for 10M); ``bulk`` (``benchmarks/ledger_fill.py``) writes the very same
rows (entries, tree nodes, sequencer state; proved identical by
``inspecta/ledger/tests/test_bulkfill.py``) computed in Python and loaded with
PostgreSQL ``COPY``, 30,000-50,000 entries/s; ``auto`` (default) is bulk above
1,000,000. The fill itself is not a figure of the benchmark (its time and rate are
reported beside the proof latencies). 10M entries take about 6.5 GB in PostgreSQL and
1.7 GB in the pymerkle SQLite file (``--peer-size`` caps the peer tree). Measured
figures: ``docs/ledger.md`` (Performance).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ledger_fill
from _django import emit, setup_django


def _entry(i: int) -> bytes:
    return b'{"data":{"n":%d},"id":"%d","kind":"bench","type":"bench.thing"}' % (i, i)


def _latencies(
    fn: Callable[[int, int], Any], pairs: list[tuple[int, int]], budget: float, least: int = 20
) -> list[float]:
    """Milliseconds per call over ``pairs`` (stops after ``budget`` seconds and ``least`` calls)."""
    out = []
    started = time.perf_counter()
    for a, b in pairs:
        t = time.perf_counter()
        fn(a, b)
        out.append((time.perf_counter() - t) * 1000)
        if time.perf_counter() - started > budget and len(out) >= least:
            break
    return out


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=200_000, help="entries in the tree for the proof latencies")
    parser.add_argument("--peer-size", type=int, default=None, help="entries in the pymerkle tree (default: --size)")
    parser.add_argument("--single", type=int, default=2000, help="single appends to time")
    parser.add_argument("--batches", type=int, default=20, help="batches of 1000 to time")
    parser.add_argument("--samples", type=int, default=300, help="proofs to time")
    parser.add_argument(
        "--fill",
        choices=("auto", "bulk", "normal"),
        default="auto",
        help="how to fill to --size: normal = log_append_many + sequencer (the ingest path), "
        "bulk = the same rows computed in Python and loaded with COPY (benchmarks/ledger_fill.py); "
        "auto = bulk above 1,000,000 entries",
    )
    args, _unknown = parser.parse_known_args()
    setup_django()

    from django.db import connection, transaction
    from pymerkle import SqliteTree

    from inspecta.ledger import merkle, services, store

    scratch = Path(tempfile.mkdtemp(prefix="inspecta-bench-pymerkle-"))
    peer = SqliteTree(str(scratch / "single.db"))

    # --- single appends, each in its own transaction -----------------------------
    n = args.single
    t = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            services.log_append(kind="bench", record={"type": "bench.thing", "id": i, "n": i})
    ours_single = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(n):
        peer.append_entry(_entry(i))
    peer_single = n / (time.perf_counter() - t)
    emit("ledger_append_single", ours_single, "appends/s", "pymerkle_sqlite_append_entry", peer_single, appends=n)
    services.sequence_pending()
    peer.close()

    # --- batched appends + sequencing ---------------------------------------------
    peer = SqliteTree(str(scratch / "batched.db"))
    total = args.batches * 1000
    t = time.perf_counter()
    for b in range(args.batches):
        with transaction.atomic():
            services.log_append_many(
                kind="bench",
                records=[{"type": "bench.thing", "id": i, "n": i} for i in range(b * 1000, (b + 1) * 1000)],
            )
    appended = time.perf_counter() - t
    services.sequence_pending()
    ours_batched = total / (time.perf_counter() - t)
    t = time.perf_counter()
    for b in range(args.batches):
        peer.append_entries([_entry(i) for i in range(b * 1000, (b + 1) * 1000)])
    peer_batched = total / (time.perf_counter() - t)
    emit(
        "ledger_append_batched",
        ours_batched,
        "entries/s",
        "pymerkle_sqlite_append_entries",
        peer_batched,
        entries=total,
        append_only_rate=round(total / appended, 1),
    )
    peer.close()

    # --- fill to --size ------------------------------------------------------------
    size = args.size
    have = store.tree_size()
    fill = args.fill if args.fill != "auto" else ("bulk" if size > 1_000_000 else "normal")

    def progress(done: int, seconds: float) -> None:
        sys.stderr.write(f"fill ({fill}): {done:,} entries, {seconds:.0f} s, {(done - have) / seconds:,.0f}/s\n")
        sys.stderr.flush()

    t = time.perf_counter()
    if fill == "bulk":
        ledger_fill.bulk_fill(size, progress=progress)
    else:
        chunk = 100_000
        for start in range(have, size, chunk):
            ledger_fill.append_normal(start, min(start + chunk, size))
            progress(min(start + chunk, size), time.perf_counter() - t)
    ours_fill = time.perf_counter() - t
    size = store.tree_size()
    db_bytes = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Statistics as autovacuum would have them on a live node.
            cursor.execute("ANALYZE ledger_entry")
            cursor.execute("ANALYZE ledger_treenode")
            cursor.execute("SELECT pg_database_size(current_database())")
            db_bytes = cursor.fetchone()[0]
    table = connection.ops.quote_name("ledger_entry")
    chunk = 100_000

    peer_size = min(args.peer_size or size, size)
    peer = SqliteTree(str(scratch / "large.db"))
    t = time.perf_counter()
    # The same leaves as ours, in index order.
    for start in range(0, peer_size, chunk):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT entry FROM {table} WHERE {connection.ops.quote_name('index')} >= %s AND "  # noqa: S608
                f"{connection.ops.quote_name('index')} < %s ORDER BY {connection.ops.quote_name('index')}",
                [start, min(start + chunk, peer_size)],
            )
            peer.append_entries(bytes(r[0]) for r in cursor.fetchall())
    peer_fill = time.perf_counter() - t
    roots_agree = peer.get_root(peer_size) == store.root(peer_size)

    rng = random.Random(10_000_000)
    pairs = []
    for _ in range(args.samples):
        s = rng.randint(max(1, size // 2), size)
        pairs.append((rng.randrange(s), s))
    peer_pairs = []
    for _ in range(args.samples):
        s = rng.randint(max(1, peer_size // 2), peer_size)
        peer_pairs.append((rng.randrange(s), s))

    # Correctness of what is timed: our proofs verify against our roots.
    for index, s in pairs[:20]:
        merkle.verify_inclusion(
            store.fetch_nodes([(0, index)])[(0, index)], index, s, store.inclusion_proof(index, s), store.root(s)
        )

    ours = _latencies(store.inclusion_proof, pairs, budget=60)
    theirs = _latencies(lambda i, s: peer.prove_inclusion(i + 1, s), peer_pairs, budget=60, least=10)
    emit(
        "ledger_inclusion_proof_ms",
        statistics.median(ours),
        "ms",
        "pymerkle_sqlite_prove_inclusion",
        statistics.median(theirs),
        better="lower",
        p99_ms=round(_p99(ours), 3),
        peer_p99_ms=round(_p99(theirs), 3),
        target_ms=2,
        size=size,
        peer_size=peer_size,
        samples=len(ours),
        peer_samples=len(theirs),
        fill=fill,
        fill_s=round(ours_fill, 1),
        fill_rate=round((size - have) / ours_fill, 1) if size > have else None,
        peer_fill_s=round(peer_fill, 1),
        peer_fill_rate=round(peer_size / peer_fill, 1) if peer_fill else None,
        roots_agree=roots_agree,
        db_bytes=db_bytes,
        database=connection.vendor,
    )

    cons_pairs = [(rng.randint(1, s), s) for _, s in pairs]
    peer_cons = [(rng.randint(1, s), s) for _, s in peer_pairs]
    ours = _latencies(store.consistency_proof, cons_pairs, budget=60)
    theirs = _latencies(peer.prove_consistency, peer_cons, budget=60, least=10)
    emit(
        "ledger_consistency_proof_ms",
        statistics.median(ours),
        "ms",
        "pymerkle_sqlite_prove_consistency",
        statistics.median(theirs),
        better="lower",
        p99_ms=round(_p99(ours), 3),
        peer_p99_ms=round(_p99(theirs), 3),
        target_ms=2,
        size=size,
        peer_size=peer_size,
        samples=len(ours),
        peer_samples=len(theirs),
        database=connection.vendor,
    )
    peer.close()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
