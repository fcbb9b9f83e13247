"""Pages of the exchange app: apply, review, clients with their keys, monitoring
(T/CECS 6.0.3-6.0.8). Views parse, authorise, call one service
and render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspecta.accounts.models import User
from inspecta.core.errors import ErrorCode, error_response
from inspecta.core.forms import apply_validation_error
from inspecta.core.generic import ObjectDetailView, ObjectHistoryView, ObjectListView

from . import permissions, selectors, services
from .choices import AuthMethod, KeyStatus
from .filtersets import ApplicationFilterSet
from .forms import ApplicationForm, ClientSettingsForm, DecisionForm, PublicKeyForm, RevokeForm, RotateForm
from .models import AccessApplication, ClientKey, ExchangeClient
from .tables import ApplicationTable, ClientTable


def _application(actor: User, pk: int) -> AccessApplication:
    try:
        return selectors.application_get(actor=actor, pk=pk)
    except AccessApplication.DoesNotExist as exc:
        raise Http404(_("接入申请不存在或不在您的权限范围内。")) from exc


def _client(actor: User, pk: int) -> ExchangeClient:
    try:
        return selectors.client_get(actor=actor, pk=pk)
    except ExchangeClient.DoesNotExist as exc:
        raise Http404(_("接入方不存在或不在您的权限范围内。")) from exc


class ClientListView(ObjectListView):
    """The exchange clients in the actor's scope (T/CECS 6.0.7)."""

    table_class = ClientTable
    template_name = "exchange/client_list.html"
    pretitle = gettext_lazy("数据交换接口")
    per_page = 25

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.client_list(actor=request.user)  # type: ignore[arg-type]

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        actor: User = request.user  # type: ignore[assignment]
        return {
            "may_apply": permissions.may_apply(actor),
            "review_count": len(selectors.review_queue(actor=actor)),
            "may_monitor": permissions.may_monitor(actor),
        }


client_list_view = ClientListView.as_view()


class ApplicationListView(ObjectListView):
    """Access applications in the actor's scope, by status (T/CECS 6.0.7)."""

    filterset_class = ApplicationFilterSet
    table_class = ApplicationTable
    template_name = "exchange/application_list.html"
    per_page = 25

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.application_list(actor=request.user)  # type: ignore[arg-type]

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        status = request.GET.get("status", "")
        status = status if status in ("pending", "approved", "rejected") else ""
        return {"status": status, "may_apply": permissions.may_apply(request.user)}  # type: ignore[arg-type]


application_list_view = ApplicationListView.as_view()


