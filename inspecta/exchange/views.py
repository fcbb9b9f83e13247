"""Pages of the exchange app: apply, review, clients with their keys, monitoring
(T/CECS 6.0.3-6.0.8). Views parse, authorise, call one service
and render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inspecta.accounts.models import User
from inspecta.core.audit import history_rows
from inspecta.core.errors import ErrorCode, error_response
from inspecta.core.forms import apply_validation_error

from . import permissions, selectors, services
from .choices import AuthMethod, KeyStatus
from .forms import ApplicationForm, ClientSettingsForm, DecisionForm, PublicKeyForm, RevokeForm, RotateForm
from .models import AccessApplication, ClientKey, ExchangeClient


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


@login_required
def client_list_view(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    page = Paginator(selectors.client_list(actor=actor), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/client_list.html",
        {
            "page": page,
            "may_apply": permissions.may_apply(actor),
            "review_count": len(selectors.review_queue(actor=actor)),
            "may_monitor": permissions.may_monitor(actor),
        },
    )


@login_required
def application_list_view(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    status = request.GET.get("status", "")
    if status not in ("", "pending", "approved", "rejected"):
        status = ""
    page = Paginator(selectors.application_list(actor=actor, status=status), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/application_list.html",
        {"page": page, "status": status, "may_apply": permissions.may_apply(actor)},
    )


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


@login_required
def application_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    application = _application(actor, pk)
    client = ExchangeClient.objects.filter(application=application).first()
    return render(
        request,
        "exchange/application_detail.html",
        {
            "application": application,
            "client": client,
            "may_review": permissions.may_review(actor, application) and application.status == "pending",
            "decision_form": DecisionForm(),
        },
    )


@login_required
@require_POST
def application_decide_view(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    application = _application(actor, pk)
    if not permissions.may_review(actor, application):
        raise PermissionDenied(_("只有申请单位所在辖区的主管部门可以审核。"))
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if decision == "approve":
            client, issued = services.application_approve(actor=actor, application=application, reason=reason)
            if issued.secret:
                request.session["issued_secret"] = {"key_id": issued.key.key_id, "secret": issued.secret}
            messages.success(request, _("已批准，密钥标识 %(k)s 已签发。") % {"k": issued.key.key_id})
            return redirect("exchange:client_detail", pk=client.pk)
        if decision == "reject":
            services.application_reject(actor=actor, application=application, reason=reason)
            messages.success(request, _("已驳回。"))
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return HttpResponseRedirect(reverse("exchange:application_detail", args=[pk]), status=303)
    return redirect("exchange:application_detail", pk=pk)


@login_required
def client_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    client = _client(actor, pk)
    issued = request.session.pop("issued_secret", None)
    keys = list(client.keys.all())
    may_manage = permissions.may_manage_client(actor, client)
    context: dict[str, Any] = {
        "client": client,
        "keys": keys,
        "issued": issued if issued and any(k.key_id == issued.get("key_id") for k in keys) else None,
        "may_manage": may_manage,
        "may_administer": permissions.may_review(actor, client.application),
        "awaiting": [k for k in keys if k.status == KeyStatus.AWAITING_PUBLIC_KEY],
        "is_ed25519": client.auth_method == AuthMethod.ED25519,
        "rotate_form": RotateForm(),
        "revoke_form": RevokeForm(),
        "public_key_form": PublicKeyForm(),
        "settings_form": ClientSettingsForm(
            initial={
                "is_active": client.is_active,
                "rate_limit_per_minute": client.rate_limit_per_minute,
                "expect_calls_every_minutes": client.expect_calls_every_minutes,
            }
        ),
        "findings": selectors.findings_for(actor=actor, client=client)[:20],
        "data_url": reverse("exchange:monitoring_data") + f"?client={client.pk}",
    }
    return render(request, "exchange/client_detail.html", context)


@login_required
def client_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    client = _client(actor, pk)
    return render(
        request,
        "generic/history.html",
        {"object": client, "rows": history_rows(client), "back": reverse("exchange:client_detail", args=[pk])},
    )


def _scoped_key(actor: User, client: ExchangeClient, key_id: str) -> ClientKey:
    key = client.keys.filter(key_id=key_id).first()
    if key is None:
        raise Http404(_("密钥不存在。"))
    return key


@login_required
@require_POST
def client_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    client = _client(actor, pk)
    try:
        if action == "rotate":
            form = RotateForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_text())
            hours = form.cleaned_data.get("overlap_hours")
            issued = services.key_rotate(
                actor=actor,
                client=client,
                public_key=form.cleaned_data.get("public_key") or "",
                overlap=timedelta(hours=hours) if hours is not None else None,
            )
            if issued.secret:
                request.session["issued_secret"] = {"key_id": issued.key.key_id, "secret": issued.secret}
            messages.success(request, _("新密钥 %(k)s 已签发，旧密钥在过渡期内仍有效。") % {"k": issued.key.key_id})
        elif action == "revoke":
            revoke_form = RevokeForm(request.POST)
            if not revoke_form.is_valid():
                raise ValidationError(revoke_form.errors.as_text())
            services.key_revoke(
                actor=actor,
                key=_scoped_key(actor, client, request.POST.get("key_id", "")),
                reason=revoke_form.cleaned_data["reason"],
            )
            messages.success(request, _("密钥已吊销。"))
        elif action == "public-key":
            key_form = PublicKeyForm(request.POST)
            if not key_form.is_valid():
                raise ValidationError(key_form.errors.as_text())
            services.key_register_public(
                actor=actor,
                key=_scoped_key(actor, client, request.POST.get("key_id", "")),
                public_key=key_form.cleaned_data["public_key"],
            )
            messages.success(request, _("公钥已登记，密钥已生效。"))
        elif action == "settings":
            settings_form = ClientSettingsForm(request.POST)
            if not settings_form.is_valid():
                raise ValidationError(settings_form.errors.as_text())
            services.client_update(actor=actor, client=client, **settings_form.cleaned_data)
            messages.success(request, _("设置已保存。"))
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return HttpResponseRedirect(reverse("exchange:client_detail", args=[pk]), status=303)
    return redirect("exchange:client_detail", pk=pk)


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
