"""The filters of the inbox (page and ``GET /api/v1/notifications/``) and of the
operators' delivery list."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet

from .choices import Channel, DeliveryStatus
from .models import Delivery, Notification

READ_CHOICES = [("unread", _("未读")), ("read", _("已读"))]


class InboxFilterSet(BaseFilterSet):
    state = django_filters.ChoiceFilter(
        label=_("阅读状态"), choices=READ_CHOICES, method="filter_state", empty_label=_("全部消息")
    )

    class Meta(BaseFilterSet.Meta):
        model = Notification
        fields: list[str] = []

    def filter_state(self, queryset: QuerySet[Notification], name: str, value: str) -> QuerySet[Notification]:
        if not value:
            return queryset
        return queryset.filter(read_at__isnull=value == "unread")


class DeliveryFilterSet(BaseFilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=DeliveryStatus.choices, empty_label=_("全部状态"))
    channel = django_filters.ChoiceFilter(label=_("方式"), choices=Channel.choices, empty_label=_("全部方式"))

    class Meta(BaseFilterSet.Meta):
        model = Delivery
        fields: list[str] = []
