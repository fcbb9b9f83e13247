"""Navigation per role: the entries every app declares on its
``AppConfig`` (``nav``; ``inspecta.core.appconfig``) that the user may see, in order."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import nav_entries


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = [{"label": entry.label, "url": reverse(entry.url_name), "icon": entry.icon} for entry in nav_entries(user)]
    footer_links = [
        {"label": _("透明日志"), "url": "/log/"},
        {"label": _("检测机构名录"), "url": "/agencies/"},
        {"label": _("接口文档"), "url": "/api/v1/docs"},
    ]
    return {
        "nav_items": items,
        "footer_links": footer_links,
        "node_level": settings.INSPECTA_NODE_LEVEL,
        "node_region": settings.INSPECTA_NODE_REGION,
    }
