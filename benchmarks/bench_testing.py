"""Batch ingest of instrument readings (the test-data issue's first benchmark).

PostgreSQL (a scratch database as ``bench_reports`` chooses it) and ``wrk``. One agency's
LIMS posts ``POST /api/v1/testing/instrument-records`` signed (RFC 9421, Ed25519) with an
``Idempotency-Key``, 100 readings per call, each with a 2,000-point force-time curve
(``--readings``, ``--points``), every reading new; served by gunicorn (sync workers).

Baseline in the same run: the same bodies posted to a FastAPI + asyncpg app
(``baseline_fastapi.py``, uvicorn workers under gunicorn, as many) that packs each curve
the product's way and COPYs the rows into the same partitioned table: the ingest ceiling
on this machine. Figure: ``instrument_ingest_signed`` in readings/s, ``ratio`` = product /
ceiling (target >= 0.5).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_reports as br  # noqa: E402

PATH = "/api/v1/testing/instrument-records"


def log(message: str) -> None:
    sys.stderr.write(f"[bench_testing] {message}\n")
    sys.stderr.flush()


def batch(fx: Any, tag: str, readings: int, points: int) -> bytes:
    """``readings`` new readings of one call (source ids unique to ``tag``)."""

    now = time.time()
    items = []
    for i in range(readings):
        peak = 1000 + (i % 37)
        force = [round(peak * math.sin(math.pi * k / points) ** 2, 2) for k in range(points)]
        items.append(
            {
                "source_id": f"{tag}-{i:03d}",
                "record_number": f"BENCH-{tag}",
                "equipment": fx.made["equipment"].asset_no,
                "parameter": "IP-0003",
                "specimen": i % 6 + 1,
                "collected_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 60)),
                "value": f"{max(force):.2f}",
                "unit": "kN",
                "curve": {"y": force, "dt": 0.01, "x_unit": "s", "y_unit": "kN"},
            }
        )
    return json.dumps({"records": items}, separators=(",", ":")).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--readings", type=int, default=100)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=0, help="calls prepared per run (default: sized by a probe)")
    args, _unknown = parser.parse_known_args()
    if br.shutil.which("wrk") is None:
        raise SystemExit("bench_testing needs wrk (apt-get install -y wrk)")
    dsn = br.choose_database()
    br.choose_redis()
    os.environ.setdefault("INSPECTA_VAR_DIR", tempfile.mkdtemp(prefix="inspecta-bench-testing-var-"))
    log(f"database {urlsplit(dsn).path[1:]}")
    from _django import emit, setup_django

    setup_django()
    from django.db import connection

    from inspecta.testing.models import InstrumentRecord

    fx = br.build_fixture(1)
    connection.close()
    folder = br.settings_dir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_reports_settings",
        "PYTHONPATH": os.pathsep.join([str(folder), str(HERE), str(br.ROOT)]),
        "INSPECTA_BENCH_AGENCY_ID": str(fx.agency.pk),
    }
    wrk = br.Wrk(args.threads, args.connections, args.seconds)
    run = uuid.uuid4().hex[:6]
    servers: list[br.Server] = []
    try:
        django = br.start_gunicorn(args.workers, env)
        servers.append(django)
        # a probe sizes the pools: enough distinct calls for the run, none replayed
        import requests

        probe = batch(fx, f"{run}-probe", args.readings, args.points)
        url = f"{django.base}{PATH}"
        headers = fx.signer.headers("POST", url, probe) | {"Content-Type": "application/json"}
        t0 = time.perf_counter()
        answer = requests.post(url, data=probe, headers=headers, timeout=120)
        per_call = time.perf_counter() - t0
        assert answer.status_code == 200 and answer.json()["accepted"] == args.readings, answer.text[:500]
        count = args.pool or int(max(20, (os.cpu_count() or 1) / per_call * args.seconds * 2.5))
        log(f"one call took {per_call * 1000:.0f} ms; preparing {count} calls per run")
        bodies = [batch(fx, f"{run}-{i:05d}", args.readings, args.points) for i in range(count)]
        product_pool = wrk.pool([br.signed_post(fx, django.port, PATH, b) for b in bodies])
        product = wrk.run(django.base, product_pool)
        br._check(product, "signed instrument ingest", unique=True)
        stored = InstrumentRecord.objects.filter(record_number__startswith=f"BENCH-{run}").count()
        connection.close()

        ceiling_server = br.start_uvicorn(args.workers, env, dsn)
        servers.append(ceiling_server)
        # the ceiling answers faster: four times the calls, so that none is replayed
        base_bodies = [batch(fx, f"{run}-base-{i:05d}", args.readings, args.points) for i in range(4 * count)]
        ceiling_pool = br.json_pool(wrk, "/bench/baseline/instruments", ceiling_server.port, base_bodies)
        ceiling = wrk.run(ceiling_server.base, ceiling_pool)
        br._check(ceiling, "fastapi copy", unique=True)
        emit(
            "instrument_ingest_signed",
            product["rate"] * args.readings,
            "readings/s",
            "fastapi_asyncpg_copy",
            ceiling["rate"] * args.readings,
            target_ratio=0.5,
            **br.latency(product),
            baseline_p99_ms=br._ms(ceiling["p99_us"]),
            readings_per_call=args.readings,
            points_per_curve=args.points,
            body_mb=round(len(bodies[0]) / 1e6, 2),
            readings_stored=stored,
            includes="RFC 9421 signature and content digest, idempotency key, per-reading checks, curve packing, "
            "COPY into a temporary table and INSERT ... ON CONFLICT DO NOTHING, per-reading answers, call log",
            machine=f"{os.cpu_count()} cores",
            workers=args.workers,
            load=f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s, pre-built requests",
            database="postgresql, table partitioned by month",
        )
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
