"""Bare Django baseline for ``bench_reports.py``: plain views served
by the same gunicorn, settings and middleware as the product, doing only

* ``POST /bench/baseline/reports``: one INSERT of the posted report into the columns of
  ``reports_report`` (no signature, idempotency, checks, version, log or audit);
* ``POST /bench/baseline/reports/signed``: the same INSERT behind the product's RFC 9421
  signature check (``SignatureAuth`` with scope ``reports:submit``: key look-up, digest,
  Ed25519, nonce, rate window; the call log middleware records the call as for the
  product), the floor every signed submission pays before any of its own work;
* ``POST /bench/baseline/reports/batch``: the same for ``{"reports": [...]}`` (one
  ``executemany`` in one transaction);
* ``GET /bench/baseline/public/{code}``: the indexed lookup of one report row by
  verification code, as JSON.

Serial numbers come from the PostgreSQL sequence ``bench_baseline_serial`` under the
issuing region ``990000`` (created by the benchmark) so baseline rows never collide with
the product's numbering, and each report number gets its serial appended (an agency's
report numbers are unique, and the load replays bodies); verification codes come from
``inspecta.reports.codes``. The
agency is ``INSPECTA_BENCH_AGENCY_ID``. ``baseline_fastapi.py`` runs the same SQL.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from inspecta.reports import codes

AGENCY_ID = int(os.environ.get("INSPECTA_BENCH_AGENCY_ID", "0"))
BASELINE_REGION = "990000"

INSERT_SQL = (
    "INSERT INTO reports_report (agency_id, project_id, issuing_region, year, serial_no, serial_number, "
    "verification_code, status, report_number, test_item_id, conclusion, tested_on, reported_on, "
    "version_count, issued_at, revoke_reason, updated_at) "
    "SELECT %s, %s, '990000', %s, s.n, '990000' || %s || lpad(s.n::text, 7, '0'), %s, 'valid', %s || '-' || s.n, %s, %s, "
    "%s, %s, 1, now(), '', now() FROM (SELECT nextval('bench_baseline_serial') AS n) s RETURNING id, serial_number"
)

LOOKUP_SQL = (
    "SELECT id, serial_number, verification_code, status, report_number, agency_id, project_id, test_item_id, "
    "conclusion, tested_on, reported_on, issued_at, version_count FROM reports_report WHERE verification_code = %s"
)
LOOKUP_COLUMNS = (
    "id",
    "serial_number",
    "verification_code",
    "status",
    "report_number",
    "agency_id",
    "project_id",
    "test_item",
    "conclusion",
    "tested_on",
    "reported_on",
    "issued_at",
    "version",
)


def _params(report: dict[str, Any]) -> tuple[Any, ...]:
    year = int(report["reported_on"][:4])
    return (
        AGENCY_ID,
        int(report["project_id"]),
        year,
        f"{year:04d}",
        codes.new_verification_code(),
        report["report_number"],
        report["test_item"],
        report["conclusion"],
        report["tested_on"],
        report["reported_on"],
    )


@csrf_exempt
def insert(request: HttpRequest) -> HttpResponse:
    report = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, _params(report))
        pk, serial = cursor.fetchone()
    return JsonResponse({"id": pk, "serial_number": serial}, status=201)


@csrf_exempt
def signed_insert(request: HttpRequest) -> HttpResponse:
    from inspecta.core.errors import AppError
    from inspecta.exchange.auth import SignatureAuth

    try:
        SignatureAuth(scopes=["reports:submit"])(request)
    except AppError as exc:
        return JsonResponse({"error": {"code": exc.code}}, status=exc.status)
    return insert(request)


@csrf_exempt
def insert_batch(request: HttpRequest) -> HttpResponse:
    reports = json.loads(request.body)["reports"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(INSERT_SQL.split(" RETURNING")[0], [_params(r) for r in reports])
    return JsonResponse({"accepted": len(reports), "rejected": 0}, status=201)


def lookup(request: HttpRequest, code: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(LOOKUP_SQL, [codes.normalise(code)])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"error": {"code": "unknown_code"}}, status=404)
    return JsonResponse(dict(zip(LOOKUP_COLUMNS, row, strict=True)), json_dumps_params={"ensure_ascii": False})


urlpatterns = [
    path("bench/baseline/reports", insert),
    path("bench/baseline/reports/signed", signed_insert),
    path("bench/baseline/reports/batch", insert_batch),
    path("bench/baseline/public/<str:code>", lookup),
]
