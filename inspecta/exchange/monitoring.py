"""Anomaly findings over the call log (T/CECS 6.0.4 异常预警)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from .choices import FindingKind
from .models import AnomalyFinding, CallLog, ExchangeClient


@transaction.atomic
def anomalies_scan() -> list[AnomalyFinding]:
    """One open finding per client and kind: a client whose error rate over the last
    hour passes ``INSPECTA_EXCHANGE_ERROR_RATE_THRESHOLD`` (with enough calls), or an
    expected client silent for longer than its ``expect_calls_every_minutes``. Findings
    whose condition cleared are resolved."""

    now = timezone.now()
    since = now - timedelta(hours=1)
    created: list[AnomalyFinding] = []
    stats = {
        row["client_id"]: row
        for row in CallLog.objects.filter(at__gte=since, client_id__isnull=False)
        .values("client_id")
        .annotate(calls=Count("id"), errors=Count("id", filter=Q(status__gte=400)))
    }
    open_findings = {
        (f.client_id, f.rule): f for f in AnomalyFinding.objects.filter(resolved_at__isnull=True).select_for_update()
    }
    for client in ExchangeClient.objects.filter(is_active=True).select_related("organisation"):
        row = stats.get(client.pk)
        calls = row["calls"] if row else 0
        errors = row["errors"] if row else 0
        rate = errors / calls if calls else 0.0
        failing = (
            calls >= settings.INSPECTA_EXCHANGE_ERROR_RATE_MIN_CALLS
            and rate > settings.INSPECTA_EXCHANGE_ERROR_RATE_THRESHOLD
        )
        silent = False
        if client.expect_calls_every_minutes:
            last = client.last_seen_at or client.created_at
            silent = now - last > timedelta(minutes=client.expect_calls_every_minutes)
        for kind, active, detail in (
            (FindingKind.ERROR_RATE, failing, {"calls": calls, "errors": errors, "error_rate": round(rate, 4)}),
            (
                FindingKind.SILENT,
                silent,
                {"last_seen": client.last_seen_at.isoformat() if client.last_seen_at else None},
            ),
        ):
            existing = open_findings.get((client.pk, kind))
            if active and existing is None:
                finding = AnomalyFinding.of(client, rule=kind, measures=detail)
                finding.save()
                created.append(finding)
            elif not active and existing is not None:
                existing.save(update_fields=existing.resolve(now))
    return created
