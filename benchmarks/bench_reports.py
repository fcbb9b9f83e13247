"""Report submission, batch submission, public verification and serial issuance under
load (docs/reports.md "Benchmarks").

PostgreSQL only: ``DATABASE_URL`` when it names PostgreSQL (it must be a scratch
database: fixtures and up to ``--reports`` rows are added to it), else the scratch
database ``inspecta_bench_reports`` on ``postgres://postgres@127.0.0.1:5432``, dropped
and recreated at start (no other database is touched). The cache is Redis as in
production: ``REDIS_URL``, else ``redis://127.0.0.1:6379/9`` (that database is flushed).

Set-up: the demo-like fixture through the project's services (approved agency with
capabilities, staff with certificates, signatories, calibrated equipment, a project with
the agency as party, one stored PDF, an exchange client with an Ed25519 key and scope
``reports:submit``), then ``--reports`` valid reports (default 1,000,000, spread over
``--projects`` projects of the agency, the benchmark's own included; real serial
numbers and verification codes from ``inspecta.reports.codes``; one version each, no log
entries or audit rows) written with COPY.

Servers: the product under gunicorn sync workers (``--workers``) with the bare Django
baseline (``baseline_django.py``) mounted in the same process, and the FastAPI + asyncpg
baseline (``baseline_fastapi.py``) under uvicorn (``--uvicorn-workers``), all on loopback.
Load: ``wrk`` (``apt-get install wrk``) with ``--connections`` connections replaying
requests prepared before timing (signed with the SDK, unique ``Idempotency-Key`` and
report numbers; signing is the client's cost). Latencies are wrk's (p50/p99).

Figures (one JSON line each, baselines measured in the same run on the same rows):

1. ``reports_submit_signed`` req/s vs ``baseline_django_insert`` (target ratio >= 0.7);
   the FastAPI insert is given as ``fastapi_insert``.
2. ``reports_batch_signed`` reports/s (100 per call) vs ``baseline_fastapi_batch``
   (target >= 0.7), with a cProfile of one batch call in-process (``profile``).
3. ``reports_public_verify`` req/s on a warm cache vs ``baseline_fastapi_lookup``
   (target >= 0.5, p99 <= 20 ms at 16 clients); ``reports_public_verify_cold``: every
   request a different code (cache misses).
4. ``reports_serial_issue`` reports/s with ``--issuers`` concurrent issuers (gunicorn
   workers = connections = issuers) and the gap count of the issuing region's sequence.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import hashlib
import json
import os
import pstats
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))

SCRATCH_DB = "inspecta_bench_reports"
SCRATCH_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
HOST = "127.0.0.1"

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local f = assert(io.open(args[1] .. "." .. tid, "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    reqs[#reqs + 1] = data:sub(nl + 1, nl + len)
    pos = nl + 1 + len
  end
  idx = 0
  wrapped = 0
  bad = 0
end
function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wrapped = wrapped + 1
  end
  return reqs[idx]
end
function response(status, headers, body)
  if status >= 300 then
    bad = bad + 1
    if bad <= 2 then io.stderr:write("HTTP " .. status .. ": " .. string.sub(body or "", 1, 400) .. "\n") end
  end
end
function done(summary, latency, requests)
  local w, b = 0, 0
  for _, t in ipairs(threads) do
    w = w + (t:get("wrapped") or 0)
    b = b + (t:get("bad") or 0)
  end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bad": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, b, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, w))
end
"""