@login_required
def application_create_view(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    if not permissions.may_apply(actor):
        raise PermissionDenied(_("只有本单位管理员可以申请接入。"))
    form = ApplicationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_submit(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            status = 400
        else:
            messages.success(request, _("接入申请已提交，等待主管部门审核。"))
            return redirect("exchange:application_detail", pk=application.pk)
    elif request.method == "POST":
        status = 400
    return render(request, "exchange/application_form.html", {"form": form}, status=status)


class ApplicationDetailView(ObjectDetailView):
    """An access application; its reviewer decides here (T/CECS 6.0.7-6.0.8)."""

    template_name = "exchange/application_detail.html"
    context_object_name = "application"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> AccessApplication:
        return _application(request.user, kwargs["pk"])  # type: ignore[arg-type]

    def get_extra_context(self, request: HttpRequest, obj: AccessApplication) -> dict[str, Any]:
        actor: User = request.user  # type: ignore[assignment]
        return {
            "client": ExchangeClient.objects.filter(application=obj).first(),
            "may_review": permissions.may_review(actor, obj) and obj.status == "pending",
            "decision": "",
            "decision_form": DecisionForm(),
        }


application_detail_view = ApplicationDetailView.as_view()


@login_required
@require_POST
def application_decide_view(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Approve (the client and its first key are issued) or reject with reasons
    (T/CECS 6.0.7-6.0.8)."""

    actor: User = request.user  # type: ignore[assignment]
    application = _application(actor, pk)
    if decision not in ("approve", "reject"):
        raise Http404
    if not permissions.may_review(actor, application):
        raise PermissionDenied(_("只有申请单位所在辖区的主管部门可以审核。"))
    form = DecisionForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if decision == "approve":
                client, issued = services.application_approve(actor=actor, application=application, reason=reason)
            else:
                services.application_reject(actor=actor, application=application, reason=reason)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if decision == "reject":
                messages.success(request, _("已驳回。"))
                return redirect("exchange:application_detail", pk=pk)
            if issued.key.secret_pending:
                messages.success(
                    request,
                    _("已批准，密钥标识 %(k)s 已签发；密钥由申请单位管理员在接入方页面领取（仅显示一次）。")
                    % {"k": issued.key.key_id},
                )
            else:
                messages.success(request, _("已批准，密钥标识 %(k)s 已签发。") % {"k": issued.key.key_id})
            return redirect("exchange:client_detail", pk=client.pk)
    application.refresh_from_db()
    return ApplicationDetailView.render_object(request, application, decision=decision, decision_form=form, status=400)


def _client_response(
    request: HttpRequest,
    actor: User,
    client: ExchangeClient,
    *,
    rotate_form: RotateForm | None = None,
    revoke_forms: dict[str, RevokeForm] | None = None,
    public_key_forms: dict[str, PublicKeyForm] | None = None,
    settings_form: ClientSettingsForm | None = None,
    issued: dict[str, str] | None = None,
    reveal_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The client page; a refused or invalid key or settings action re-renders it with
    the bound form and its errors (status 400) instead of a flash and a redirect.
    ``issued`` (``{"key_id", "secret"}``) is an HMAC secret being shown this once: it is
    only ever in this answer (not stored in the session), which no cache keeps."""

    revoke_forms = revoke_forms or {}
    public_key_forms = public_key_forms or {}
    keys = list(client.keys.all())
    awaiting = {k.key_id for k in keys if k.status == KeyStatus.AWAITING_PUBLIC_KEY}
    # a refusal for a key the page offers no form for (any more) is shown on top
    action_errors = [
        str(error)
        for key_id, form in public_key_forms.items()
        if key_id not in awaiting
        for errors in form.errors.values()
        for error in errors
    ]
    context: dict[str, Any] = {
        "client": client,
        "action_errors": action_errors,
        "keys": [{"key": k, "form": revoke_forms.get(k.key_id) or RevokeForm()} for k in keys],
        "issued": issued,
        "pending": [k for k in keys if k.secret_pending],
        "may_receive_secret": permissions.may_receive_secret(actor, client),
        "reveal_error": reveal_error,
        "may_manage": permissions.may_manage_client(actor, client),
        "may_administer": permissions.is_competent_for(actor, client.organisation),
        "awaiting": [
            {"key": k, "form": public_key_forms.get(k.key_id) or PublicKeyForm()} for k in keys if k.key_id in awaiting
        ],
        "is_ed25519": client.auth_method == AuthMethod.ED25519,
        "rotate_form": rotate_form or RotateForm(),
        "settings_form": settings_form
        or ClientSettingsForm(
            initial={
                "is_active": client.is_active,
                "rate_limit_per_minute": client.rate_limit_per_minute,
                "expect_calls_every_minutes": client.expect_calls_every_minutes,
            }
        ),
        "findings": selectors.findings_for(actor=actor, client=client)[:20],
        "data_url": reverse("exchange:monitoring_data") + f"?client={client.pk}",
    }
    response = render(request, "exchange/client_detail.html", context, status=status)
    if issued:
        response["Cache-Control"] = "no-store"
    return response


@login_required
def client_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    return _client_response(request, actor, _client(actor, pk))


class ClientHistoryView(ObjectHistoryView):
    """Every change of an exchange client's settings."""

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        return _client(request.user, kwargs["pk"])  # type: ignore[arg-type]

    def get_return_url(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> str:
        return reverse("exchange:client_detail", args=[kwargs["pk"]])


client_history_view = ClientHistoryView.as_view()


def _scoped_key(actor: User, client: ExchangeClient, key_id: str) -> ClientKey:
    key = client.keys.filter(key_id=key_id).first()
    if key is None:
        raise Http404(_("密钥不存在。"))
    return key


@login_required
@require_POST
def client_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Rotate, revoke or register a key (the client's admins and its authority), or change
    the settings (the authority; T/CECS 6.0.4, 6.0.8)."""

    actor: User = request.user  # type: ignore[assignment]
    client = _client(actor, pk)
    if action not in ("rotate", "revoke", "public-key", "settings", "reveal"):
        raise Http404
    if action == "reveal":
        return _reveal(request, actor, client)
    if action == "settings":
        if not permissions.is_competent_for(actor, client.organisation):
            raise PermissionDenied(_("只有主管部门可以启停接入方或调整限流。"))
    elif not permissions.may_manage_client(actor, client):
        raise PermissionDenied(_("无权管理该接入方的密钥。"))
    if action == "rotate":
        rotate_form = RotateForm(request.POST)
        if rotate_form.is_valid():
            hours = rotate_form.cleaned_data.get("overlap_hours")
            try:
                issued = services.key_rotate(
                    actor=actor,
                    client=client,
                    public_key=rotate_form.cleaned_data.get("public_key") or "",
                    overlap=timedelta(hours=hours) if hours is not None else None,
                )
            except ValidationError as exc:
                apply_validation_error(rotate_form, exc)
            else:
                messages.success(request, _("新密钥 %(k)s 已签发，旧密钥在过渡期内仍有效。") % {"k": issued.key.key_id})
                if issued.secret:  # self-service rotation: shown on this answer, once
                    shown = {"key_id": issued.key.key_id, "secret": issued.secret}
                    return _client_response(request, actor, client, issued=shown)
                return redirect("exchange:client_detail", pk=pk)
        return _client_response(request, actor, client, rotate_form=rotate_form, status=400)
    if action == "settings":
        settings_form = ClientSettingsForm(request.POST)
        if settings_form.is_valid():
            try:
                services.client_update(actor=actor, client=client, **settings_form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(settings_form, exc)
            else:
                messages.success(request, _("设置已保存。"))
                return redirect("exchange:client_detail", pk=pk)
        client.refresh_from_db()
        return _client_response(request, actor, client, settings_form=settings_form, status=400)
    key = _scoped_key(actor, client, request.POST.get("key_id", ""))
    if action == "revoke":
        revoke_form = RevokeForm(request.POST)
        if revoke_form.is_valid():
            try:
                services.key_revoke(actor=actor, key=key, reason=revoke_form.cleaned_data["reason"])
            except ValidationError as exc:
                apply_validation_error(revoke_form, exc)
            else:
                messages.success(request, _("密钥已吊销。"))
                return redirect("exchange:client_detail", pk=pk)
        return _client_response(request, actor, client, revoke_forms={key.key_id: revoke_form}, status=400)
    key_form = PublicKeyForm(request.POST)
    if key_form.is_valid():
        try:
            services.key_register_public(actor=actor, key=key, public_key=key_form.cleaned_data["public_key"])
        except ValidationError as exc:
            apply_validation_error(key_form, exc)
        else:
            messages.success(request, _("公钥已登记，密钥已生效。"))
            return redirect("exchange:client_detail", pk=pk)
    return _client_response(request, actor, client, public_key_forms={key.key_id: key_form}, status=400)


def _reveal(request: HttpRequest, actor: User, client: ExchangeClient) -> HttpResponse:
    """Show a pending HMAC secret to an admin of the client's own organisation, once
    (T/CECS 6.0.5, 6.0.8); the answer page is the only place it appears."""

    if not permissions.may_receive_secret(actor, client):
        raise PermissionDenied(_("只有接入单位的管理员可以领取密钥。"))
    key = _scoped_key(actor, client, request.POST.get("key_id", ""))
    try:
        secret = services.key_secret_reveal(actor=actor, key=key)
    except ValidationError as exc:
        return _client_response(request, actor, client, reveal_error=" ".join(exc.messages), status=400)
    return _client_response(request, actor, client, issued={"key_id": key.key_id, "secret": secret})


@login_required
def monitoring_view(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    if not permissions.may_monitor(actor):
        raise PermissionDenied(_("只有运维和监管人员可以查看接口监控。"))
    clients = list(selectors.client_list(actor=actor))
    return render(
        request,
        "exchange/monitoring.html",
        {
            "clients": clients,
            "findings": selectors.findings_for(actor=actor).filter(resolved_at__isnull=True)[:50],
            "data_url": reverse("exchange:monitoring_data"),
        },
    )


@login_required
def monitoring_data_view(request: HttpRequest) -> HttpResponse:
    """JSON series for the ECharts on the monitoring pages: one client, or every client
    the user may see (the node for operators)."""

    actor: User = request.user  # type: ignore[assignment]
    raw = request.GET.get("client", "")
    try:
        hours = min(24 * 31, max(1, int(request.GET.get("hours", "24"))))
    except ValueError:
        return error_response(ErrorCode.BAD_REQUEST, _("参数不正确。"))
    if raw:
        if not raw.isdigit():
            return error_response(ErrorCode.BAD_REQUEST, _("参数不正确。"))
        client = _client(actor, int(raw))
        ids: list[int] | None = [client.pk]
    else:
        if not permissions.may_monitor(actor):
            raise PermissionDenied
        ids = None if actor.is_operator else list(selectors.client_list(actor=actor).values_list("pk", flat=True))
    bucket = 60 if hours > 6 else 5
    return JsonResponse(selectors.traffic_series(client_ids=ids, hours=hours, bucket_minutes=bucket))
