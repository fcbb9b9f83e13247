"""What an app contributes to the platform, declared on its ``AppConfig``.

An app subclasses :class:`InspectaAppConfig` and lists, as class attributes, its API
routers, its page URLs, its navigation entries, its demo loader, its log kinds and the
operations that may run behind a receipt; the root URLconf, the API root
(``inspecta.api``), the navigation context processor, ``inspecta demo`` and the receipt
processing (``exchange.feedback``) discover them from ``django.apps.apps`` in
``INSTALLED_APPS`` order.
Adding an app is its folder plus one line in ``INSTALLED_APPS``
(docs/development/adding-an-app.md).

Modules are named as dotted strings (``"inspecta.reports.api:router"``) and imported
when the root is built, so declaring them imports nothing at app-loading time.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _

from .permissions import signed_in

__all__ = [
    "NAV_AGENCIES",
    "NAV_REFERENCE",
    "NAV_REPORTS",
    "NAV_SYSTEM",
    "ApiMount",
    "DemoResult",
    "InspectaAppConfig",
    "NavEntry",
    "NavGroup",
    "ReceiptOperation",
    "UrlMount",
    "WorkItem",
    "anonymous",
    "api_mounts",
    "demo_loaders",
    "import_string",
    "inspecta_apps",
    "nav_entries",
    "notification_kinds",
    "receipt_handler",
    "receipt_operations",
    "region_rule_kinds",
    "signed_in",
    "url_mounts",
    "work_items",
]


def import_string(path: str) -> Any:
    """``"package.module:attribute"`` → the attribute; ``"package.module"`` → the module."""

    module_name, _colon, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


anonymous = ~signed_in
"""Nobody signed in (the public's links)."""


@dataclass(frozen=True)
class ApiMount:
    """A Ninja router (``"module:attribute"``) mounted under ``/api/v1/<prefix>``."""

    prefix: str
    router: str


@dataclass(frozen=True)
class UrlMount:
    """A page URLconf (``module``) included at ``<prefix>``; ``""`` is the site root."""

    prefix: str
    urls: str


@dataclass(frozen=True)
class NavGroup:
    """A menu of the main navigation that gathers the entries naming it, so that the
    bar stays on one line however many entries a role sees. It stands where its first
    entry would; a group of which a user sees one entry only shows that entry itself."""

    key: str
    label: Any
    order: int | None = None
    """Where the menu stands on the bar; by default where its first entry would."""


# The menus apps place their entries in (an app may declare its own NavGroup).
NAV_AGENCIES = NavGroup("agencies", _("机构与资质"))
NAV_REPORTS = NavGroup("reports", _("报告"))
NAV_PROJECTS = NavGroup("projects", _("工程项目"))
"""Projects, their on-site inspection plans and their samples (the chain of custody)."""
NAV_REFERENCE = NavGroup("reference", _("基础数据"), order=890)
NAV_SYSTEM = NavGroup("system", _("系统管理"), order=900)


@dataclass(frozen=True)
class NavEntry:
    """A link of the main navigation. ``visible(user)`` decides who sees it (the user may
    be anonymous); ``order`` places it among every app's entries; ``group`` puts it in a
    menu (:class:`NavGroup`) instead of on the bar."""

    label: Any
    url_name: str
    icon: str
    order: int
    visible: Callable[[Any], bool] = signed_in
    group: NavGroup | None = None


@dataclass(frozen=True)
class ReceiptOperation:
    """An operation that may run behind a receipt (T/CECS 6.0.6): the call answers 202
    with the receipt and a job runs ``handler`` (``"module:function"``) later.

    The handler is called as ``handler(request=<the stored request>, actor=<the acting
    client's Actor>)`` and returns the per-record results, in the order sent, as the
    synchronous call would answer them. It refuses the whole request by raising
    ``AppError`` (or ``PermissionDenied``); the receipt then fails with that message."""

    name: str
    handler: str


@dataclass(frozen=True)
class WorkItem:
    """One queue of a person's home page: what waits for them (``label``), how many
    (``count``) and the filtered list that shows them (``url``). ``tone`` is the Tabler
    colour of the count (``red`` for what must be acted on, ``yellow`` for what expires
    soon)."""

    label: Any
    count: int
    url: str
    tone: str = "blue"


@dataclass(frozen=True)
class HomeFigure:
    """One figure of a person's home page: how many records of a kind are in their scope
    (``label``, ``value``), the list that shows them (``url``), and a stable ``key`` for
    the page (``data-testid="count-<key>"``)."""

    key: str
    label: Any
    value: int
    url: str = ""


DemoResult = tuple[int, list[Any]]
"""What a demo loader returns: records added, and demo logins to print."""


class InspectaAppConfig(AppConfig):
    """Base of every Inspecta app's ``AppConfig``; the class attributes are its
    declaration (all optional)."""

    # Django takes the one AppConfig of an apps.py that is not marked ``default =
    # False``: this base is imported there too, so it is marked, and its subclasses not.
    default = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "default" not in cls.__dict__:
            cls.default = True

    # Ninja routers under /api/v1/, in the order they are mounted.
    api_routers: tuple[ApiMount, ...] = ()
    # Page URLconfs.
    urls: tuple[UrlMount, ...] = ()
    # Main navigation entries.
    nav: tuple[NavEntry, ...] = ()
    # ``"module:function"`` returning a :data:`DemoResult`, run by ``inspecta demo`` after
    # the loaders of the apps (labels) in ``demo_after``.
    demo_loader: str = ""
    demo_after: tuple[str, ...] = ()
    # The app's log-kind enum (``"module:Enum"``) and the module registering a renderer
    # per member (imported when the app is ready).
    log_kind_enum: str = ""
    log_kinds: str = ""
    # Operations that may run behind a receipt, by name (``Receipt.operation``).
    receipt_operations: tuple[ReceiptOperation, ...] = ()
    # ``"module:function"`` called as ``function(actor)`` (an ``Actor``) returning the
    # :class:`WorkItem` list of what waits for that person in this app (the home page's
    # work queues); each count reads the app's own scoped selectors.
    work_queue: str = ""
    # ``"module:function"`` called as ``function(actor)`` returning the :class:`HomeFigure`
    # list this app shows on that person's home page (counts of their scope).
    home_figures: str = ""
    # "inspecta.<app>.regionrules:KINDS": the regional rules the app reads
    # (``core.regionrules.RegionRuleKind``), set per region on one page
    region_rules: str = ""
    # "inspecta.<app>.notices:KINDS": the kinds of notification the app sends through
    # ``inspecta.notifications.services.notify`` (``notifications.catalog.NotificationKind``:
    # code, Chinese label, default channels), offered on each person's preferences page
    notification_kinds: str = ""

    def ready(self) -> None:
        if self.log_kinds:
            importlib.import_module(self.log_kinds)


def inspecta_apps() -> list[InspectaAppConfig]:
    """The installed apps that declare themselves, in ``INSTALLED_APPS`` order."""

    return [config for config in apps.get_app_configs() if isinstance(config, InspectaAppConfig)]


def api_mounts() -> Iterator[tuple[str, Any]]:
    """``(prefix, router)`` of every declared router."""

    for config in inspecta_apps():
        for mount in config.api_routers:
            yield mount.prefix, import_string(mount.router)


def url_mounts() -> list[UrlMount]:
    """Every declared page URLconf; the site-root ones last, so that prefixed ones win."""

    mounts = [mount for config in inspecta_apps() for mount in config.urls]
    return [m for m in mounts if m.prefix] + [m for m in mounts if not m.prefix]


def nav_entries(user: Any) -> list[NavEntry]:
    """The entries ``user`` sees, in order."""

    entries = [entry for config in inspecta_apps() for entry in config.nav if entry.visible(user)]
    return sorted(entries, key=lambda entry: entry.order)


def receipt_operations() -> dict[str, ReceiptOperation]:
    """Every declared receipt operation by name; a name declared twice is an error."""

    found: dict[str, ReceiptOperation] = {}
    for config in inspecta_apps():
        for operation in config.receipt_operations:
            if operation.name in found:
                raise RuntimeError(f"receipt operation {operation.name!r} is declared twice")
            found[operation.name] = operation
    return found


def receipt_handler(name: str) -> Callable[..., list[dict[str, Any]]] | None:
    """The handler of the receipt operation ``name``, or ``None`` if no app declares it."""

    operation = receipt_operations().get(name)
    return import_string(operation.handler) if operation is not None else None


def region_rule_kinds() -> dict[str, Any]:
    """Every app's regional rule kinds by name (``core.regionrules``), in
    ``INSTALLED_APPS`` order; a name declared twice is an error."""

    found: dict[str, Any] = {}
    for config in inspecta_apps():
        if config.region_rules:
            for kind in import_string(config.region_rules):
                if kind.name in found:
                    raise RuntimeError(f"region rule {kind.name!r} is declared twice")
                found[kind.name] = kind
    return found


def notification_kinds() -> dict[str, Any]:
    """Every app's notification kinds by code (``notifications.catalog``), in
    ``INSTALLED_APPS`` order; a code declared twice is an error."""

    found: dict[str, Any] = {}
    for config in inspecta_apps():
        if config.notification_kinds:
            for kind in import_string(config.notification_kinds):
                if kind.code in found:
                    raise RuntimeError(f"notification kind {kind.code!r} is declared twice")
                found[kind.code] = kind
    return found


def work_items(actor: Any) -> list[WorkItem]:
    """Every app's work queues for ``actor``, in ``INSTALLED_APPS`` order, the empty ones
    left out."""

    items: list[WorkItem] = []
    for config in inspecta_apps():
        if config.work_queue:
            items.extend(item for item in import_string(config.work_queue)(actor) if item.count)
    return items


def home_figures(actor: Any) -> list[HomeFigure]:
    """Every app's home-page figures for ``actor``, in ``INSTALLED_APPS`` order."""

    figures: list[HomeFigure] = []
    for config in inspecta_apps():
        if config.home_figures:
            figures.extend(import_string(config.home_figures)(actor))
    return figures


def demo_loaders() -> list[tuple[str, Callable[[], DemoResult]]]:
    """``(app label, loader)`` in an order where every loader runs after those it names
    in ``demo_after`` (otherwise ``INSTALLED_APPS`` order)."""

    pending = [config for config in inspecta_apps() if config.demo_loader]
    known = {config.label for config in pending}
    done: list[str] = []
    ordered: list[tuple[str, Callable[[], DemoResult]]] = []
    while pending:
        for config in pending:
            if all(dep in done or dep not in known for dep in config.demo_after):
                ordered.append((config.label, import_string(config.demo_loader)))
                done.append(config.label)
                pending.remove(config)
                break
        else:
            raise RuntimeError(f"demo loaders depend on each other in a cycle: {[c.label for c in pending]}")
    return ordered
