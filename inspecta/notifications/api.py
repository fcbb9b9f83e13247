"""The inbox on the API (session only: the platform's own pages and apps; T/CECS 8.2.4).

* ``GET /api/v1/notifications/``: the signed-in person's messages, newest first
  (``?state=unread|read``), paged.
* ``POST /api/v1/notifications/{id}/read``: mark one read; another person's answers 404.
"""

import datetime
from typing import Any

from django.db.models import QuerySet
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from pydantic import Field

from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.filtersets import api_filter
from inspecta.core.pagination import Pages

from . import selectors, services
from .catalog import kind_label
from .filtersets import InboxFilterSet
from .models import Notification

router = Router(tags=["消息通知"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="通知类别编码（由各应用声明，如 warning_assigned、health_disk_low）")
    kind_label: str = Field(description="通知类别名称")
    subject: str
    body: str
    url: str = Field(description="相关页面的路径（平台内），可为空")
    created_at: datetime.datetime
    read_at: datetime.datetime | None = Field(description="阅读时间，未读为空")


class InboxFilters(Schema):
    state: str = Field("", max_length=8, description="unread（未读）或 read（已读），为空则全部")


def notification_json(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "kind_label": str(kind_label(n.kind)),
        "subject": n.subject,
        "body": n.body,
        "url": n.url,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


def _notifications_json(rows: list[Notification]) -> list[dict[str, Any]]:
    return [notification_json(n) for n in rows]


@router.get("/", response=list[NotificationOut], auth=session_auth, summary="我的消息（最新在前，每页 50 条）")
@paginate(Pages, page_size=50, render=_notifications_json)
def notification_list(request: AuthedRequest, filters: Query[InboxFilters]) -> QuerySet[Notification]:
    return api_filter(InboxFilterSet, filters.dict(), selectors.inbox(actor=request.auth), request=request)


@router.post("/{notification_id}/read", response=NotificationOut, auth=session_auth, summary="将一条消息标为已读")
def notification_read(request: AuthedRequest, notification_id: int) -> dict[str, Any]:
    notification = selectors.notification_get(actor=request.auth, pk=notification_id)
    return notification_json(services.notification_read(actor=request.auth, notification=notification))
