"""Adding an app is a change in one place: the root URLconf, the API root, the
navigation and ``inspecta demo`` are built from what each app declares on its
``AppConfig`` (``inspecta.core.appconfig``), and nothing outside an app names its
routers, URLconfs or demo loader."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import URLResolver

import inspecta
from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.core.appconfig import InspectaAppConfig, demo_loaders, import_string, inspecta_apps
from inspecta.core.context_processors import navigation
from inspecta.core.testing.factories import OrganisationFactory, UserFactory

PACKAGE = Path(inspecta.__file__).resolve().parent
PER_APP_MODULES = ("api", "urls", "public_urls", "upload_urls", "demo")


def test_every_inspecta_app_declares_itself():
    installed = [c for c in apps.get_app_configs() if c.name.startswith("inspecta.")]
    assert installed and all(isinstance(c, InspectaAppConfig) for c in installed)
    assert inspecta_apps() == installed


def test_the_api_root_mounts_every_declared_router_in_order():
    from inspecta.api import api

    mounted = [(prefix, router) for prefix, router in api._routers if prefix]
    declared = [(m.prefix, import_string(m.router)) for c in inspecta_apps() for m in c.api_routers]
    assert len(declared) >= 10
    assert mounted == declared


def test_the_root_urlconf_includes_every_declared_urlconf():
    from inspecta import urls

    included = {
        (str(p.pattern), p.urlconf_module.__name__)
        for p in urls.urlpatterns
        if isinstance(p, URLResolver) and hasattr(p.urlconf_module, "__name__")
    }
    declared = {(m.prefix, m.urls) for c in inspecta_apps() for m in c.urls}
    assert len(declared) >= 10
    assert declared <= included


def test_demo_loaders_run_after_their_dependencies():
    order = [label for label, _loader in demo_loaders()]
    assert order == ["core", "registry", "reports", "projects", "sampling", "testing", "oversight"]
    for config in inspecta_apps():
        for dependency in config.demo_after:
            assert order.index(dependency) < order.index(config.label)


def test_every_log_kind_module_and_enum_is_declared():
    for config in inspecta_apps():
        assert bool(config.log_kinds) == bool(config.log_kind_enum), config.label
        if config.log_kind_enum:
            import_string(config.log_kind_enum)


ALL = [
    "core:home",
    "oversight:warning_list",
    "oversight:rule_list",
    "oversight:nonconformance_list",
    "accounts:user_list",
    "accounts:organisation_list",
    "registry:agency_list",
    "registry:findings",
    "projects:project_list",
    "projects:plan_list",
    "projects:plan_calendar",
    "sampling:sample_list",
    "sampling:commission_list",
    "testing:record_list",
    "reports:report_list",
    "reports:check_rules",
    "core:region_list",
    "core:catalog",
    "core:region_rules",
    "exchange:client_list",
]


def _without(*names: str) -> list[str]:
    return [n for n in ALL if n not in names]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", ["registry_public:agency_list", "registry_public:register", "accounts:login"]),
        ("operator", ALL),
        ("gz_admin", ALL),
        ("gz_supervisor", _without("accounts:user_list", "accounts:organisation_list", "core:region_rules")),
        (
            "gz_inspector",
            _without("accounts:user_list", "accounts:organisation_list", "reports:check_rules", "core:region_rules"),
        ),
        (
            # an agency's admin manages its own accounts and confirms its people's registrations
            "agency_admin",
            [
                "core:home",
                "oversight:warning_list",
                "oversight:rule_list",
                "oversight:nonconformance_list",
                "accounts:user_list",
                "accounts:registration_list",
                *_without(
                    "core:home",
                    "oversight:warning_list",
                    "oversight:rule_list",
                    "oversight:nonconformance_list",
                    "accounts:user_list",
                    "accounts:organisation_list",
                    "registry:findings",
                    "reports:check_rules",
                    "projects:plan_calendar",
                    "core:region_rules",
                ),
            ],
        ),
        (
            "no_role",
            _without(
                "accounts:user_list",
                "accounts:organisation_list",
                "registry:findings",
                "reports:check_rules",
                "projects:plan_calendar",
                "core:region_rules",
                "exchange:client_list",
            ),
        ),
    ],
)
def test_navigation_per_role_in_order(tree, who, expected):
    from django.urls import reverse

    agency = OrganisationFactory(kind=OrganisationKind.AGENCY, level="", region_code="440100", parent=tree["gz"])
    makers = {
        "anonymous": AnonymousUser,
        "agency_admin": lambda: UserFactory(username="nav_agency", organisation=agency, roles=[Role.AGENCY_ADMIN]),
        "no_role": lambda: UserFactory(username="nav_tester", organisation=agency, roles=[Role.TESTER]),
    }
    request = RequestFactory().get("/")
    request.user = makers[who]() if who in makers else tree[who]
    items = navigation(request)["nav_items"]
    assert [item["url"] for item in items] == [reverse(name) for name in expected]


def _named_modules(path: Path) -> set[str]:
    """Modules a file imports, and ``"module[:attribute]"`` strings it holds."""

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"inspecta(\.\w+)+(:\w+)?", node.value)
        ):
            found.add(node.value.partition(":")[0])
    return found


def test_no_module_outside_an_app_names_its_routers_urls_or_demo():
    apps_by_name = {c.name: c for c in inspecta_apps()}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        if "tests" in relative.parts or "migrations" in relative.parts:
            continue
        owner = ".".join(relative.parts[:2]) if len(relative.parts) > 2 else ""
        for module in _named_modules(path):
            parts = module.split(".")
            app = ".".join(parts[:2])
            if app in apps_by_name and app != owner and len(parts) > 2 and parts[2] in PER_APP_MODULES:
                if app == "inspecta.core" and parts[2] == "demo" and module != "inspecta.core.demo.demo_load":
                    continue  # core's demo helpers (logins, TOTP codes) serve the other apps' loaders
                offenders.append(f"{relative} names {module}")
    assert offenders == []
