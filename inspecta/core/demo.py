"""Demo data for ``make run`` (idempotent: a second run adds nothing).

A Guangdong province node: the province department, two cities with their admins,
supervisors and a station, one district, and an operator. Every account is marked
``is_demo`` so that a production node can find and remove them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.accounts.choices import AuthorityLevel, OrganisationKind, Role
from inspecta.accounts.models import Organisation, User
from inspecta.accounts.services import organisation_create, user_create

from .models import Region

DEMO_PASSWORD = "Inspecta#2026"  # noqa: S105 - printed demo login, accounts flagged is_demo


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    organisation: str
    role: str
    second_factor: bool


ORGANISATIONS = [
    # key, name, kind, level, region, parent key
    ("ops", "Inspecta 平台运维中心", OrganisationKind.OPERATOR, "", "440000", None),
    ("gd", "广东省住房和城乡建设厅", OrganisationKind.AUTHORITY, AuthorityLevel.PROVINCE, "440000", None),
    (
        "gd_station",
        "广东省建设工程质量安全检测和鉴定中心",
        OrganisationKind.STATION,
        AuthorityLevel.PROVINCE,
        "440000",
        "gd",
    ),
    ("gz", "广州市住房和城乡建设局", OrganisationKind.AUTHORITY, AuthorityLevel.CITY, "440100", "gd"),
    ("gz_station", "广州市建设工程质量安全监督站", OrganisationKind.STATION, AuthorityLevel.CITY, "440100", "gz"),
    ("th", "广州市天河区住房和建设水务局", OrganisationKind.AUTHORITY, AuthorityLevel.DISTRICT, "440106", "gz"),
    ("sz", "深圳市住房和建设局", OrganisationKind.AUTHORITY, AuthorityLevel.CITY, "440300", "gd"),
    ("sz_station", "深圳市建设工程质量安全监督总站", OrganisationKind.STATION, AuthorityLevel.CITY, "440300", "sz"),
    ("fs", "佛山市住房和城乡建设局", OrganisationKind.AUTHORITY, AuthorityLevel.CITY, "440600", "gd"),
]

USERS = [
    # username, full name, org key, role
    ("operator", "运维 王工", "ops", Role.OPERATOR),
    ("gd_admin", "省厅管理员 陈明", "gd", Role.AUTHORITY_ADMIN),
    ("gd_supervisor", "省厅监管 李华", "gd", Role.AUTHORITY_SUPERVISOR),
    ("gz_admin", "广州管理员 张伟", "gz", Role.AUTHORITY_ADMIN),
    ("gz_supervisor", "广州监管 刘洋", "gz", Role.AUTHORITY_SUPERVISOR),
    ("gz_inspector", "广州监督员 黄静", "gz_station", Role.STATION_INSPECTOR),
    ("th_admin", "天河管理员 周杰", "th", Role.AUTHORITY_ADMIN),
    ("sz_admin", "深圳管理员 吴芳", "sz", Role.AUTHORITY_ADMIN),
    ("sz_supervisor", "深圳监管 郑强", "sz", Role.AUTHORITY_SUPERVISOR),
]


@transaction.atomic
def demo_load() -> tuple[int, list[DemoLogin]]:
    """Create what is missing; return how many records were added and the logins."""

    added_orgs, orgs = _organisations()
    added_users, logins = _users(orgs)
    return added_orgs + added_users, logins


def _organisations() -> tuple[int, dict[str, Organisation]]:
    """The ``ORGANISATIONS`` that are missing, each under its parent; returns how many
    were added and every one by key."""

    added = 0
    orgs: dict[str, Organisation] = {}
    for key, name, kind, level, region_code, parent_key in ORGANISATIONS:
        org = Organisation.objects.filter(name=name).first()
        if org is None:
            org = organisation_create(
                actor=None,
                name=name,
                kind=kind,
                level=level,
                region=Region.objects.get(pk=region_code),
                parent=orgs[parent_key] if parent_key else None,
            )
            added += 1
        orgs[key] = org
    return added, orgs


def _users(orgs: dict[str, Organisation]) -> tuple[int, list[DemoLogin]]:
    """The ``USERS`` that are missing (``is_demo``, the printed password), a confirmed
    TOTP device for each role that needs a second factor; returns how many were added
    and every login."""

    added = 0
    logins = []
    for username, full_name, org_key, role in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                actor=None,
                username=username,
                full_name=full_name,
                organisation=orgs[org_key],
                roles=[role],
                password=DEMO_PASSWORD,
                must_change_password=False,
                is_demo=True,
            )
            added += 1
        if user.requires_second_factor and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
        logins.append(
            DemoLogin(username, full_name, orgs[org_key].name, str(Role(role).label), user.requires_second_factor)
        )
    return added, logins


def demo_totp_code(username: str) -> str:
    """The current TOTP code of a demo account (demo accounts only)."""

    from django_otp.oath import totp

    device = TOTPDevice.objects.get(user__username=username, user__is_demo=True, confirmed=True)
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(code).zfill(device.digits)
