"""Near-duplicate photo search at volume (the sampling issue's benchmark).

PostgreSQL only: ``DATABASE_URL`` when it names PostgreSQL (a scratch database), else a
freshly recreated ``inspecta_bench_sampling`` on ``postgres://postgres@127.0.0.1:5432``.

``--photos`` (default 1,000,000) photo rows are written with COPY, each with a random
64-bit perceptual hash split into its four indexed 16-bit bands, as
``sampling.SamplePhoto`` stores them; a tenth of the queries are near-duplicates
(3-6 bits flipped) of stored hashes. Figures:

- ``photo_near_duplicate_p95_ms``: p95 latency of ``sampling.photos.near_duplicates``
  (the 4 x 17 band probes through the indexes, exact distance on the candidates) — target
  p95 <= 50 ms — against ``photo_linear_scan_p95_ms``, the same question answered by a
  bare sequential scan computing the Hamming distance of every row in SQL
  (``bit_count(a # b)``) in the same run. ``ratio`` = indexed / linear: the share of the
  linear scan's time the index path takes (lower is better); both answer the same rows
  (checked, ``same_answers_as_linear_scan``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _django import emit, setup_django

SCRATCH_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SCRATCH_DB = "inspecta_bench_sampling"


def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql", "postgis")


def choose_database() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if _is_postgres(url):
        return
    import psycopg

    with psycopg.connect(SCRATCH_ADMIN_URL.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(SCRATCH_ADMIN_URL)._replace(path="/" + SCRATCH_DB))


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args, _unknown = parser.parse_known_args()
    choose_database()
    setup_django()
    from django.conf import settings
    from django.db import connection

    from inspecta.core.imaging import phash_bands
    from inspecta.core.models import StoredFile
    from inspecta.core.testing.factories import authority_tree
    from inspecta.sampling import services
    from inspecta.sampling.models import Sample, SamplePhoto
    from inspecta.sampling.photos import near_duplicates
    from inspecta.sampling.testing import record_kwargs, sampling_scene

    rnd = random.Random(20261207)
    hashes = [f"{rnd.getrandbits(64):016x}" for _ in range(args.photos)]

    # one sample and one file that every bench row points at (the search reads hashes only)
    scene = sampling_scene(authority_tree())
    sample: Sample = services.sample_record(**record_kwargs(scene, seed=1))
    stored: StoredFile = sample.photos.first().file  # type: ignore[union-attr]
    table = SamplePhoto._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        with raw.copy(
            f"COPY {table} (sample_id, kind, file_id, sha256, phash, band0, band1, band2, band3, created_at) FROM STDIN"
        ) as copy:
            for h in hashes:
                b = phash_bands(h)
                copy.write_row(
                    (sample.pk, "specimen", stored.pk, "0" * 64, h, b[0], b[1], b[2], b[3], "2026-01-01T00:00:00Z")
                )
        cursor.execute(f"ANALYZE {table}")
    fill_seconds = time.perf_counter() - started

    queries = []
    for i in range(args.queries):
        if i % 10 == 0:  # a near-duplicate of a stored photo
            value = int(rnd.choice(hashes), 16)
            for bit in rnd.sample(range(64), rnd.randint(3, 6)):
                value ^= 1 << bit
            queries.append(f"{value:016x}")
        else:
            queries.append(f"{rnd.getrandbits(64):016x}")

    indexed: list[float] = []
    found_indexed = []
    for q in queries:
        t0 = time.perf_counter()
        found_indexed.append(sorted(n.photo_id for n in near_duplicates(q, limit=1000)))
        indexed.append((time.perf_counter() - t0) * 1000)

    linear: list[float] = []
    found_linear = []
    threshold = settings.INSPECTA_PHOTO_DUPLICATE_DISTANCE
    with connection.cursor() as cursor:
        for q in queries[: max(20, args.queries // 10)]:
            t0 = time.perf_counter()
            cursor.execute(
                f"SELECT id FROM {table} WHERE phash <> '' AND "  # noqa: S608 - the model's own table name
                "bit_count(('x' || phash)::bit(64) # ('x' || %s)::bit(64)) <= %s ORDER BY id",
                [q, threshold],
            )
            found_linear.append([r[0] for r in cursor.fetchall()])
            linear.append((time.perf_counter() - t0) * 1000)
    agree = all(a == b for a, b in zip(found_indexed, found_linear, strict=False))
    hits = sum(1 for f in found_indexed if f)
    indexed_p95, linear_p95 = p95(indexed), p95(linear)
    emit(
        "photo_near_duplicate_p95_ms",
        indexed_p95,
        "ms",
        "photo_linear_scan_p95_ms",
        linear_p95,
        photos=args.photos,
        queries=len(queries),
        queries_with_a_match=hits,
        same_answers_as_linear_scan=agree,
        fill_seconds=round(fill_seconds, 1),
        target_p95_ms=50,
        note="ratio = indexed / linear latency (lower is better)",
    )


if __name__ == "__main__":
    main()
