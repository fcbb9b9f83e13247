"""Minimal FastAPI + asyncpg baseline for ``bench_reports.py``: the
framework ceiling on this machine, on the same ``reports_report`` table and rows as the
product and ``baseline_django.py`` (same SQL, same sequence ``bench_baseline_serial``).
For ``bench_testing.py``: ``/bench/baseline/instruments`` takes the same batch of
instrument readings as ``POST /api/v1/testing/instrument-records``, packs each curve the
product's way (float32, zlib) and COPYs the rows into ``testing_instrumentrecord``: the
ceiling of the ingest path (no signature, checks, idempotency or duplicate handling).

Run by the benchmark as ``uvicorn baseline_fastapi:app --workers N`` with
``BENCH_PG_DSN`` (a ``postgresql://`` DSN) and ``INSPECTA_BENCH_AGENCY_ID``. Verification
codes use the product's generator (``inspecta.reports.codes`` needs no configured Django
for that). Dev dependency only.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from inspecta.reports.codes import new_verification_code, normalise

AGENCY_ID = int(os.environ.get("INSPECTA_BENCH_AGENCY_ID", "0"))
INSERT_SQL = (
    "INSERT INTO reports_report (agency_id, project_id, issuing_region, year, serial_no, serial_number, "
    "verification_code, status, report_number, test_item_id, conclusion, tested_on, reported_on, "
    "version_count, issued_at, revoke_reason, updated_at) "
    "SELECT $1, $2, '990000', $3, s.n, '990000' || $4 || lpad(s.n::text, 7, '0'), $5, 'valid', $6 || '-' || s.n, $7, $8, "
    "$9, $10, 1, now(), '', now() FROM (SELECT nextval('bench_baseline_serial') AS n) s"
)
LOOKUP_SQL = (
    "SELECT id, serial_number, verification_code, status, report_number, agency_id, project_id, "
    "test_item_id AS test_item, conclusion, tested_on, reported_on, issued_at, version_count AS version "
    "FROM reports_report WHERE verification_code = $1"
)

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
pool: asyncpg.Pool | None = None


@app.on_event("startup")
async def _startup() -> None:
    global pool
    pool = await asyncpg.create_pool(
        os.environ["BENCH_PG_DSN"], min_size=2, max_size=int(os.environ.get("BENCH_POOL", "10"))
    )


def _params(report: dict[str, Any]) -> tuple[Any, ...]:
    reported_on = datetime.date.fromisoformat(report["reported_on"])
    return (
        AGENCY_ID,
        int(report["project_id"]),
        reported_on.year,
        f"{reported_on.year:04d}",
        new_verification_code(),
        report["report_number"],
        report["test_item"],
        report["conclusion"],
        datetime.date.fromisoformat(report["tested_on"]),
        reported_on,
    )


@app.post("/bench/baseline/reports", status_code=201)
async def insert(request: Request) -> JSONResponse:
    report = await request.json()
    assert pool is not None
    async with pool.acquire() as conn:
        row = await conn.fetchrow(INSERT_SQL + " RETURNING id, serial_number", *_params(report))
    return JSONResponse({"id": row["id"], "serial_number": row["serial_number"]}, status_code=201)


@app.post("/bench/baseline/reports/batch", status_code=201)
async def insert_batch(request: Request) -> JSONResponse:
    reports = (await request.json())["reports"]
    assert pool is not None
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(INSERT_SQL, [_params(r) for r in reports])
    return JSONResponse({"accepted": len(reports), "rejected": 0}, status_code=201)


INSTRUMENT_COLUMNS = [
    "agency_id",
    "source_id",
    "record_number",
    "equipment",
    "parameter",
    "specimen",
    "collected_at",
    "value",
    "unit",
    "curve_meta",
    "curve",
    "curve_sha256",
    "received_at",
]


def _packed(curve: dict[str, Any]) -> tuple[str, bytes, str]:
    import hashlib
    import json
    import struct
    import zlib

    y = curve["y"]
    raw = struct.pack(f"<{len(y)}f", *y)
    meta = {"encoding": "f32le+zlib", "count": len(y), "has_x": False, "dt": curve["dt"], "x0": 0.0}
    return json.dumps(meta), zlib.compress(raw, 6), hashlib.sha256(raw).hexdigest()


@app.post("/bench/baseline/instruments")
async def instruments(request: Request) -> JSONResponse:
    readings = (await request.json())["records"]
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    for r in readings:
        meta, data, digest = _packed(r["curve"])
        rows.append(
            (
                AGENCY_ID,
                r["source_id"],
                r["record_number"],
                r["equipment"],
                r["parameter"],
                r["specimen"],
                datetime.datetime.fromisoformat(r["collected_at"]),
                r["value"],
                r["unit"],
                meta,
                data,
                digest,
                now,
            )
        )
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("testing_instrumentrecord", records=rows, columns=INSTRUMENT_COLUMNS)
    return JSONResponse({"accepted": len(rows)})


@app.get("/bench/baseline/public/{code}")
async def lookup(code: str) -> JSONResponse:
    assert pool is not None
    async with pool.acquire() as conn:
        row = await conn.fetchrow(LOOKUP_SQL, normalise(code))
    if row is None:
        return JSONResponse({"error": {"code": "unknown_code"}}, status_code=404)
    out = dict(row)
    for key in ("tested_on", "reported_on", "issued_at"):
        out[key] = out[key].isoformat()
    return JSONResponse(out)
