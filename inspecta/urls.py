from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.utils.translation import gettext as _

from inspecta.api import api
from inspecta.core import health, metrics
from inspecta.core.errors import ErrorCode, error_response

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/uploads/", include("inspecta.exchange.upload_urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("inspecta.accounts.urls")),
    path("exchange/", include("inspecta.exchange.urls")),
    path("log/", include("inspecta.ledger.urls")),
    path("registry/", include("inspecta.registry.urls")),
    path("projects/", include("inspecta.projects.urls")),
    path("reports/", include("inspecta.reports.urls")),
    path("v/", include("inspecta.reports.public_urls")),
    path("", include("inspecta.registry.public_urls")),
    path("", include("inspecta.core.urls")),
]


def _error_page(code: ErrorCode, message: str):  # type: ignore[no-untyped-def]
    status = code.status

    def view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        if request.path.startswith("/api/"):
            return error_response(code, message)
        return render(
            request, "error.html", {"status": status, "message": message, "detail": str(exception or "")}, status=status
        )

    return view


handler400 = _error_page(ErrorCode.BAD_REQUEST, _("请求不合法。"))
handler403 = _error_page(ErrorCode.FORBIDDEN, _("无权访问。"))
handler404 = _error_page(ErrorCode.NOT_FOUND, _("页面不存在或不在您的权限范围内。"))


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(ErrorCode.INTERNAL_ERROR, _("服务器内部错误，请稍后再试。"))
    return render(request, "error.html", {"status": 500, "message": _("服务器内部错误，请稍后再试。")}, status=500)


if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
