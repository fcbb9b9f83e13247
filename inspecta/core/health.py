"""Liveness and readiness (CONTRACT §7)."""

from __future__ import annotations

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


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Database reachable with every migration applied, and the job queue reachable."""

    checks = {"database": _check_database(), "jobs": _check_jobs()}
    ready = all(v is None for v in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": {k: v or "ok" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if ready else 503)
