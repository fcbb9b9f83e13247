"""Query-count guards of the inbox (page and API) and of the delivery list (STYLE.md 14)."""

from __future__ import annotations

from typing import Any

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.notifications import services
from inspecta.notifications.models import Delivery
from inspecta.notifications.notices import HEALTH_RECOVERED

pytestmark = pytest.mark.django_db


def _messages(user: Any) -> Any:
    def grow(n: int) -> None:
        for i in range(n):
            [made] = services.notify(
                recipients=[user], kind=HEALTH_RECOVERED, subject=f"QC-消息-{i}", body="正文", url="/"
            )
            Delivery.objects.create(notification=made, channel="email", status="failed", last_error="QC-错误")

    return grow


@guards("inspecta_notifications_api_notification_list")
def test_the_inbox_api_list(client, tree):
    user = tree["gz_admin"]
    login_verified(client, user)
    assert_queries_constant(
        lambda: client.get("/api/v1/notifications/"), _messages(user), limit=12, rows=json_rows("items")
    )


def test_the_inbox_page(client, tree):
    user = tree["gz_admin"]
    login_verified(client, user)
    assert_queries_constant(
        lambda: client.get("/notifications/"), _messages(user), limit=14, rows=html_rows('data-testid="inbox-item"')
    )


def test_the_delivery_list_page(client, tree):
    login_verified(client, tree["operator"])
    assert_queries_constant(
        lambda: client.get("/notifications/deliveries/"),
        _messages(tree["gz_admin"]),
        limit=16,
        rows=html_rows("QC-错误"),
    )
