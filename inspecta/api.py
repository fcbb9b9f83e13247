"""The exchange API root (CONTRACT §1): Django Ninja at ``/api/v1/``, built here and
nowhere else, from the shared base (``inspecta.core.api_base``) and the routers each app
declares on its ``AppConfig`` (``api_routers``; ``inspecta.core.appconfig``).

Every error, from any layer, leaves as ``{"error": {"code", "message", "details"}}``
with a stable code (``inspecta.core.errors.ErrorCode``); messages are zh-hans by default.
No app imports this module.
"""

from __future__ import annotations

from inspecta.core.api_base import NulRefusingParser, install_error_handlers, session_auth
from inspecta.core.appconfig import api_mounts
from inspecta.core.openapi import DocumentedAPI

api = DocumentedAPI(
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


for _prefix, _router in api_mounts():
    api.add_router(_prefix, _router)
