"""Navigation per role (issue "Foundation" 9)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items: list[dict[str, Any]] = []
    if user is not None and user.is_authenticated:
        items.append({"label": _("首页"), "url": reverse("core:home"), "icon": "home"})
        if user.is_operator or user.is_authority_admin:
            items.append({"label": _("账号管理"), "url": reverse("accounts:user_list"), "icon": "users"})
            items.append({"label": _("单位管理"), "url": reverse("accounts:organisation_list"), "icon": "building"})
        items.append({"label": _("检测机构"), "url": reverse("registry:agency_list"), "icon": "building"})
        if user.is_operator or user.is_regulator:
            items.append({"label": _("资质符合性"), "url": reverse("registry:findings"), "icon": "alert"})
        items.append({"label": _("工程项目"), "url": reverse("projects:project_list"), "icon": "building"})
        items.append({"label": _("检测报告"), "url": reverse("reports:report_list"), "icon": "list"})
        if user.is_operator or user.has_role("authority_admin", "authority_supervisor"):
            items.append({"label": _("报告接收规则"), "url": reverse("reports:check_rules"), "icon": "alert"})
        items.append({"label": _("行政区划"), "url": reverse("core:region_list"), "icon": "map"})
        items.append({"label": _("资质目录"), "url": reverse("core:catalog"), "icon": "list"})
        if user.is_operator or user.is_regulator or user.has_role("agency_admin", "authority_admin"):
            items.append({"label": _("数据交换"), "url": reverse("exchange:client_list"), "icon": "exchange"})
    else:
        items.append({"label": _("检测机构名录"), "url": reverse("registry_public:agency_list"), "icon": "building"})
        items.append({"label": _("机构注册"), "url": reverse("registry_public:register"), "icon": "plus"})
        items.append({"label": _("登录"), "url": reverse("accounts:login"), "icon": "login"})
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
