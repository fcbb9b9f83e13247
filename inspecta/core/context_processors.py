"""Navigation per role: the entries every app declares on its
``AppConfig`` (``nav``; ``inspecta.core.appconfig``) that the user may see, in order
(``nav_items``), and the same gathered into the bar's menus (``nav_menu``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import nav_entries


def nav_menu(items: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """The bar: each entry outside a group, and each group (at its first entry's place)
    with its entries as ``children``; a group with one visible entry is that entry.
    ``active`` marks the entry of ``path`` and the group holding it."""

    menu: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        item = item | {"active": item["url"] == path}
        group = item["group"]
        if group is None:
            menu.append(item)
        elif group.key in groups:
            groups[group.key]["children"].append(item)
        else:
            order = group.order if group.order is not None else item["order"]
            groups[group.key] = {"label": group.label, "key": group.key, "order": order, "children": [item]}
            menu.append(groups[group.key])
    bar = []
    for entry in sorted(menu, key=lambda entry: entry["order"]):
        children = entry.get("children")
        if children is not None and len(children) == 1:
            entry = children[0]
        elif children is not None:
            entry["active"] = any(child["active"] for child in children)
        bar.append(entry)
    return bar


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = [
        {
            "label": entry.label,
            "url": reverse(entry.url_name),
            "icon": entry.icon,
            "group": entry.group,
            "order": entry.order,
        }
        for entry in nav_entries(user)
    ]
    footer_links = [
        {"label": _("透明日志"), "url": "/log/"},
        {"label": _("检测机构名录"), "url": "/agencies/"},
        {"label": _("接口文档"), "url": "/api/v1/docs"},
    ]
    return {
        "nav_items": items,
        "nav_menu": nav_menu(items, request.path),
        "footer_links": footer_links,
        "node_level": settings.INSPECTA_NODE_LEVEL,
        "node_region": settings.INSPECTA_NODE_REGION,
    }
