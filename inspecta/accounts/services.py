"""Every write to accounts and organisations (STYLE.md 4).

Account allocation is top-down (Guangdong 附件2 一(一)): the platform operator creates
province admins; an admin creates the admins of the level directly below, the
supervisors of its own department and the inspectors of the stations under it. Nobody
creates or sees an account outside their subtree.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.core.actors import actor_of
from inspecta.core.audit import current_request_id
from inspecta.core.errors import AppError
from inspecta.core.files import file_store
from inspecta.core.identifiers import MOBILE, credit_code_is_valid, validate_id_number
from inspecta.core.models import Region
from inspecta.ledger.choices import LogKind
from inspecta.ledger.services import log_append

from .choices import (
    ADMIN_ROLES,
    LEVEL_BELOW,
    REGISTERING_KINDS,
    ROLES_BY_KIND,
    AuthEventKind,
    AuthorityLevel,
    OrganisationKind,
    RegistrationStatus,
    Role,
    registrable_roles,
)
from .models import AuthEvent, Organisation, Registration, RoleGrant, User
from .permissions import (
    administers_own_organisation,
    may_administer_accounts,
    may_allocate,
    may_decide_registration,
    may_manage,
)

logger = logging.getLogger(__name__)

REGION_LEVEL_FOR = {
    AuthorityLevel.PROVINCE: "province",
    AuthorityLevel.CITY: "city",
    AuthorityLevel.DISTRICT: "county",
}


# --- authentication log -----------------------------------------------------------


def auth_event_record(
    *, kind: str, username: str, user: User | None = None, request: HttpRequest | None = None, detail: str = ""
) -> AuthEvent:
    """Write one authentication event (who, when, IP, result)."""

    ip = None
    agent = ""
    if request is not None:
        ip = request.META.get("REMOTE_ADDR") or None
        agent = request.META.get("HTTP_USER_AGENT", "")[:255]
    return AuthEvent.objects.create(
        user=user,
        username=username[:150],
        kind=kind,
        ip=ip,
        user_agent=agent,
        request_id=current_request_id.get(),
        detail=detail[:255],
    )


def failures_in_last_hour(username: str) -> int:
    since = timezone.now() - timedelta(hours=1)
    return AuthEvent.objects.filter(
        username=username, kind__in=[AuthEventKind.LOGIN_FAILED, AuthEventKind.OTP_FAILED], at__gte=since
    ).count()


# --- organisations ----------------------------------------------------------------


def _set_tree_path(org: Organisation) -> None:
    prefix = org.parent.tree_path if org.parent_id else "/"  # type: ignore[union-attr]
    org.tree_path = f"{prefix}{org.pk}/"
    org.save(update_fields=["tree_path"])


@transaction.atomic
def organisation_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    region: Region,
    level: str = "",
    parent: Organisation | None = None,
    credit_code: str = "",
) -> Organisation:
    """Create an organisation. Authorities and stations are created along the tree:
    an operator creates province authorities; an authority admin creates the
    authorities one level below it (inside its region) and the stations of its own
    level. ``actor=None`` is the system itself (seed and demo data)."""

    if kind in (OrganisationKind.AUTHORITY, OrganisationKind.STATION):
        if not level:
            raise ValidationError({"level": _("主管部门和监督站须指定层级。")})
        if region.level != REGION_LEVEL_FOR[AuthorityLevel(level)]:
            raise ValidationError({"region": _("行政区划的层级与单位层级不一致。")})
        if actor is not None:
            _check_may_create_organisation(actor, kind=kind, level=level, region=region, parent=parent)
    elif actor is not None and not actor.is_operator:
        raise PermissionDenied(_("无权创建该类单位。"))
    org = Organisation(name=name, kind=kind, level=level, region=region, parent=parent, credit_code=credit_code)
    org.full_clean(exclude=["tree_path"])
    org.save()
    _set_tree_path(org)
    log_append(kind=LogKind.ORGANISATION_CREATION, record=org)
    return org


def _check_may_create_organisation(
    actor: User, *, kind: str, level: str, region: Region, parent: Organisation | None
) -> None:
    if actor.is_operator:
        if kind == OrganisationKind.AUTHORITY and level == AuthorityLevel.PROVINCE and parent is None:
            return
        if parent is not None:
            return
        raise PermissionDenied(_("省级以下单位须挂在上级单位之下。"))
    own = actor.organisation
    if not actor.is_authority_admin or own is None or parent is None or parent.pk != own.pk:
        raise PermissionDenied(_("只能在本部门之下创建单位。"))
    if not region.code.startswith(_region_prefix_of(own)):
        raise PermissionDenied(_("不能在本辖区以外创建单位。"))
    if kind == OrganisationKind.AUTHORITY and LEVEL_BELOW.get(AuthorityLevel(own.level)) != level:
        raise PermissionDenied(_("只能创建下一级主管部门。"))
    if kind == OrganisationKind.STATION and (level != own.level or region.code != own.region_id):
        raise PermissionDenied(_("监督站须与本部门同级、同区划。"))


def _region_prefix_of(org: Organisation) -> str:
    from inspecta.core.scoping import region_prefix

    return region_prefix(org.region_id)


# --- allocation rules -------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    """One (organisation, role) pair that an actor may create accounts for."""

    organisation: Organisation
    role: str


def allocatable(who: Any) -> list[Allocation]:
    """What accounts ``who`` may create (Guangdong 附件2 一(一))."""

    actor = actor_of(who)
    if actor.is_operator:
        result = [
            Allocation(org, Role.AUTHORITY_ADMIN)
            for org in Organisation.objects.filter(
                kind=OrganisationKind.AUTHORITY, level=AuthorityLevel.PROVINCE, is_active=True
            ).select_related("region")
        ]
        result += [
            Allocation(org, Role.OPERATOR)
            for org in Organisation.objects.filter(kind=OrganisationKind.OPERATOR, is_active=True)
        ]
        return result
    own = actor.organisation
    if not may_administer_accounts(actor) or own is None:
        return []
    if administers_own_organisation(actor):
        # an agency or a project party: its admin creates its own people (Nanchang 一(二))
        return [Allocation(own, role) for role in ROLES_BY_KIND.get(own.kind, ()) if role not in ADMIN_ROLES]
    result = [Allocation(own, Role.AUTHORITY_SUPERVISOR)]
    for child in own.children.filter(is_active=True).select_related("region").order_by("name"):
        if child.kind == OrganisationKind.AUTHORITY:
            result.append(Allocation(child, Role.AUTHORITY_ADMIN))
        elif child.kind == OrganisationKind.STATION:
            result.append(Allocation(child, Role.STATION_INSPECTOR))
    return result


# --- users ------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    organisation: Organisation,
    roles: list[str],
    password: str,
    mobile: str = "",
    email: str = "",
    must_change_password: bool = True,
    is_demo: bool = False,
    password_hash: str = "",
) -> User:
    """Create an account. With an ``actor``, every role must be allocatable by it; the
    new user must change the initial password at first login. ``password_hash``: the
    hash of a password the person chose and that was checked when they registered
    (``registration_approve``); ``password`` is then empty."""

    if not roles:
        raise ValidationError({"roles": _("至少选择一个角色。")})
    allowed = ROLES_BY_KIND.get(OrganisationKind(organisation.kind), ())
    for role in roles:
        if role not in allowed:
            raise ValidationError({"roles": _("该单位的用户不能担任“%(role)s”。") % {"role": Role(role).label}})
        if actor is not None and not may_allocate(actor, organisation, role):
            raise PermissionDenied(_("无权为该单位分配“%(role)s”账号。") % {"role": Role(role).label})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("用户名已被使用。")})
    user = User(
        username=username,
        full_name=full_name,
        organisation=organisation,
        mobile=mobile,
        email=email,
        must_change_password=must_change_password,
        created_by=actor,
        is_demo=is_demo,
        password_changed_at=timezone.now(),
    )
    if password_hash:
        user.password = password_hash
    else:
        password_validation.validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    for role in sorted(set(roles)):
        RoleGrant.objects.create(user=user, role=role)
    log_append(kind=LogKind.ACCOUNT_ALLOCATION, record=user)
    return user


def _require_manage(actor: User, user: User) -> None:
    if not may_manage(actor, user):
        raise PermissionDenied(_("无权管理该账号。"))


def end_sessions(user: User) -> int:
    """Delete every session the user holds: takes effect on their very next request."""

    keys = list(user.active_sessions.values_list("session_key", flat=True))
    deleted, _ignored = Session.objects.filter(session_key__in=keys).delete()
    user.active_sessions.all().delete()
    return deleted


def _set_active(*, actor: User, user: User, active: bool, request: HttpRequest | None) -> User:
    _require_manage(actor, user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    log_append(kind=LogKind.ACCOUNT_STATUS_CHANGE, record=user)
    if not active:
        end_sessions(user)
    auth_event_record(
        kind=AuthEventKind.ACCOUNT_ENABLED if active else AuthEventKind.ACCOUNT_DISABLED,
        username=user.username,
        user=user,
        request=request,
        detail=f"by {actor.username}",
    )
    return user


@transaction.atomic
def user_disable(*, actor: User, user: User, request: HttpRequest | None = None) -> User:
    """Disable an account and end its sessions at once."""

    return _set_active(actor=actor, user=user, active=False, request=request)


@transaction.atomic
def user_enable(*, actor: User, user: User, request: HttpRequest | None = None) -> User:
    return _set_active(actor=actor, user=user, active=True, request=request)


@transaction.atomic
def user_update(*, actor: User, user: User, full_name: str, mobile: str, email: str) -> User:
    if actor.pk != user.pk:
        _require_manage(actor, user)
    user.full_name = full_name
    user.mobile = mobile
    user.email = email
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "mobile", "email"])
    return user


@transaction.atomic
def user_reset_password(*, actor: User, user: User, password: str, request: HttpRequest | None = None) -> User:
    """An admin sets a temporary password; the user must change it at next login."""

    _require_manage(actor, user)
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.must_change_password = True
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    end_sessions(user)
    auth_event_record(
        kind=AuthEventKind.PASSWORD_RESET,
        username=user.username,
        user=user,
        request=request,
        detail=f"by {actor.username}",
    )
    return user


@transaction.atomic
def user_change_password(
    *, user: User, old_password: str, new_password: str, request: HttpRequest | None = None
) -> User:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("原密码不正确。")})
    if old_password == new_password:
        raise ValidationError({"new_password": _("新密码不能与原密码相同。")})
    password_validation.validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    auth_event_record(kind=AuthEventKind.PASSWORD_CHANGED, username=user.username, user=user, request=request)
    return user


# --- second factor ----------------------------------------------------------------


def second_factor_passed(*, request: HttpRequest, device: Any) -> None:
    """Mark the session as verified by ``device`` and give it a new id (GB/T 22239
    8.1.4.2: a session identifier does not survive a change of privilege; the id seen
    before the second factor is worth nothing after it), keeping the session registry
    (``ActiveSession``) on the new id."""

    from django_otp import login as otp_login

    from .models import ActiveSession

    otp_login(request, device)
    old = request.session.session_key
    request.session.cycle_key()
    if old:
        ActiveSession.objects.filter(session_key=old).update(session_key=request.session.session_key)


def totp_device_start(*, user: User) -> TOTPDevice:
    """Begin enrolment anew: an unconfirmed TOTP device with a fresh secret to scan
    (the user asked for another secret)."""

    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="default", confirmed=False)


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The secret being enrolled: the user's unconfirmed device while it is younger than
    ``INSPECTA_TOTP_ENROL_SECONDS``, else a fresh one (``totp_device_start``). Showing the
    setup page again (a reload, a second tab) shows the same secret, so the QR already
    scanned stays valid until it is confirmed or expires."""

    oldest = timezone.now() - timedelta(seconds=settings.INSPECTA_TOTP_ENROL_SECONDS)
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=False, created_at__gte=oldest).order_by("-created_at").first()
    )
    return device if device is not None else totp_device_start(user=user)


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice, token: str, request: HttpRequest | None = None) -> list[str]:
    """Confirm enrolment with a first code; returns fresh recovery codes (shown once)."""

    expired = device.created_at < timezone.now() - timedelta(seconds=settings.INSPECTA_TOTP_ENROL_SECONDS)
    if device.user_id != user.pk or device.confirmed or expired:
        raise ValidationError({"token": _("绑定请求已失效，请扫描新的二维码后重新输入。")})
    if not device.verify_token(token.strip()):
        raise ValidationError({"token": _("动态口令不正确。")})
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    auth_event_record(kind=AuthEventKind.OTP_ENROLLED, username=user.username, user=user, request=request)
    return recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [
        f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}"
        for _i in range(settings.INSPECTA_RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def user_reset_second_factor(*, actor: User, user: User, request: HttpRequest | None = None) -> User:
    """Remove a user's TOTP and recovery codes; they enrol again at next login."""

    _require_manage(actor, user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    end_sessions(user)
    auth_event_record(
        kind=AuthEventKind.OTP_RESET, username=user.username, user=user, request=request, detail=f"by {actor.username}"
    )
    return user


# --- personal registration (Nanchang 一(二) 人员注册) ------------------------------------


def employer_find(query: str) -> Organisation:
    """The active agency or project party (owner, contractor, supervising firm) named by
    ``query``: its unified social credit code, its full name, or a part of its name that
    names only it. ``ValidationError`` on the ``employer`` field otherwise."""

    text = " ".join((query or "").split())
    if not text:
        raise ValidationError({"employer": _("请填写工作单位的名称或统一社会信用代码。")})
    candidates = Organisation.objects.filter(kind__in=REGISTERING_KINDS, is_active=True)
    if credit_code_is_valid(text):
        found = list(candidates.filter(credit_code=text.upper())[:2])
    else:
        found = list(candidates.filter(name=text)[:2]) or list(candidates.filter(name__icontains=text)[:2])
    if not found:
        raise ValidationError(
            {"employer": _("平台上没有找到该单位：请核对名称或统一社会信用代码，单位须先完成企业注册。")}
        )
    if len(found) > 1:
        raise ValidationError({"employer": _("有多个单位与之相符，请填写完整名称或统一社会信用代码。")})
    return found[0]


def _username_taken(username: str) -> bool:
    return (
        User.objects.filter(username__iexact=username).exists()
        or Registration.objects.filter(username__iexact=username, status=RegistrationStatus.PENDING).exists()
    )


@transaction.atomic
def registration_submit(
    *,
    organisation: Organisation,
    full_name: str,
    id_number: str,
    mobile: str,
    photo: Any,
    role: str,
    username: str,
    password: str,
    email: str = "",
    photo_name: str = "",
) -> Registration:
    """A person registers from a phone (Nanchang 一(二): 登记个人信息并经实名认证后注册个人
    账号): name, citizen ID (GB 11643 check character), mobile number, photo, employer
    and the duty asked for, with the username and password they will sign in with. It
    awaits the employer's admin; nothing can sign in yet. Every field is checked at once
    (``ValidationError`` naming each); a refusal stores nothing."""

    full_name = " ".join((full_name or "").split())
    id_number = (id_number or "").strip()
    mobile = (mobile or "").strip()
    email = (email or "").strip()
    username = (username or "").strip()
    errors: dict[str, list[Any]] = {}
    if not full_name:
        errors["full_name"] = [_("请填写姓名。")]
    try:
        validate_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages
    if not MOBILE.match(mobile):
        errors["mobile"] = [_("手机号码须为 11 位数字，以 13-19 开头。")]
    if not organisation.is_active or organisation.kind not in REGISTERING_KINDS:
        errors["employer"] = [_("该单位不接受人员注册。")]
    elif role not in registrable_roles(organisation.kind):
        errors["role"] = [_("%(kind)s的人员不能申请该岗位。") % {"kind": OrganisationKind(organisation.kind).label}]
    if not username:
        errors["username"] = [_("请填写用户名。")]
    elif _username_taken(username):
        errors["username"] = [_("用户名已被使用。")]
    if (
        "id_number" not in errors
        and Registration.objects.filter(
            organisation=organisation, id_number__iexact=id_number, status=RegistrationStatus.PENDING
        ).exists()
    ):
        errors["id_number"] = [_("该身份证号码已有一份待单位确认的注册，请等待确认结果。")]
    try:
        password_validation.validate_password(
            password, User(username=username, full_name=full_name, email=email, mobile=mobile)
        )
    except ValidationError as exc:
        errors["password"] = exc.messages
    if photo is None:
        errors["photo"] = [_("请拍摄本人照片。")]
    if errors:
        raise ValidationError(errors)
    try:
        stored = file_store(photo, organisation_id=organisation.pk, purpose="photo", name=photo_name)
    except AppError as exc:
        raise ValidationError({"photo": [exc.message]}) from exc
    registration = Registration(
        organisation=organisation,
        full_name=full_name,
        id_number=id_number,
        mobile=mobile,
        email=email,
        photo=stored,
        role=role,
        username=username,
        password=make_password(password),
        token=secrets.token_urlsafe(32),
    )
    registration.full_clean(exclude=["applied_by"])  # nobody is signed in yet
    registration.save()
    return registration


def _registration_notify(registration: Registration) -> None:
    """Tell the person the decision by mail, if they gave an address (after the commit;
    a mail server that fails leaves the decision standing: the status page tells it)."""

    if not registration.email:
        return
    link = settings.PUBLIC_BASE_URL + reverse("accounts:registration_status", args=[registration.token])
    if registration.status == RegistrationStatus.APPROVED:
        subject = _("您的账号注册已确认")
        body = _("%(name)s，您好：\n\n%(org)s 已确认您的注册，现在可以用用户名 %(u)s 登录。\n\n%(link)s") % {
            "name": registration.full_name,
            "org": registration.organisation.name,
            "u": registration.username,
            "link": link,
        }
    else:
        subject = _("您的账号注册未获确认")
        body = _("%(name)s，您好：\n\n%(org)s 未确认您的注册，理由：%(reason)s\n\n%(link)s") % {
            "name": registration.full_name,
            "org": registration.organisation.name,
            "reason": registration.decision_reason,
            "link": link,
        }

    def send() -> None:
        try:
            send_mail(subject, body, None, [registration.email])
        except Exception:  # the decision stands; the status page tells the person
            logger.warning("registration notice not sent", extra={"registration": registration.pk}, exc_info=True)

    transaction.on_commit(send)


def _decide_check(actor: User, registration: Registration) -> None:
    if registration.status != RegistrationStatus.PENDING:
        raise ValidationError(_("该注册已处理，不能重复审批。"))
    if not may_decide_registration(actor, registration):
        raise PermissionDenied(_("只有该单位的管理员可以确认本单位人员的注册。"))


@transaction.atomic
def registration_approve(*, actor: User, registration: Registration, reason: str = "") -> User:
    """The employer's admin confirms the person (Nanchang 一(二) 实名认证): the account is
    created active with the duty asked for, through ``user_create``, with the password
    the person chose; the decision is audited and the person told."""

    registration = Registration.objects.select_for_update().select_related("organisation").get(pk=registration.pk)
    _decide_check(actor, registration)
    user = user_create(
        actor=actor,
        username=registration.username,
        full_name=registration.full_name,
        organisation=registration.organisation,
        roles=[registration.role],
        password="",
        password_hash=registration.password,
        mobile=registration.mobile,
        email=registration.email,
        must_change_password=False,
    )
    registration.approve(actor, reason)
    registration.user = user
    registration.save()
    _registration_notify(registration)
    return user


@transaction.atomic
def registration_reject(*, actor: User, registration: Registration, reason: str) -> Registration:
    """The employer's admin refuses the registration, for a reason the person reads."""

    registration = Registration.objects.select_for_update().select_related("organisation").get(pk=registration.pk)
    _decide_check(actor, registration)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("驳回须填写理由。")})
    registration.reject(actor, reason)
    registration.save()
    _registration_notify(registration)
    return registration
