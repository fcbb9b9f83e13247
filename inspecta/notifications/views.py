"""The inbox, one message, the preferences page and the operators' delivery list
(T/CECS 8.2.4)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspecta.core.forms import apply_validation_error
from inspecta.core.generic import ObjectListView

from . import selectors, services
from .catalog import kind_label
from .filtersets import DeliveryFilterSet, InboxFilterSet
from .forms import PreferencesForm
from .permissions import has_inbox, may_view_deliveries
from .sms import sms_enabled
from .tables import DeliveryTable, NotificationTable


def _require_inbox(request: HttpRequest) -> None:
    if not has_inbox(request.user):
        raise PermissionDenied(_("无权查看消息。"))


class InboxView(ObjectListView):
    """The signed-in person's messages, newest first, unread ones marked; a table on a
    wide screen, a list of cards on a phone (``notifications/_inbox_rows.html``)."""

    filterset_class = InboxFilterSet
    table_class = NotificationTable
    template_name = "notifications/inbox.html"
    partial_template_name = "notifications/_inbox_rows.html"
    title = gettext_lazy("消息")
    description = gettext_lazy("预警、审核结果等与您有关的通知。打开一条消息即标为已读。")

    def get_queryset(self, request: HttpRequest) -> Any:
        _require_inbox(request)
        return selectors.inbox(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"may_view_deliveries": may_view_deliveries(request.user)}


inbox_view = InboxView.as_view()


@login_required
def notification_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One message; opening it marks it read."""

    _require_inbox(request)
    notification = selectors.notification_get(actor=request.user, pk=pk)
    services.notification_read(actor=request.user, notification=notification)
    return render(
        request,
        "notifications/detail.html",
        {"notification": notification, "kind_label": kind_label(notification.kind)},
    )


@login_required
@require_POST
def read_all_view(request: HttpRequest) -> HttpResponse:
    _require_inbox(request)
    count = services.notifications_read_all(actor=request.user)
    messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": count})
    return redirect("notifications:inbox")


def _preferences_response(request: HttpRequest, *, form: PreferencesForm, status: int = 200) -> HttpResponse:
    user: Any = request.user
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "grid": form.grid(),
            "has_email": bool(user.email),
            "has_mobile": bool(user.mobile),
            "sms_enabled": sms_enabled(),
        },
        status=status,
    )


@login_required
def preferences_view(request: HttpRequest) -> HttpResponse:
    """Per kind offered to the person, e-mail and SMS on or off; refused input re-renders
    the page with the reason (400) and changes nothing."""

    _require_inbox(request)
    rows = selectors.preference_rows(actor=request.user)
    if request.method != "POST":
        return _preferences_response(request, form=PreferencesForm(rows=rows))
    form = PreferencesForm(request.POST, rows=rows)
    if not form.is_valid():
        return _preferences_response(request, form=form, status=400)
    try:
        services.preferences_set(actor=request.user, choices=form.choices())
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _preferences_response(request, form=form, status=400)
    messages.success(request, _("通知设置已保存。"))
    return redirect("notifications:preferences")


class DeliveryListView(ObjectListView):
    """Every e-mail and SMS of every notification with its status, attempts and last
    error, for the operators: a failing mail server or SMS gateway shows here (T/CECS
    8.2.4)."""

    filterset_class = DeliveryFilterSet
    table_class = DeliveryTable
    title = gettext_lazy("消息投递记录")
    description = gettext_lazy("邮件和短信的发送情况。发送失败的会在 1 分钟后自动重试，最多 3 次。")

    def get_queryset(self, request: HttpRequest) -> Any:
        if not may_view_deliveries(request.user):
            raise PermissionDenied(_("无权查看消息投递记录。"))
        return selectors.delivery_list(actor=request.user)


delivery_list_view = DeliveryListView.as_view()
