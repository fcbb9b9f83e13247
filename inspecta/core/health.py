"""Liveness and readiness (CONTRACT §7).

``/readyz`` is honest about the work behind the web: besides the database and the job
queue, a job consumer must have shown a heartbeat recently (``jobs_heartbeat``, written
by the consumer at start and every minute into the shared cache) and the log sequencer
must not be behind (no log entry waiting for its index longer than
``INSPECTA_READY_SEQUENCER_LAG_SECONDS``). ``inspecta serve`` restarts a consumer that
dies (``inspecta/cli.py``).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and answering."""

    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            return f"{len(pending)} migrations not applied"
    except Exception as exc:  # readiness reports any failure instead of raising
        return f"database unreachable: {exc.__class__.__name__}"
    return None


def _check_jobs() -> str | None:
    try:
        from huey.contrib.djhuey import HUEY

        HUEY.pending_count()
    except Exception as exc:  # readiness reports any failure instead of raising
        return f"job queue unreachable: {exc.__class__.__name__}"
    return None


HEARTBEAT_KEY = "inspecta:jobs:heartbeat"


def jobs_heartbeat() -> None:
    """Called by the job consumer (at start and every minute): it is alive."""

    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def _check_consumer() -> str | None:
    if settings.HUEY.get("immediate"):
        return None  # jobs run inside the request: no consumer needed
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:  # readiness reports any failure instead of raising
        return f"heartbeat unreadable: {exc.__class__.__name__}"
    stale = settings.INSPECTA_READY_CONSUMER_STALE_SECONDS
    if beat is None:
        return "no job consumer running"
    age = time.time() - float(beat)
    if age > stale:
        return f"no job consumer heartbeat for {int(age)} s"
    return None


def _check_sequencer() -> str | None:
    from django.utils import timezone

    from inspecta.ledger.models import Entry

    lag = settings.INSPECTA_READY_SEQUENCER_LAG_SECONDS
    try:
        behind = Entry.objects.filter(
            index__isnull=True, created_at__lt=timezone.now() - timedelta(seconds=lag)
        ).count()
    except Exception as exc:  # readiness reports any failure instead of raising
        return f"log unreadable: {exc.__class__.__name__}"
    if behind:
        return f"{behind} log entries unsequenced for more than {lag} s"
    return None


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Database reachable with every migration applied, the job queue reachable, a job
    consumer alive and the log sequencer not behind."""

    checks = {"database": _check_database(), "jobs": _check_jobs()}
    if checks["database"] is None:
        checks["sequencer"] = _check_sequencer()
    checks["consumer"] = _check_consumer()
    ready = all(v is None for v in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": {k: v or "ok" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if ready else 503)
