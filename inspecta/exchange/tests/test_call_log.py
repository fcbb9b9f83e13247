"""Which calls the call log records (T/CECS 6.0.3-6.0.4, 8.2.4)."""

from __future__ import annotations

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.exchange.models import CallLog

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/log/keys"


def test_anonymous_public_reads_are_not_logged(client, tree):
    assert client.get(KEYS).status_code == 200
    assert client.get("/api/v1/public/reports/0000-0000-0000-0000-0").status_code in (400, 404)
    assert CallLog.objects.count() == 0


def test_signed_in_and_unauthenticated_exchange_calls_are_logged(client, tree):
    refused = client.get("/api/v1/exchange/ping")
    assert refused.status_code == 401
    login_verified(client, tree["gz_admin"])
    assert client.get(KEYS).status_code == 200
    rows = list(CallLog.objects.order_by("at").values_list("operation", "status", "user_id"))
    assert [(status, user) for _op, status, user in rows] == [(401, None), (200, tree["gz_admin"].pk)]
    assert "ping" in rows[0][0]
