"""The tables of the inbox (wide screens; a phone gets the list of cards) and of the
operators' delivery list."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable

from .catalog import kind_label
from .choices import DeliveryStatus

STATUS_TONES: dict[str, str] = {
    DeliveryStatus.QUEUED: "secondary",
    DeliveryStatus.SENT: "green",
    DeliveryStatus.FAILED: "red",
}


class NotificationTable(BaseTable):
    subject = tables.Column(_("标题"))
    kind = tables.Column(_("类别"))
    created_at = tables.DateTimeColumn(verbose_name=_("时间"), format="Y-m-d H:i")
    read_at = tables.Column(_("状态"), default="")

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "inbox-table"}
        empty_text = _("暂无消息。")

    def render_subject(self, record: Any, value: str) -> str:
        url = reverse("notifications:detail", args=[record.pk])
        if record.read_at is None:
            return format_html('<a href="{}" class="fw-bold">{}</a>', url, value)
        return format_html('<a href="{}" class="text-reset">{}</a>', url, value)

    def render_kind(self, value: str) -> str:
        return str(kind_label(value))

    def render_read_at(self, record: Any) -> str:
        if record.read_at is None:
            return format_html('<span class="badge bg-red-lt">{}</span>', _("未读"))
        return format_html('<span class="text-secondary">{}</span>', _("已读"))


class DeliveryTable(BaseTable):
    created_at = tables.DateTimeColumn(verbose_name=_("时间"), format="Y-m-d H:i")
    recipient = tables.Column(_("收件人"), accessor="notification__recipient", empty_values=())
    subject = tables.Column(_("消息"), accessor="notification__subject")
    channel = tables.Column(_("方式"))
    status = tables.Column(_("状态"))
    attempts = tables.Column(_("尝试次数"))
    last_error = tables.Column(_("最近错误"))
    sent_at = tables.DateTimeColumn(verbose_name=_("发送时间"), format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "delivery-table"}
        empty_text = _("暂无投递记录。")

    def render_recipient(self, value: Any) -> str:
        return f"{value.full_name or value.username}（{value.username}）"

    def render_subject(self, record: Any, value: str) -> str:
        return format_html('{}<div class="small text-secondary">{}</div>', value, kind_label(record.notification.kind))

    def render_channel(self, record: Any) -> str:
        return str(record.get_channel_display())

    def render_status(self, record: Any, value: str) -> str:
        return format_html(
            '<span class="badge bg-{}-lt">{}</span>', STATUS_TONES.get(value, "secondary"), record.get_status_display()
        )