def log(message: str) -> None:
    sys.stderr.write(f"[bench_reports {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------ environment


def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql", "postgis")


def choose_database() -> str:
    """``DATABASE_URL`` if PostgreSQL, else a freshly recreated scratch database."""

    url = os.environ.get("DATABASE_URL", "")
    if _is_postgres(url):
        return url
    import psycopg

    with psycopg.connect(SCRATCH_ADMIN_URL.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    url = urlunsplit(urlsplit(SCRATCH_ADMIN_URL)._replace(path="/" + SCRATCH_DB))
    os.environ["DATABASE_URL"] = url
    return url


def choose_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url
    import redis

    redis.Redis.from_url(DEFAULT_REDIS).flushdb()
    os.environ["REDIS_URL"] = DEFAULT_REDIS
    return DEFAULT_REDIS


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ fixture


class Fixture:
    agency: Any
    admin: Any
    made: dict[str, Any]
    project: Any
    pdf: Any
    signer: Any
    region: str
    year: int
    pdfs: list[str]
    projects: list[Any]
    base_project: Any


def build_fixture(projects: int) -> Fixture:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from django.db import connection
    from django.utils import timezone
    from inspecta_client import Signer

    from inspecta.core.testing.factories import authority_tree
    from inspecta.exchange import services as exchange_services
    from inspecta.reports import services as report_services
    from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file

    fx = Fixture()
    fx.pdfs = []
    tree = authority_tree()
    fx.agency, fx.admin, fx.made = approved_agency(tree, 901)
    fx.project = project_with(tree, [fx.agency], code="BENCH-001")
    # the baselines insert into the same table, under a project of their own (so the
    # product's per-project checks do not see the baselines' rows)
    fx.base_project = project_with(tree, [fx.agency], code="BENCH-BASELINE")
    with connection.cursor() as cursor:  # the baselines' serial numbers
        cursor.execute("CREATE SEQUENCE IF NOT EXISTS bench_baseline_serial")
    fx.projects = [fx.project] + [
        project_with(tree, [fx.agency], code=f"BENCH-{i:03d}") for i in range(2, projects + 1)
    ]
    fx.pdf = stored_file(fx.agency.organisation_id, pdf_bytes("bench report"))
    application = exchange_services.application_submit(
        actor=fx.admin,
        system_name="bench-lims",
        auth_method="ed25519",
        contact_name="基准",
        contact_phone="13800000000",
        scopes=["reports:submit", "files:upload", "tests:submit"],
    )
    client, issued = exchange_services.application_approve(actor=tree["gz_admin"], application=application)
    exchange_services.client_update(actor=tree["gz_admin"], client=client, rate_limit_per_minute=0)
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    exchange_services.key_register_public(actor=fx.admin, key=issued.key, public_key=pem)
    fx.signer = Signer(issued.key.key_id, private_key=private, validity=300)
    fx.region = report_services.issuing_region(fx.project)
    fx.year = timezone.localdate().year
    return fx


def pdf_pool(fx: Fixture, count: int) -> list[str]:
    """``count`` distinct stored PDFs (finished uploads of the agency), as a LIMS sends
    one file per report: small unsigned one-page PDFs differing in their title."""

    import hashlib

    from django.conf import settings

    from inspecta.core.models import StoredFile
    from inspecta.reports.testing import pdf_bytes

    placeholder = "#" * 24
    template = pdf_bytes(f"bench {placeholder}")
    folder = Path(settings.MEDIA_ROOT) / "exchange" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for _i in range(count):
        file_id = uuid.uuid4()
        content = template.replace(placeholder.encode(), f"{file_id.hex[:24]}".encode())
        relative = f"exchange/bench/{file_id}.pdf"
        (Path(settings.MEDIA_ROOT) / relative).write_bytes(content)
        rows.append(
            StoredFile(
                id=file_id,
                organisation_id=fx.agency.organisation_id,
                original_name=f"{file_id}.pdf",
                purpose="upload",
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                content_type="application/pdf",
                file=relative,
            )
        )
    StoredFile.objects.bulk_create(rows, batch_size=2000)
    return [str(r.pk) for r in rows]


def report_body(fx: Fixture, number: str, fresh: bool = False, baseline: bool = False) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/reports/`` that passes every check; ``fresh``:
    with a PDF of its own (else the shared fixture PDF, fine for the baselines)."""

    from inspecta.reports.testing import submission

    body = {k: v for k, v in submission(fx.agency, fx.made, fx.project, number, pdf=fx.pdf).items() if k != "agency"}
    if baseline:
        body["project_id"] = fx.base_project.pk
    if fresh:
        if not fx.pdfs:
            fx.pdfs = pdf_pool(fx, 5000)
        body["pdf_id"] = fx.pdfs.pop()
    for key, value in list(body.items()):
        if isinstance(value, datetime.datetime | datetime.date):
            body[key] = value.isoformat()
    body["pdf_id"] = str(body["pdf_id"])
    return body


def bulk_fill(fx: Fixture, count: int) -> float:
    """``count`` valid reports with version 1 (COPY), numbered on the fixture's counter."""

    from django.db import connection, transaction

    from inspecta.core.counters import sequence_next
    from inspecta.reports import codes
    from inspecta.reports.codes import SERIAL_COUNTER
    from inspecta.reports.models import Report, ReportVersion

    started = time.perf_counter()
    template = report_body(fx, "__NUMBER__")
    data = {
        k: template[k]
        for k in (
            "report_number",
            "commissioning_unit",
            "commission_number",
            "contractor",
            "deliverer",
            "project_part",
            "test_basis",
            "parameters",
            "environment",
            "delivered_on",
            "tested_on",
            "reported_on",
            "results",
            "conclusion",
            "equipment",
            "site_id",
        )
    }
    data.update(category="SP01", test_item=template["test_item"])
    data_json = json.dumps(data, ensure_ascii=False)
    now = datetime.datetime.now(datetime.UTC)
    today = datetime.date.fromisoformat(template["tested_on"])
    report_table, version_table = Report._meta.db_table, ReportVersion._meta.db_table
    project_ids = [p.pk for p in fx.projects]
    with transaction.atomic():
        first_serial = sequence_next(SERIAL_COUNTER, fx.region, fx.year, count=count)
        raw = connection.connection
        assert raw is not None
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_get_serial_sequence('{report_table}', 'id')")
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first_id = cursor.fetchone()[0]
            cursor.execute("SELECT setval(%s, %s)", [sequence, first_id + count])
            cursor.execute(f"SELECT pg_get_serial_sequence('{version_table}', 'id')")
            version_sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [version_sequence])
            first_version_id = cursor.fetchone()[0]
            cursor.execute("SELECT setval(%s, %s)", [version_sequence, first_version_id + count])
        with raw.cursor() as cur:
            columns = (
                "id, agency_id, project_id, issuing_region, year, serial_no, serial_number, verification_code, "
                "status, report_number, test_item_id, conclusion, tested_on, reported_on, version_count, "
                "issued_at, revoke_reason"
            )
            with cur.copy(f"COPY {report_table} ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    serial = first_serial + i
                    copy.write_row(
                        (
                            first_id + i,
                            fx.agency.pk,
                            project_ids[i % len(project_ids)],
                            fx.region,
                            fx.year,
                            serial,
                            codes.serial_number(fx.region, fx.year, serial),
                            codes.new_verification_code(),
                            "valid",
                            f"BULK-{serial:07d}",
                            template["test_item"],
                            "qualified",
                            today,
                            today,
                            1,
                            now,
                            "",
                        )
                    )
            log(f"bulk: {count} reports copied in {time.perf_counter() - started:.1f}s")
            columns = (
                "id, report_id, number, data, pdf_id, pdf_sha256, tester_id, tested_at, reviewer_id, reviewed_at, "
                "signatory_id, approved_at, signatures, created_at"
            )
            tested_at = datetime.datetime.fromisoformat(template["tested_at"])
            reviewed_at = datetime.datetime.fromisoformat(template["reviewed_at"])
            approved_at = datetime.datetime.fromisoformat(template["approved_at"])
            with cur.copy(f"COPY {version_table} ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    copy.write_row(
                        (
                            first_version_id + i,
                            first_id + i,
                            1,
                            data_json.replace("__NUMBER__", f"BULK-{first_serial + i:07d}"),
                            fx.pdf.pk,
                            # A digest of its own per version, as real reports have (one
                            # shared digest would skew the planner's statistics of
                            # ``pdf_sha256``); the stored-file row itself is shared.
                            hashlib.sha256(b"bulk-%d" % (first_id + i)).hexdigest(),
                            template["tester_id"],
                            tested_at,
                            template["reviewer_id"],
                            reviewed_at,
                            template["signatory_id"],
                            approved_at,
                            "[]",
                            now,
                        )
                    )
    # A sequenced log entry for every bulk version and a signed checkpoint over them, so
    # the public verification serves real inclusion proofs (``ledger_fill``: the entry
    # data is ``{"n": position}``, not the version's rendering; the endpoint serves the
    # entry bytes without re-rendering them).
    from ledger_fill import bulk_fill as ledger_bulk_fill

    from inspecta.ledger import store
    from inspecta.ledger.services import checkpoint_publish, sequence_pending

    sequence_pending()
    have = store.tree_size()
    ledger_bulk_fill(
        have + count,
        kind="report_version",
        record_type=ReportVersion._meta.label_lower,
        record_id=lambda position: first_version_id + position - have,
    )
    checkpoint_publish()
    log(f"bulk: {count} log entries and a checkpoint at {store.tree_size()} in {time.perf_counter() - started:.1f}s")
    with connection.cursor() as cursor:
        # What ``services._accept`` keeps for the "too many agencies" check.
        cursor.execute(
            "INSERT INTO reports_projectitemagency (project_id, test_item_id, agency_id) "
            "SELECT DISTINCT project_id, test_item_id, agency_id FROM reports_report ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"ANALYZE {report_table}")
        cursor.execute(f"ANALYZE {version_table}")
        cursor.execute("ANALYZE reports_projectitemagency")
        cursor.execute("ANALYZE ledger_entry")
        cursor.execute("ANALYZE ledger_treenode")
    return time.perf_counter() - started


def sample_codes(count: int, *, exclude: set[str] | None = None) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT verification_code FROM reports_report WHERE report_number LIKE 'BULK-%%' "
            "ORDER BY random() LIMIT %s",
            [count + len(exclude or ())],
        )
        found = [row[0] for row in cursor.fetchall()]
    return [c for c in found if c not in (exclude or set())][:count]


# ------------------------------------------------------------------ servers


def settings_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="inspecta-bench-reports-"))
    (folder / "bench_reports_settings.py").write_text(
        "from inspecta.settings.base import *  # noqa\n"
        "ROOT_URLCONF = 'bench_reports_urlmod'\n"
        "DEBUG = False\n"
        "INSPECTA_VERIFY_RATE_PER_MINUTE = 0  # one loopback IP for every client\n"
    )
    (folder / "bench_reports_urlmod.py").write_text(
        "import baseline_django\n"
        "from inspecta import urls as project_urls\n"
        "urlpatterns = [*baseline_django.urlpatterns, *project_urls.urlpatterns]\n"
        "handler400, handler403, handler404, handler500 = (project_urls.handler400, project_urls.handler403,"
        " project_urls.handler404, project_urls.handler500)\n"
    )
    (folder / "bench_reports_wsgi.py").write_text("from inspecta.wsgi import application  # noqa: F401\n")
    return folder


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, name: str) -> None:
        self.port = port
        self.name = name
        self.base = f"http://{HOST}:{port}"
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env)

    def wait(self, path: str) -> None:
        import requests

        for _i in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            try:
                requests.get(self.base + path, timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not come up")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_gunicorn(workers: int, env: dict[str, str]) -> Server:
    port = free_port()
    server = Server(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench_reports_wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        env,
        port,
        f"gunicorn x{workers}",
    )
    server.wait("/healthz")
    return server


def start_uvicorn(workers: int, env: dict[str, str], dsn: str) -> Server:
    """uvicorn workers under gunicorn (``uvicorn --workers N`` answers every request
    40 ms late here: Nagle against delayed ACK on the sockets its supervisor hands out)."""

    port = free_port()
    server = Server(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "baseline_fastapi:app",
            "--chdir",
            str(HERE),
            "-k",
            "uvicorn.workers.UvicornWorker",
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        {**env, "BENCH_PG_DSN": dsn},
        port,
        f"uvicorn x{workers}",
    )
    server.wait("/bench/baseline/public/X")
    return server


# ------------------------------------------------------------------ load


def raw_request(method: str, path: str, port: int, body: bytes | None = None, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + (body or b"")


def json_pool(wrk: Wrk, path: str, port: int, bodies: list[bytes]) -> str:
    """A wrk request pool of unsigned JSON POSTs of ``bodies`` (the baselines)."""

    return wrk.pool([raw_request("POST", path, port, b, Content_Type="application/json") for b in bodies])


def signed_post(fx: Fixture, port: int, path: str, body: bytes) -> bytes:
    url = f"http://{HOST}:{port}{path}"
    headers = fx.signer.headers("POST", url, body)
    return raw_request(
        "POST",
        path,
        port,
        body,
        Content_Type="application/json",
        Idempotency_Key=str(uuid.uuid4()),
        **{k.replace("-", "_"): v for k, v in headers.items()},
    )


class Wrk:
    def __init__(self, threads: int, connections: int, seconds: float) -> None:
        self.threads = threads
        self.connections = connections
        self.seconds = seconds
        self.folder = Path(tempfile.mkdtemp(prefix="inspecta-bench-wrk-"))
        self.script = self.folder / "replay.lua"
        self.script.write_text(LUA)
        self.n = 0

    def pool(self, requests_: list[bytes]) -> str:
        """Write a request pool, split over the wrk threads; returns its prefix."""

        self.n += 1
        prefix = str(self.folder / f"pool{self.n}")
        handles = [open(f"{prefix}.{t}", "wb") for t in range(self.threads)]  # noqa: SIM115
        try:
            for i, raw in enumerate(requests_):
                handle = handles[i % self.threads]
                handle.write(f"{len(raw)}\n".encode())
                handle.write(raw)
        finally:
            for handle in handles:
                handle.close()
        return prefix

    def run(
        self, base: str, prefix: str, *, seconds: float | None = None, connections: int | None = None
    ) -> dict[str, Any]:
        argv = [
            "wrk",
            "-t",
            str(self.threads),
            "-c",
            str(connections or self.connections),
            "-d",
            f"{max(1, round(seconds or self.seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(self.script),
            base,
            "--",
            prefix,
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            if line.startswith("WRKJSON "):
                out: dict[str, Any] = json.loads(line[8:])
                # Only 2xx answers count: a refused or replayed request is not work done.
                out["rate"] = (out["requests"] - out["bad"]) / (out["duration_us"] / 1e6)
                if proc.stderr.strip():
                    out["stderr"] = proc.stderr.strip()[:600]
                return out
        raise RuntimeError(f"wrk failed: {proc.stdout[-1000:]} {proc.stderr[-1000:]}")


def _ms(us: float) -> float:
    return round(us / 1000, 2)


def latency(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "p50_ms": _ms(result["p50_us"]),
        "p99_ms": _ms(result["p99_us"]),
        "requests": result["requests"],
        "non_2xx": result["bad"],
        "pool_wrapped": result["wrapped"],
    }


def _check(result: dict[str, Any], what: str, *, unique: bool) -> None:
    if result["bad"]:
        log(f"{what}: {result['bad']} non-2xx responses; {result.get('stderr', '')}")
    if unique and result["wrapped"]:
        log(f"{what}: the request pool ran out (replays were sent): raise --pool-factor")


# ------------------------------------------------------------------ figures


def profile_call(
    fx: Fixture, path: str | Any, make_body: Any, top: int = 14, tags: tuple[str, str] | None = None
) -> dict[str, Any]:
    """cProfile of one signed call in-process (Django test client, full middleware);
    cumulative time of the heaviest project functions and of the main library parts.
    ``path`` may be a function of the tag (a call on a record of its own)."""

    from django.test import Client

    client = Client()

    def call(tag: str) -> tuple[Any, float]:
        if make_body is None:  # a GET of path + tag
            started = time.perf_counter()
            response = client.get(path + tag)
            return response, time.perf_counter() - started
        body = make_body(tag)
        url = path(tag) if callable(path) else path
        headers = fx.signer.headers("POST", "http://testserver" + url, body)
        headers["Idempotency-Key"] = str(uuid.uuid4())
        started = time.perf_counter()
        response = client.post(url, body, content_type="application/json", headers=headers)
        return response, time.perf_counter() - started

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call(tags[0] if tags else "warm")
    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profiler.enable()
        response, elapsed = call(tags[1] if tags else "run")
        profiler.disable()
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    assert response.status_code in (200, 201), response.content[:500]
    if make_body is None:
        assert response.json()["status"] in ("valid", "amended", "revoked"), response.content[:500]
    if isinstance(path, str) and path.endswith("/batch"):
        assert response.json()["rejected"] == 0, response.content[:500]
    stats = pstats.Stats(profiler)
    total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((ct, filename, line, name))
    rows.sort(reverse=True)

    def label(filename: str, name: str) -> str:
        marker = "/inspecta/"
        if marker in filename and "/.venv/" not in filename:
            return "inspecta/" + filename.split(marker, 1)[1] + ":" + name
        if "site-packages/" in filename:
            return filename.split("site-packages/", 1)[1] + ":" + name
        return Path(filename).name + ":" + name

    own = [
        {"function": label(f, n), "cum_ms": round(ct * 1000, 1), "share": round(ct / total, 3)}
        for ct, f, _l, n in rows
        if "/inspecta/" in f and "/.venv/" not in f and "/tests/" not in f and ct / total < 0.95
    ][:top]
    # self time by package/module: a partition of the call's time
    selves: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            parts = filename.split("site-packages/", 1)[1].split("/")
            key = ".".join(parts[:2]).removesuffix(".py") if parts[0] == "django" else parts[0].removesuffix(".py")
        elif "/inspecta/" in filename:
            key = "inspecta/" + filename.split("/inspecta/", 1)[1]
        elif filename == "~":
            key = "builtin " + name.split(" of ")[0].strip("<>")
        else:
            key = "stdlib " + Path(filename).name
        selves[key] = selves.get(key, 0.0) + tt
    by_package = {
        k: {"self_ms": round(v * 1000, 1), "share": round(v / total, 3)}
        for k, v in sorted(selves.items(), key=lambda kv: -kv[1])[:top]
    }
    heaviest = sorted(
        ((tt, f, n) for (f, _l, n), (_cc, _nc, tt, _ct, _callers) in stats.stats.items()),  # type: ignore[attr-defined]
        reverse=True,
    )[:top]
    return {
        "top_self": [{"function": label(f, n), "self_ms": round(tt * 1000, 1)} for tt, f, n in heaviest],
        "wall_ms": round(elapsed * 1000, 1),
        "profiled_total_ms": round(total * 1000, 1),
        "sql_queries": len(queries.captured_queries),
        "sql_ms": round(sql_ms, 1),
        "top_cumulative": own,
        "self_time_by_package": by_package,
    }


def gaps(fx: Fixture) -> dict[str, int]:
    from django.db import connection

    from inspecta.core.counters import sequence_last
    from inspecta.reports.codes import SERIAL_COUNTER

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT serial_no), coalesce(min(serial_no), 0), coalesce(max(serial_no), 0) "
            "FROM reports_report WHERE issuing_region = %s AND year = %s",
            [fx.region, fx.year],
        )
        count, distinct, low, high = cursor.fetchone()
    last = sequence_last(SERIAL_COUNTER, fx.region, fx.year)
    return {
        "issued": count,
        "gaps": (high - low + 1 - distinct) if count else 0,
        "duplicates": count - distinct,
        "counter_last": last,
        "counter_matches": int(last == high and low == 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000, help="rows in the reports table")
    parser.add_argument("--projects", type=int, default=100, help="projects the filled reports are spread over")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each timed wrk run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--uvicorn-workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (clients)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--issuers", type=int, default=16, help="concurrent issuers for the serial figure")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--hot-codes", type=int, default=5_000, help="distinct codes of the warm-cache run")
    parser.add_argument("--pool-factor", type=float, default=1.0, help="scale the prepared request pools")
    parser.add_argument(
        "--figures", default="verify,submit,batch,serial", help="comma-separated subset of verify,submit,batch,serial"
    )
    args, _unknown = parser.parse_known_args()
    figures = {f.strip() for f in args.figures.split(",") if f.strip()}
    if shutil.which("wrk") is None:
        raise SystemExit("bench_reports needs wrk (apt-get install -y wrk)")

    dsn = choose_database()
    choose_redis()
    own_var_dir = "INSPECTA_VAR_DIR" not in os.environ
    if own_var_dir:  # media (the PDFs) and static of this run, removed at the end
        os.environ["INSPECTA_VAR_DIR"] = tempfile.mkdtemp(prefix="inspecta-bench-reports-var-")
    log(f"database {urlsplit(dsn).path[1:]}, cache {os.environ['REDIS_URL']}")
    from _django import emit, setup_django

    setup_django()
    from django.conf import settings
    from django.db import connection

    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 0
    fx = build_fixture(max(1, args.projects))
    log("fixture ready; filling")
    fill_seconds = bulk_fill(fx, args.reports) if args.reports else 0.0
    log(f"filled {args.reports} reports in {fill_seconds:.1f}s")
    connection.close()

    folder = settings_dir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_reports_settings",
        "PYTHONPATH": os.pathsep.join([str(folder), str(HERE), str(ROOT)]),
        "INSPECTA_BENCH_AGENCY_ID": str(fx.agency.pk),
    }
    cores = os.cpu_count() or 1
    machine = f"{cores} cores"
    common = {
        "reports_in_table": args.reports,
        "reports_per_project": args.reports // max(1, args.projects),
        "machine": machine,
        "connections": args.connections,
        "gunicorn_workers": args.workers,
        "uvicorn_workers": args.uvicorn_workers,
        "load": f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s, pre-built requests",
        "database": "postgresql",
        "cache": "redis",
    }
    wrk = Wrk(args.threads, args.connections, args.seconds)
    servers: list[Server] = []
    try:
        django_server = start_gunicorn(args.workers, env)
        servers.append(django_server)
        fastapi_server = start_uvicorn(args.uvicorn_workers, env, dsn.replace("postgres://", "postgresql://", 1))
        servers.append(fastapi_server)
        dport, fport = django_server.port, fastapi_server.port
        run_id = uuid.uuid4().hex[:6]

        if "verify" in figures:
            # 3. public verification (first, on the filled table)
            hot = sample_codes(args.hot_codes)
            spare = sample_codes(2, exclude=set(hot))
            cold = sample_codes(
                min(int(60_000 * args.pool_factor), args.reports - len(hot) - 2), exclude=set(hot) | set(spare)
            )
            hot_stream = [random.choice(hot) for _i in range(50_000)]
            public_hot = wrk.pool([raw_request("GET", f"/api/v1/public/reports/{c}", dport) for c in hot_stream])
            public_cold = wrk.pool([raw_request("GET", f"/api/v1/public/reports/{c}", dport) for c in cold])
            base_hot = wrk.pool([raw_request("GET", f"/bench/baseline/public/{c}", dport) for c in hot_stream])
            base_cold = wrk.pool([raw_request("GET", f"/bench/baseline/public/{c}", dport) for c in cold])
            fast_hot = wrk.pool([raw_request("GET", f"/bench/baseline/public/{c}", fport) for c in hot_stream])
            wrk.run(fastapi_server.base, fast_hot, seconds=3)
            fastapi_lookup = wrk.run(fastapi_server.base, fast_hot)
            _check(fastapi_lookup, "fastapi lookup", unique=False)
            wrk.run(django_server.base, base_hot, seconds=3)
            django_lookup = wrk.run(django_server.base, base_hot)
            _check(django_lookup, "django lookup", unique=False)
            cold_run = wrk.run(django_server.base, public_cold)
            _check(cold_run, "public cold", unique=True)
            # fill the cache: every hot code once (at the cold rate), then the measured run
            prime = wrk.pool([raw_request("GET", f"/api/v1/public/reports/{c}", dport) for c in hot])
            wrk.run(django_server.base, prime, seconds=1.5 * len(hot) / max(cold_run["rate"], 1) + 2)
            warm_run = wrk.run(django_server.base, public_hot)
            _check(warm_run, "public warm", unique=False)
            base_cold_run = wrk.run(django_server.base, base_cold)
            emit(
                "reports_public_verify",
                warm_run["rate"],
                "req/s",
                "baseline_fastapi_lookup",
                fastapi_lookup["rate"],
                target_ratio=0.5,
                target_p99_ms=20,
                **latency(warm_run),
                hot_codes=len(hot),
                cache_state="warm (each of the hot codes served before)",
                baseline_p99_ms=_ms(fastapi_lookup["p99_us"]),
                django_bare_lookup=round(django_lookup["rate"], 1),
                django_bare_lookup_p99_ms=_ms(django_lookup["p99_us"]),
                **common,
            )
            cold_profile = profile_call(fx, "/api/v1/public/reports/", None, tags=(spare[0], spare[1]))
            emit(
                "reports_public_verify_cold",
                cold_run["rate"],
                "req/s",
                "baseline_fastapi_lookup",
                fastapi_lookup["rate"],
                **latency(cold_run),
                cache_state="cold (every request a code not asked before)",
                django_bare_lookup_cold=round(base_cold_run["rate"], 1),
                profile=cold_profile,
                **common,
            )

        plain = [json.dumps(report_body(fx, f"BASE-{run_id}-{i:06d}", baseline=True)).encode() for i in range(2000)]
        submit_rate = 0.0
        if "submit" in figures:
            # 1. signed single submission vs the bare insert
            base_insert = json_pool(wrk, "/bench/baseline/reports", dport, plain)
            fast_insert = json_pool(wrk, "/bench/baseline/reports", fport, plain)
            fastapi_ins = wrk.run(fastapi_server.base, fast_insert)
            _check(fastapi_ins, "fastapi insert", unique=False)
            django_ins = wrk.run(django_server.base, base_insert)
            _check(django_ins, "django insert", unique=False)
            # the same insert behind the signature check alone: the floor of any signed call
            n_floor = int((django_ins["rate"] * args.seconds * 1.5 + 200) * args.pool_factor)
            log(f"signing {n_floor} bare signed inserts")
            signed_floor = wrk.pool(
                [
                    signed_post(fx, dport, "/bench/baseline/reports/signed", plain[i % len(plain)])
                    for i in range(n_floor)
                ]
            )
            django_signed = wrk.run(django_server.base, signed_floor)
            _check(django_signed, "django signed insert", unique=True)
            single_profile = profile_call(
                fx,
                "/api/v1/reports/",
                lambda tag: json.dumps(report_body(fx, f"PROF1-{tag}-{run_id}", fresh=True)).encode(),
            )
            # pool: twice what the cores could do at the in-process cost of one call
            per_call = single_profile["wall_ms"] / 1000
            n_signed = int((cores / per_call * args.seconds * 2 + 200 + 2 * args.connections) * args.pool_factor)
            log(f"signing {n_signed} single submissions")
            signed = wrk.pool(
                [
                    signed_post(
                        fx,
                        dport,
                        "/api/v1/reports/",
                        json.dumps(report_body(fx, f"S-{run_id}-{i:07d}", fresh=True)).encode(),
                    )
                    for i in range(n_signed)
                ]
            )
            submit = wrk.run(django_server.base, signed)
            _check(submit, "signed submit", unique=True)
            emit(
                "reports_submit_signed",
                submit["rate"],
                "req/s",
                "baseline_django_insert",
                django_ins["rate"],
                target_ratio=0.7,
                **latency(submit),
                includes="signature, idempotency, validation, checks, PDF signature check, numbering, insert, version, "
                "log append, audit row, call log",
                baseline_p99_ms=_ms(django_ins["p99_us"]),
                django_signed_insert=round(django_signed["rate"], 1),
                signed_floor_ratio=round(django_signed["rate"] / max(django_ins["rate"], 1e-9), 3),
                fastapi_insert=round(fastapi_ins["rate"], 1),
                fastapi_insert_p99_ms=_ms(fastapi_ins["p99_us"]),
                profile=single_profile,
                **common,
            )

        batch_rate = 0.0
        if "batch" in figures:
            # 2. batch
            size = args.batch_size

            def batch_body(tag: str, fresh: bool = True) -> bytes:
                reports = [report_body(fx, f"{tag}-{i:03d}", fresh, baseline=not fresh) for i in range(size)]
                return json.dumps({"reports": reports}, separators=(",", ":")).encode()

            plain_batches = [batch_body(f"BB-{run_id}-{n:05d}", fresh=False) for n in range(50)]
            fast_batch = json_pool(wrk, "/bench/baseline/reports/batch", fport, plain_batches)
            base_batch = json_pool(wrk, "/bench/baseline/reports/batch", dport, plain_batches)
            fastapi_b = wrk.run(fastapi_server.base, fast_batch)
            _check(fastapi_b, "fastapi batch", unique=False)
            django_b = wrk.run(django_server.base, base_batch)
            _check(django_b, "django batch", unique=False)
            profile = profile_call(fx, "/api/v1/reports/batch", lambda tag: batch_body(f"PROF-{tag}-{run_id}"))
            per_call = profile["wall_ms"] / 1000
            n_batches = int((cores / per_call * args.seconds * 3 + 2 * args.connections) * args.pool_factor)
            log(f"signing {n_batches} batches of {size}")
            signed_batches = wrk.pool(
                [
                    signed_post(fx, dport, "/api/v1/reports/batch", batch_body(f"SB-{run_id}-{n:05d}"))
                    for n in range(n_batches)
                ]
            )
            batch = wrk.run(django_server.base, signed_batches)
            _check(batch, "signed batch", unique=True)
            emit(
                "reports_batch_signed",
                batch["rate"] * size,
                "reports/s",
                "baseline_fastapi_batch",
                fastapi_b["rate"] * size,
                target_ratio=0.7,
                batch_size=size,
                calls_per_s=round(batch["rate"], 2),
                **latency(batch),
                baseline_p99_ms=_ms(fastapi_b["p99_us"]),
                django_bare_batch=round(django_b["rate"] * size, 1),
                profile=profile,
                **common,
            )

        for server in servers:
            server.stop()
        servers.clear()

        if "serial" in figures:
            # 4. serial issuance with concurrent issuers
            issuers = args.issuers
            django_server = start_gunicorn(issuers, env)
            servers.append(django_server)
            dport = django_server.port
            before = gaps(fx)
            base_insert = json_pool(wrk, "/bench/baseline/reports", dport, plain)
            django_ins16 = wrk.run(django_server.base, base_insert, connections=issuers)
            n_signed = int((max(submit_rate, batch_rate / 10, 100) * args.seconds * 2 + 200) * args.pool_factor)
            signed = wrk.pool(
                [
                    signed_post(
                        fx,
                        dport,
                        "/api/v1/reports/",
                        json.dumps(report_body(fx, f"I-{run_id}-{i:07d}", fresh=True)).encode(),
                    )
                    for i in range(n_signed)
                ]
            )
            issue = wrk.run(django_server.base, signed, connections=issuers)
            _check(issue, "serial issue", unique=True)
            django_server.stop()  # graceful: requests still in flight when wrk stops are finished first
            after = gaps(fx)
            emit(
                "reports_serial_issue",
                issue["rate"],
                "reports/s",
                "baseline_django_insert_16",
                django_ins16["rate"],
                issuers=issuers,
                **latency(issue),
                issued_in_run=after["issued"] - before["issued"],
                **after,
                **{**common, "gunicorn_workers": issuers, "connections": issuers},
            )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(wrk.folder, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        if own_var_dir:
            shutil.rmtree(os.environ["INSPECTA_VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
