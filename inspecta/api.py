"""The exchange API root (CONTRACT §1): Django Ninja at ``/api/v1/``, built here and
nowhere else, from the shared base (``inspecta.core.api_base``) and the apps' routers.

Every error, from any layer, leaves as ``{"error": {"code", "message", "details"}}``
with a stable code (``inspecta.core.errors.ErrorCode``); messages are zh-hans by default.
No app imports this module.
"""

from __future__ import annotations

from ninja import NinjaAPI

from inspecta.core.api_base import NulRefusingParser, install_error_handlers, session_auth

api = NinjaAPI(
    parser=NulRefusingParser(),
    title="Inspecta API",
    version="1",
    description=(
        "建设工程检测监管信息服务平台 数据交换接口。错误统一为 "
        '`{"error": {"code", "message", "details"}}`；错误码见 docs/integration/README.md。'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=session_auth,
)
install_error_handlers(api)


def register_routers() -> None:
    from inspecta.accounts.api import router as accounts_router
    from inspecta.core.api import router as core_router
    from inspecta.exchange.api import router as exchange_router
    from inspecta.exchange.api import uploads_router
    from inspecta.ledger.api import router as ledger_router
    from inspecta.registry.api import public_router as registry_public_router
    from inspecta.registry.api import router as registry_router

    api.add_router("/core/", core_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/log/", ledger_router)
    api.add_router("/exchange/", exchange_router)
    api.add_router("/uploads/", uploads_router)
    api.add_router("/registry/", registry_router)
    api.add_router("/public/agencies", registry_public_router)
    from inspecta.projects.api import router as projects_router

    api.add_router("/projects/", projects_router)
    from inspecta.reports.api import public_router as reports_public_router
    from inspecta.reports.api import router as reports_router

    api.add_router("/reports/", reports_router)
    api.add_router("/public/reports/", reports_public_router)


register_routers()
