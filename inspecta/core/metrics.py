"""``/metrics`` in the Prometheus text format (CONTRACT §7; T/CECS 8.2.4). Not public:
an operator's session or ``Authorization: Bearer $INSPECTA_METRICS_TOKEN``."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class InspectaCollector(Collector):
    """Gauges read from the database at scrape time (cheap, indexed counts)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from inspecta.accounts.models import AuthEvent, User

        users = GaugeMetricFamily("inspecta_users", "Accounts by state", labels=["active"])
        for active, count in User.objects.values_list("is_active").annotate(n=Count("id")).order_by():
            users.add_metric(["true" if active else "false"], count)
        yield users
        events = GaugeMetricFamily(
            "inspecta_auth_events_last_hour", "Authentication events in the last hour", labels=["kind"]
        )
        since = timezone.now() - timedelta(hours=1)
        for kind, count in (
            AuthEvent.objects.filter(at__gte=since).values_list("kind").annotate(n=Count("id")).order_by()
        ):
            events.add_metric([kind], count)
        yield events
        try:
            from huey.contrib.djhuey import HUEY

            pending = float(HUEY.pending_count())
        except Exception:  # an unreachable queue is reported, not raised
            pending = float("nan")
        yield GaugeMetricFamily("inspecta_jobs_pending", "Jobs waiting in the queue", value=pending)


def _authorised(request: HttpRequest) -> bool:
    token = settings.INSPECTA_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:], token):
        return True
    user = request.user
    if not (user.is_authenticated and user.is_operator):  # type: ignore[union-attr]
        return False
    from inspecta.accounts.middleware import pending_step

    return pending_step(request) is None


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    registry = CollectorRegistry()
    registry.register(InspectaCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
