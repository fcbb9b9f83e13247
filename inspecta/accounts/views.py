"""Pages of accounts: sign-in with second factor, password change, profile, user and
organisation management. Views parse, authorise, call one service and render."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.core.errors import AppError, ErrorCode, error_response
from inspecta.core.forms import apply_validation_error
from inspecta.core.generic import ObjectHistoryView, ObjectListView
from inspecta.core.limits import ip_rate_limited
from inspecta.core.masking import Audience, mask_id_number, mask_mobile

from . import passkeys, permissions, selectors, services
from .choices import AuthEventKind, RegistrationStatus
from .filtersets import UserFilterSet
from .forms import (
    DecisionForm,
    LoginForm,
    OrganisationCreateForm,
    OTPForm,
    PasswordChangeForm,
    PasswordResetForm,
    PersonRegistrationForm,
    UserCreateForm,
    UserEditForm,
)
from .middleware import pending_step
from .models import Organisation, Registration, User
from .tables import OrganisationTable, UserTable


def _generated_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        core = "".join(secrets.choice(alphabet) for _i in range(12))
        candidate = f"{core}#{secrets.randbelow(90) + 10}"
        if any(c.islower() for c in core) and any(c.isupper() for c in core):
            return candidate


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# --- sign-in ----------------------------------------------------------------------


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes calls this when an account is locked (5 consecutive failures)."""

    username = (credentials or {}).get("username", "") if isinstance(credentials, dict) else ""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = LoginForm(initial={"username": username})
    message = _("连续登录失败次数过多，账号已锁定 %(m)d 分钟。") % {"m": minutes}
    return render(request, "accounts/login.html", {"form": form, "error": message}, status=403)


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and pending_step(request) is None:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        if services.failures_in_last_hour(username) >= settings.INSPECTA_MAX_FAILURES_PER_HOUR:
            services.auth_event_record(kind=AuthEventKind.THROTTLED, username=username, request=request)
            error = _("该账号一小时内失败次数已达上限，请稍后再试。")
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if getattr(request, "axes_locked_out", False):
                # AxesMiddleware turns this response into the lock-out page.
                return render(request, "accounts/login.html", {"form": form}, status=403)
            if user is None:
                error = _("用户名或密码不正确。")
                status = 400
            else:
                login(request, user)  # rotates the session id
                step = pending_step(request)
                if step is not None:
                    return redirect(step)
                return HttpResponseRedirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "next": request.GET.get("next", "")},
        status=status,
    )


