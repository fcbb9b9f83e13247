"""Organisation kinds, authority levels, roles and authentication events (DESIGN.md "Who uses it")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", _("平台运维单位")
    AUTHORITY = "authority", _("住房城乡建设主管部门")
    STATION = "station", _("质量安全监督机构")
    AGENCY = "agency", _("检测机构")
    OWNER = "owner", _("建设单位")
    CONTRACTOR = "contractor", _("施工单位")
    SUPERVISING_FIRM = "supervising_firm", _("监理单位")
    EXPERT_POOL = "expert_pool", _("专家库")


class AuthorityLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DISTRICT = "district", _("区县级")


LEVEL_BELOW = {
    AuthorityLevel.PROVINCE: AuthorityLevel.CITY,
    AuthorityLevel.CITY: AuthorityLevel.DISTRICT,
}


class Role(models.TextChoices):
    OPERATOR = "operator", _("平台运维人员")
    AUTHORITY_ADMIN = "authority_admin", _("主管部门管理员")
    AUTHORITY_SUPERVISOR = "authority_supervisor", _("监管人员")
    STATION_INSPECTOR = "station_inspector", _("监督站监督员")
    AGENCY_ADMIN = "agency_admin", _("检测机构管理员")
    RECEIVER = "receiver", _("收样人")
    TESTER = "tester", _("检测人员")
    REVIEWER = "reviewer", _("审核人")
    SIGNATORY = "signatory", _("授权签字人")
    SAMPLER = "sampler", _("取样人")
    WITNESS = "witness", _("见证人")
    PROJECT_VIEWER = "project_viewer", _("项目参建方人员")
    PARTY_ADMIN = "party_admin", _("参建单位管理员")
    EXPERT = "expert", _("专家")


# Which roles a user of each organisation kind may hold.
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    OrganisationKind.OPERATOR: (Role.OPERATOR,),
    OrganisationKind.AUTHORITY: (Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR),
    OrganisationKind.STATION: (Role.STATION_INSPECTOR,),
    OrganisationKind.AGENCY: (Role.AGENCY_ADMIN, Role.RECEIVER, Role.TESTER, Role.REVIEWER, Role.SIGNATORY),
    OrganisationKind.OWNER: (Role.PARTY_ADMIN, Role.PROJECT_VIEWER, Role.WITNESS),
    OrganisationKind.CONTRACTOR: (Role.PARTY_ADMIN, Role.PROJECT_VIEWER, Role.SAMPLER),
    OrganisationKind.SUPERVISING_FIRM: (Role.PARTY_ADMIN, Role.PROJECT_VIEWER, Role.WITNESS),
    OrganisationKind.EXPERT_POOL: (Role.EXPERT,),
}


class AuthEventKind(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", _("密码验证成功")
    LOGIN_FAILED = "login_failed", _("密码错误")
    LOCKED_OUT = "locked_out", _("账号锁定")
    THROTTLED = "throttled", _("失败次数超限")
    OTP_SUCCEEDED = "otp_succeeded", _("动态口令验证成功")
    OTP_FAILED = "otp_failed", _("动态口令错误")
    RECOVERY_CODE_USED = "recovery_code_used", _("使用恢复码")
    OTP_ENROLLED = "otp_enrolled", _("绑定动态口令")
    OTP_RESET = "otp_reset", _("重置动态口令")
    LOGOUT = "logout", _("退出登录")
    PASSWORD_CHANGED = "password_changed", _("修改密码")
    PASSWORD_RESET = "password_reset", _("管理员重置密码")
    ACCOUNT_DISABLED = "account_disabled", _("账号停用")
    ACCOUNT_ENABLED = "account_enabled", _("账号启用")


class ConfirmationFactor(models.TextChoices):
    """How a person proved who they are when confirming a record (T/CECS 4.3.4-2;
    Nanchang 四(四)2): their passkey, unlocked by the phone's fingerprint or face, or,
    where a passkey is impossible, the code of their TOTP authenticator."""

    PASSKEY = "passkey", _("通行密钥（指纹/面容）")
    TOTP = "totp", _("动态口令")


class RegistrationStatus(models.TextChoices):
    """A person's registration awaiting its organisation (the values of ``core.decisions``)."""

    PENDING = "pending", _("待单位确认")
    APPROVED = "approved", _("已确认")
    REJECTED = "rejected", _("已驳回")


REGISTERING_KINDS: tuple[str, ...] = (
    OrganisationKind.OWNER,
    OrganisationKind.CONTRACTOR,
    OrganisationKind.SUPERVISING_FIRM,
    OrganisationKind.AGENCY,
)
"""Organisations whose people register themselves from a phone (Nanchang 一(二))."""

ADMIN_ROLES: frozenset[str] = frozenset({Role.OPERATOR, Role.AUTHORITY_ADMIN, Role.AGENCY_ADMIN, Role.PARTY_ADMIN})
"""Roles that administer accounts: never asked for by self-registration."""


def registrable_roles(kind: str) -> tuple[str, ...]:
    """The duties a person of an organisation of ``kind`` may register for."""

    if kind not in REGISTERING_KINDS:
        return ()
    return tuple(r for r in ROLES_BY_KIND.get(kind, ()) if r not in ADMIN_ROLES)


REGISTRABLE_ROLES: tuple[str, ...] = tuple(
    dict.fromkeys(r for kind in REGISTERING_KINDS for r in registrable_roles(kind))
)
