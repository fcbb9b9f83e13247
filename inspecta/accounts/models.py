"""Organisations, users and roles, and the authentication log (Guangdong 附件2 一(一); GB/T 22239)."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField

from inspecta.core.audit import AuditRowImmutable, audited
from inspecta.core.decisions import Decision
from inspecta.core.models import Region
from inspecta.core.permissions import is_member, is_operator, is_regulator, signed_in
from inspecta.core.scoping import Grant, Reach, RestrictedQuerySet, Scoping

from .choices import AuthEventKind, AuthorityLevel, OrganisationKind, RegistrationStatus, Role
from .permissions import administers_own_organisation, administers_tree

__all__ = ["ActiveSession", "AuthEvent", "Organisation", "Passkey", "Registration", "RoleGrant", "User"]

MANAGED_KINDS = (OrganisationKind.AUTHORITY, OrganisationKind.STATION, OrganisationKind.OPERATOR)


class Organisation(models.Model):
    """A body whose people use the platform: authority department, station, agency, party.

    Authorities and stations form the allocation tree (``parent``; ``tree_path`` is the
    materialised path ``/1/7/12/``) along which accounts are created top-down
    (Guangdong 附件2 一(一)). Agencies and project parties register themselves and sit
    outside the tree.
    """

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类别"), max_length=32, choices=OrganisationKind.choices, db_index=True)
    level = models.CharField(_("层级"), max_length=16, choices=AuthorityLevel.choices, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="organisations"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    tree_path = models.CharField(_("层级路径"), max_length=255, blank=True, db_index=True, editable=False)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    # Operators see every organisation; authority and station users their own subtree
    # of the allocation tree, and to view also the other bodies registered in their
    # region; everyone else only their own organisation.
    scoping = Scoping(
        region="region__code",
        organisation="pk",
        tree="tree_path",
        grants={
            "view": (
                Grant(Reach.ALL, is_operator),
                Grant(Reach.SUBTREE, is_regulator),
                Grant(Reach.REGION, is_regulator, where=~Q(kind__in=MANAGED_KINDS)),
                Grant(Reach.OWN, is_member & ~is_regulator),
            ),
            "change": (
                Grant(Reach.ALL, is_operator),
                Grant(Reach.SUBTREE, is_regulator),
                Grant(Reach.OWN, is_member & ~is_regulator),
            ),
        },
    )

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["region_id", "name"]

    def __str__(self) -> str:
        return self.name


class RoleGrant(models.Model):
    """A role held by a user (a user may hold several, e.g. tester and reviewer)."""

    user = models.ForeignKey("User", on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)

    history = audited()

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="accounts_role_grant_unique")]

    def __str__(self) -> str:
        return self.get_role_display()


class InspectaUserManager(UserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    """A person who signs in. Belongs to exactly one organisation; holds one or more roles."""

    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    full_name = models.CharField(_("姓名"), max_length=64)
    mobile = models.CharField(_("手机号码"), max_length=20, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("所属单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)
    created_by = models.ForeignKey(
        "self", verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_demo = models.BooleanField(_("演示账号"), default=False, editable=False)

    history = audited(excluded_fields=["last_login", "password"])
    objects = InspectaUserManager()  # type: ignore[misc]

    # Accounts are visible along the allocation tree only: an admin sees the users of
    # its own organisation and of every organisation below it; nobody sees accounts
    # outside their subtree (Guangdong 附件2 一(一)). The admin of an agency or a project
    # party sees the accounts of its own organisation (Nanchang 一(二)). Others see only
    # themselves. (the grants are disjoint: an OR of overlapping reaches would cost the
    # query its inner joins)
    _account_grants = (
        Grant(Reach.ALL, is_operator),
        Grant(Reach.SUBTREE, administers_tree),
        Grant(Reach.OWN, administers_own_organisation),
        Grant(Reach.SELF, signed_in & ~is_operator & ~administers_tree & ~administers_own_organisation),
    )
    scoping = Scoping(
        tree="organisation__tree_path",
        organisation="organisation_id",
        person="pk",
        grants={"view": _account_grants, "change": _account_grants},
    )

    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.full_name}（{self.username}）" if self.full_name else self.username

    # --- roles -------------------------------------------------------------------
    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.role_grants.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in sorted(self.roles)]

    @property
    def is_operator(self) -> bool:
        return self.is_superuser or Role.OPERATOR in self.roles

    @property
    def is_authority_admin(self) -> bool:
        return Role.AUTHORITY_ADMIN in self.roles

    @property
    def is_regulator(self) -> bool:
        """Works for an authority or a station (the one meaning, ``Actor.is_regulator``)."""

        from inspecta.core.actors import actor_of

        return actor_of(self).is_regulator

    @property
    def region_code(self) -> str:
        return self.organisation.region_id if self.organisation_id else ""  # type: ignore[union-attr]

    @property
    def requires_second_factor(self) -> bool:
        return self.is_superuser or self.has_role(*settings.INSPECTA_2FA_REQUIRED_ROLES)

    @property
    def password_expired(self) -> bool:
        max_age = settings.INSPECTA_PASSWORD_MAX_AGE_DAYS
        if not max_age:
            return False
        changed = self.password_changed_at or self.date_joined
        return timezone.now() - changed > timedelta(days=max_age)


class AuthEvent(models.Model):
    """One authentication event: who, when, from where, what happened (GB/T 22239 8.1.4.3)."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="auth_events")
    username = models.CharField(_("用户名"), max_length=150, db_index=True)
    kind = models.CharField(_("事件"), max_length=32, choices=AuthEventKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=255, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    detail = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("认证日志")
        verbose_name_plural = _("认证日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["username", "kind", "at"], name="accounts_authevent_lookup")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_kind_display()}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise AuditRowImmutable("authentication events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AuditRowImmutable("authentication events cannot be deleted")


class ActiveSession(models.Model):
    """The sessions a user holds, so that disabling an account ends them at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="active_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("在线会话")
        verbose_name_plural = _("在线会话")

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class Passkey(models.Model):
    """A person's passkey (WebAuthn credential), kept on their phone and unlocked by its
    fingerprint or face: the identity factor of every confirmation of a custody record
    (T/CECS 4.3.4-2 "采集人员生物特征信息…身份核验"; Nanchang 四(四)2). Only the public key
    is kept here; no fingerprint or face template ever leaves the phone.

    A person may hold several (one per phone). Removing one sets ``removed_at`` instead
    of deleting the row: the confirmations it signed are re-verified from its public key
    for as long as the records are kept (``accounts.passkeys.identity_proof_verify``).
    """

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="passkeys")
    credential_id = models.BinaryField(_("凭据标识"), max_length=1023, unique=True)
    public_key = models.BinaryField(_("公钥"), max_length=2048)  # the COSE key as py_webauthn returns it
    sign_count = models.PositiveBigIntegerField(_("签名计数"), default=0)
    transports = models.JSONField(_("传输方式"), default=list, blank=True)
    name = models.CharField(_("名称"), max_length=64)
    aaguid = models.CharField(_("设备型号标识"), max_length=36, blank=True)
    created_at = models.DateTimeField(_("添加时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    removed_at = models.DateTimeField(_("移除时间"), null=True, blank=True)

    history = audited()
    objects = RestrictedQuerySet.as_manager()

    # A person's own passkeys; operators see and remove anyone's (a lost phone).
    _grants = (
        Grant(Reach.ALL, is_operator),
        Grant(Reach.SELF, signed_in & ~is_operator),
    )
    scoping = Scoping(person="user_id", grants={"view": _grants, "change": _grants})

    class Meta:
        verbose_name = _("通行密钥")
        verbose_name_plural = _("通行密钥")
        ordering = ["user_id", "created_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Registration(Decision):
    """A person's real-name registration from a phone (Nanchang 一(二) 人员注册): project
    heads, samplers and curing staff, witnesses, receivers and testers give their name,
    citizen ID, mobile number, photo and employer and the duty they ask for. Nothing can
    sign in until the employer's admin confirms them (``services.registration_approve``
    creates the account through ``user_create``) or rejects them with a reason.

    The personal data are kept as the person entered them; the password only as its
    hash. ``token`` opens the public status page of the registration to its owner. The
    citizen ID and mobile number leave the person's and their admin's scope masked
    (``permissions.person_audience``)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("工作单位"), on_delete=models.PROTECT, related_name="registrations"
    )
    full_name = models.CharField(_("姓名"), max_length=64)
    id_number = models.CharField(_("身份证号码"), max_length=18)
    mobile = models.CharField(_("手机号码"), max_length=20)
    email = models.EmailField(_("电子邮箱"), blank=True)
    photo = models.ForeignKey("core.StoredFile", verbose_name=_("本人照片"), on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("申请岗位"), max_length=32, choices=Role.choices)
    username = models.CharField(_("用户名"), max_length=150)
    password = models.CharField(_("密码"), max_length=128, editable=False)
    token = models.CharField(max_length=64, unique=True, editable=False)
    user = models.OneToOneField(
        User,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registration",
    )
    status = FSMField(
        _("状态"), max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING, db_index=True
    )

    history = audited(excluded_fields=["password", "token"])
    objects = RestrictedQuerySet.as_manager()

    # The admin of the organisation the person named sees and decides it; the person
    # sees their own once it made their account; operators see all. Nobody else.
    _grants = (
        Grant(Reach.ALL, is_operator),
        Grant(Reach.OWN, administers_own_organisation),
        Grant(Reach.SELF, signed_in & ~is_operator & ~administers_own_organisation),
    )
    scoping = Scoping(
        region="organisation__region__code",
        organisation="organisation_id",
        person="user_id",
        grants={"view": _grants, "change": (Grant(Reach.OWN, administers_own_organisation),)},
    )

    class Meta:
        verbose_name = _("人员注册")
        verbose_name_plural = _("人员注册")
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"{self.full_name}（{self.username}）"
