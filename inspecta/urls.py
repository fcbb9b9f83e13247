from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.utils.translation import gettext as _

from inspecta.api import api
from inspecta.core import health, metrics
from inspecta.core.appconfig import url_mounts
from inspecta.core.errors import ErrorCode, error_response
from inspecta.core.outage import outage_response
from inspecta.core.views import favicon

"""The root URLconf: the platform's own endpoints, then every page URLconf the apps
declare on their ``AppConfig`` (``urls``; ``inspecta.core.appconfig``), the API root
after the prefixed ones (the tus views live under its path) and the site-root ones last."""

_mounts = url_mounts()
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    *(path(m.prefix, include(m.urls)) for m in _mounts if m.prefix),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *(path(m.prefix, include(m.urls)) for m in _mounts if not m.prefix),
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
    outage = outage_response(request)  # a database outage is a 503 with Retry-After
    if outage is not None:
        return outage
    if request.path.startswith("/api/"):
        return error_response(ErrorCode.INTERNAL_ERROR, _("服务器内部错误，请稍后再试。"))
    return render(request, "error.html", {"status": 500, "message": _("服务器内部错误，请稍后再试。")}, status=500)


if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