@login_required
def otp_verify_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = OTPForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip().replace(" ", "")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        verified = None
        if device is not None and device.verify_is_allowed()[0] and device.verify_token(token):
            verified = device
            services.auth_event_record(
                kind=AuthEventKind.OTP_SUCCEEDED, username=user.username, user=user, request=request
            )
        else:
            recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
            if recovery is not None and recovery.verify_token(token):
                verified = recovery
                services.auth_event_record(
                    kind=AuthEventKind.RECOVERY_CODE_USED, username=user.username, user=user, request=request
                )
        if verified is not None:
            services.second_factor_passed(request=request, device=verified)
            step = pending_step(request)
            return redirect(step or settings.LOGIN_REDIRECT_URL)
        services.auth_event_record(kind=AuthEventKind.OTP_FAILED, username=user.username, user=user, request=request)
        form.add_error("token", _("动态口令或恢复码不正确。"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/otp_verify.html", {"form": form}, status=status)


@login_required
def otp_setup_view(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: scan the QR (or type the key), confirm with a code."""

    user: User = request.user  # type: ignore[assignment]
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not user.is_verified():  # type: ignore[attr-defined]
        return redirect("accounts:otp_verify")
    form = OTPForm(request.POST or None)
    status = 200
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-created_at").first()
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            codes = services.totp_device_confirm(
                user=user, device=device, token=form.cleaned_data["token"], request=request
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            status = 400
        else:
            services.second_factor_passed(request=request, device=device)
            request.session["recovery_codes"] = codes
            return redirect("accounts:recovery_codes")
    elif request.method == "POST":
        status = 400
    # the same secret until it is confirmed or expires: a reload or a second request
    # never replaces the QR the user has scanned
    device = services.totp_device_pending(user=user)
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5)
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
        status=status,
    )


@login_required
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not request.user.is_verified():  # type: ignore[union-attr,attr-defined]
            raise PermissionDenied
        request.session["recovery_codes"] = services.recovery_codes_regenerate(user=request.user)  # type: ignore[arg-type]
        return redirect("accounts:recovery_codes")
    codes = request.session.pop("recovery_codes", None)
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@login_required
def password_change_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.user_change_password(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                request=request,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, default_field="new_password")
            status = 400
        else:
            from django.contrib.auth import update_session_auth_hash

            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。"))
            return redirect(settings.LOGIN_REDIRECT_URL)
    elif request.method == "POST":
        status = 400
    reason = ""
    if user.must_change_password:
        reason = _("首次登录或密码被重置，请设置新密码。")
    elif user.password_expired:
        reason = _("密码已超过 %(d)d 天未修改，请设置新密码。") % {"d": settings.INSPECTA_PASSWORD_MAX_AGE_DAYS}
    return render(request, "accounts/password_change.html", {"form": form, "reason": reason}, status=status)


def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)
        return redirect(settings.LOGOUT_REDIRECT_URL)
    return render(request, "accounts/logout.html")


# --- profile ----------------------------------------------------------------------


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = UserEditForm(
        request.POST or None, initial={"full_name": user.full_name, "mobile": user.mobile, "email": user.email}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=user, user=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            status = 400
        else:
            messages.success(request, _("个人信息已保存。"))
            return redirect("accounts:profile")
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "events": selectors.auth_events_for(actor=user, user=user, limit=20),
        "has_totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "recovery_left": sum(d.token_set.count() for d in StaticDevice.objects.filter(user=user)),
        "passkeys": selectors.passkey_list(actor=user, user=user),
    }
    return render(request, "accounts/profile.html", context, status=status)


# --- passkeys (accounts.passkeys; T/CECS 4.3.4-2) -------------------------------------


@login_required
@require_POST
def passkey_options_view(request: HttpRequest) -> HttpResponse:
    """The options with which the signed-in person's phone makes a new passkey."""

    options = passkeys.passkey_registration_options(user=request.user)  # type: ignore[arg-type]
    return HttpResponse(options, content_type="application/json")


@login_required
@require_POST
def passkey_register_view(request: HttpRequest) -> HttpResponse:
    """Keep the passkey the phone made: JSON ``{"credential": {...}, "name": "..."}``;
    answers 201 ``{"id", "name"}`` or the error envelope (nothing kept)."""

    user: User = request.user  # type: ignore[assignment]
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return error_response(ErrorCode.BAD_REQUEST, _("请求内容无法读取，请重试。"))
    credential = body.get("credential") if isinstance(body, dict) else None
    name = body.get("name", "") if isinstance(body, dict) else None
    if not isinstance(credential, dict) or not isinstance(name, str):
        return error_response(ErrorCode.INVALID_INPUT, _("请求内容不完整，请重试。"))
    try:
        passkey = passkeys.passkey_register(actor=user, user=user, credential=credential, name=name)
    except AppError as exc:
        return exc.response()
    messages.success(request, _("通行密钥“%(name)s”已添加。") % {"name": passkey.name})
    return JsonResponse({"id": passkey.pk, "name": passkey.name}, status=201, json_dumps_params={"ensure_ascii": False})


@login_required
@require_POST
def passkey_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove one of one's own passkeys (another person's is not found: 404)."""

    user: User = request.user  # type: ignore[assignment]
    passkey = selectors.passkey_get(actor=user, pk=pk, action="change")
    passkeys.passkey_remove(actor=user, passkey=passkey)
    messages.success(request, _("通行密钥“%(name)s”已移除。") % {"name": passkey.name})
    return HttpResponseRedirect(reverse("accounts:profile") + "#passkeys")


# --- user management --------------------------------------------------------------


def _require_admin(user: Any) -> None:
    if not permissions.may_administer_accounts(user):
        raise PermissionDenied(_("只有管理员可以管理账号。"))


def _scoped_user(actor: User, pk: int) -> User:
    try:
        return selectors.user_get(actor=actor, pk=pk)
    except User.DoesNotExist as exc:
        raise Http404(_("用户不存在或不在您的管理范围内。")) from exc


class UserListView(ObjectListView):
    """The accounts an administrator manages, top-down (GB/T 22239 8.1.4.2)."""

    filterset_class = UserFilterSet
    table_class = UserTable
    template_name = "accounts/user_list.html"
    per_page = 25

    def get_queryset(self, request: HttpRequest) -> Any:
        actor: User = request.user  # type: ignore[assignment]
        _require_admin(actor)
        return selectors.user_list(actor=actor)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"can_create": bool(services.allocatable(request.user))}  # type: ignore[arg-type]


user_list_view = UserListView.as_view()


@login_required
def user_create_view(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    _require_admin(actor)
    allocations = services.allocatable(actor)
    if not allocations:
        raise PermissionDenied(_("您没有可分配的账号。"))
    form = UserCreateForm(request.POST or None, allocations=allocations)
    status = 200
    if request.method == "POST" and form.is_valid():
        allocation = form.cleaned_data["allocation"]
        password = form.cleaned_data["password"] or _generated_password()
        try:
            user = services.user_create(
                actor=actor,
                username=form.cleaned_data["username"],
                full_name=form.cleaned_data["full_name"],
                organisation=allocation.organisation,
                roles=[allocation.role],
                password=password,
                mobile=form.cleaned_data["mobile"],
                email=form.cleaned_data["email"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, default_field="password")
            status = 400
        else:
            if not form.cleaned_data["password"]:
                request.session["issued_password"] = {"user": user.pk, "password": password}
            messages.success(request, _("账号 %(u)s 已创建。") % {"u": user.username})
            return redirect("accounts:user_detail", pk=user.pk)
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/user_form.html", {"form": form}, status=status)


def _user_detail_response(
    request: HttpRequest,
    actor: User,
    user: User,
    *,
    edit_form: UserEditForm | None = None,
    reset_form: PasswordResetForm | None = None,
    action_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The account page; a refused or invalid action re-renders it with the bound form and
    its errors (status 400) instead of a flash and a redirect."""

    issued = request.session.pop("issued_password", None) if status == 200 else None
    context = {
        "subject": user,
        "issued_password": issued["password"] if issued and issued.get("user") == user.pk else None,
        "may_manage": permissions.may_manage(actor, user),
        "events": selectors.auth_events_for(actor=actor, user=user),
        "has_totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "edit_form": edit_form
        or UserEditForm(initial={"full_name": user.full_name, "mobile": user.mobile, "email": user.email}),
        "reset_form": reset_form or PasswordResetForm(),
        "action_errors": action_errors or [],
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@login_required
def user_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    _require_admin(actor)
    return _user_detail_response(request, actor, _scoped_user(actor, pk))


@login_required
@require_POST
def user_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    _require_admin(actor)
    user = _scoped_user(actor, pk)
    if not permissions.may_manage(actor, user):
        raise PermissionDenied(_("无权管理该账号。"))
    if action == "edit":
        edit_form = UserEditForm(request.POST)
        if edit_form.is_valid():
            try:
                services.user_update(actor=actor, user=user, **edit_form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(edit_form, exc)
            else:
                messages.success(request, _("用户信息已保存。"))
                return redirect("accounts:user_detail", pk=user.pk)
        return _user_detail_response(request, actor, user, edit_form=edit_form, status=400)
    if action == "reset-password":
        reset_form = PasswordResetForm(request.POST)
        if reset_form.is_valid():
            password = reset_form.cleaned_data["password"] or _generated_password()
            try:
                services.user_reset_password(actor=actor, user=user, password=password, request=request)
            except ValidationError as exc:
                apply_validation_error(reset_form, exc, "password")
            else:
                if not reset_form.cleaned_data["password"]:
                    request.session["issued_password"] = {"user": user.pk, "password": password}
                messages.success(request, _("密码已重置，用户下次登录时须修改。"))
                return redirect("accounts:user_detail", pk=user.pk)
        return _user_detail_response(request, actor, user, reset_form=reset_form, status=400)
    actions = {
        "disable": (services.user_disable, _("账号已停用，其会话已全部结束。")),
        "enable": (services.user_enable, _("账号已启用。")),
        "reset-2fa": (services.user_reset_second_factor, _("动态口令已重置，用户下次登录时须重新绑定。")),
    }
    if action not in actions:
        raise Http404
    service, done = actions[action]
    try:
        service(actor=actor, user=user, request=request)
    except ValidationError as exc:
        return _user_detail_response(request, actor, user, action_errors=exc.messages, status=400)
    messages.success(request, done)
    return redirect("accounts:user_detail", pk=user.pk)


class UserHistoryView(ObjectHistoryView):
    """Every change of an account: the user itself, or its administrators."""

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        actor: User = request.user  # type: ignore[assignment]
        if actor.pk != kwargs["pk"]:
            _require_admin(actor)
        return _scoped_user(actor, kwargs["pk"])

    def get_return_url(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> str:
        if request.user.pk != kwargs["pk"]:
            return reverse("accounts:user_detail", args=[kwargs["pk"]])
        return reverse("accounts:profile")


user_history_view = UserHistoryView.as_view()


# --- organisations ----------------------------------------------------------------


def _require_organisation_admin(user: Any) -> None:
    if not permissions.may_administer_organisations(user):
        raise PermissionDenied(_("只有管理员可以管理单位。"))


class OrganisationListView(ObjectListView):
    """The organisations an administrator manages, top-down (GB/T 22239 8.1.4.2)."""

    table_class = OrganisationTable
    template_name = "accounts/organisation_list.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        actor: User = request.user  # type: ignore[assignment]
        _require_organisation_admin(actor)
        return selectors.organisation_list(actor=actor, action="change")


organisation_list_view = OrganisationListView.as_view()


@login_required
def organisation_create_view(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    _require_organisation_admin(actor)
    form = OrganisationCreateForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_create(
                actor=actor, name=form.cleaned_data["name"], region=form.cleaned_data["region"], **form.resolve()
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            status = 400
        else:
            messages.success(request, _("单位已创建。"))
            return redirect("accounts:organisation_list")
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/organisation_form.html", {"form": form}, status=status)


class OrganisationHistoryView(ObjectHistoryView):
    """Every change of an organisation, for the administrators who may change it."""

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        actor: User = request.user  # type: ignore[assignment]
        _require_organisation_admin(actor)
        try:
            return selectors.organisation_list(actor=actor, action="change").get(pk=kwargs["pk"])
        except Organisation.DoesNotExist as exc:
            raise Http404(_("单位不存在或不在您的管理范围内。")) from exc

    def get_return_url(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> str:
        return reverse("accounts:organisation_list")


organisation_history_view = OrganisationHistoryView.as_view()


# --- personal registration (Nanchang 一(二) 人员注册) ------------------------------------


def person_register_view(request: HttpRequest) -> HttpResponse:
    """A person registers from a phone (public page): name, citizen ID, mobile number,
    photo (the phone's front camera), employer and duty, username and password. The
    submissions of one client address are limited (``INSPECTA_REGISTRATION_RATE_PER_HOUR``)."""

    form = PersonRegistrationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if ip_rate_limited(request, "accounts.registration", settings.INSPECTA_REGISTRATION_RATE_PER_HOUR, 3600):
            form.add_error(None, _("提交过于频繁，请一小时后再试。"))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                organisation = services.employer_find(data["employer"])
                photo = data["photo"]
                registration = services.registration_submit(
                    organisation=organisation,
                    full_name=data["full_name"],
                    id_number=data["id_number"],
                    mobile=data["mobile"],
                    email=data["email"],
                    photo=photo,
                    photo_name=getattr(photo, "name", ""),
                    role=data["role"],
                    username=data["username"],
                    password=data["password"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                return redirect("accounts:registration_status", token=registration.token)
    return render(request, "accounts/person_register.html", {"form": form}, status=status)


def registration_status_view(request: HttpRequest, token: str) -> HttpResponse:
    """Where the person reads the decision on their registration (the link they keep)."""

    registration = Registration.objects.select_related("organisation").filter(token=token).first()
    if registration is None or not token:
        raise Http404(_("没有这份注册。"))
    return render(request, "accounts/registration_status.html", {"registration": registration})


def _require_registration_admin(user: Any) -> None:
    if not permissions.administers_own_organisation(user) and not permissions.is_operator(user):
        raise PermissionDenied(_("只有单位管理员可以确认人员注册。"))


def _masked(actor: User, registration: Registration, *, listing: bool = False) -> dict[str, str]:
    """The person's numbers as ``actor`` may see them; in a list never whole (a list is
    scanned over a shoulder; the detail page shows them to the person's own admin)."""

    audience = permissions.person_audience(actor, registration.organisation_id, registration.user_id)
    if listing and audience == Audience.FULL:
        audience = Audience.AUTHORITY
    return {
        "id_number": mask_id_number(registration.id_number, audience),
        "mobile": mask_mobile(registration.mobile, audience),
    }


@login_required
def registration_list_view(request: HttpRequest) -> HttpResponse:
    """The registrations of the admin's own organisation: pending first (Nanchang 一(二))."""

    actor: User = request.user  # type: ignore[assignment]
    _require_registration_admin(actor)
    show = request.GET.get("show", "pending")
    qs = selectors.registration_list(actor=actor)
    if show != "all":
        qs = qs.filter(status=RegistrationStatus.PENDING)
    rows = [(r, _masked(actor, r, listing=True)) for r in qs[:200]]
    return render(request, "accounts/registration_list.html", {"rows": rows, "show": show})


def _registration_detail(
    request: HttpRequest,
    actor: User,
    registration: Registration,
    *,
    form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "registration": registration,
        "masked": _masked(actor, registration),
        "may_decide": permissions.may_decide_registration(actor, registration),
        "form": form or DecisionForm(),
    }
    return render(request, "accounts/registration_detail.html", context, status=status)


def _scoped_registration(actor: User, pk: int) -> Registration:
    try:
        return selectors.registration_get(actor=actor, pk=pk)
    except Registration.DoesNotExist as exc:
        raise Http404(_("注册不存在或不在您的管理范围内。")) from exc


@login_required
def registration_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    _require_registration_admin(actor)
    return _registration_detail(request, actor, _scoped_registration(actor, pk))


@login_required
@require_POST
def registration_decide_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve (the account is created) or reject (a reason is required)."""

    actor: User = request.user  # type: ignore[assignment]
    _require_registration_admin(actor)
    registration = _scoped_registration(actor, pk)
    if action not in ("approve", "reject"):
        raise Http404
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _registration_detail(request, actor, registration, form=form, status=400)
    reason = form.cleaned_data["reason"]
    try:
        if action == "approve":
            user = services.registration_approve(actor=actor, registration=registration, reason=reason)
            messages.success(request, _("已确认，账号 %(u)s 已开通。") % {"u": user.username})
        else:
            services.registration_reject(actor=actor, registration=registration, reason=reason)
            messages.success(request, _("已驳回该注册。"))
    except ValidationError as exc:
        apply_validation_error(form, exc, default_field="reason")
        return _registration_detail(request, actor, registration, form=form, status=400)
    return redirect("accounts:registration_list")
