"""Login policy enforced on every request (GB/T 22239 level 2).

A signed-in user who still owes a second factor, or whose password must change
(first login, reset, or older than the configured maximum age), can reach only the
pages that settle that debt. Only a page navigation is redirected to that page: a
request for an asset (the browser's own ``/favicon.ico``, an image, a script, a fetch)
is never answered with a page, since a redirect there would load, e.g., the 2FA setup
page behind the user's back; it gets the ``login_incomplete`` error instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.core.errors import ErrorCode, error_response

EXEMPT_PREFIXES = (
    "/static/",
    "/healthz",
    "/readyz",
    "/i18n/",
    "/v/",
    "/api/v1/public/",
    "/agencies/",
    "/register/",
    "/log/",
    "/api/v1/log/",
    "/favicon.ico",
    "/robots.txt",
)

# Sec-Fetch-Dest of a request that shows a page (Fetch Metadata); anything else (image,
# script, style, font, manifest, empty = fetch/XHR) is an asset or a data request
PAGE_DESTINATIONS = frozenset({"document", "iframe", "frame", "embed", "object"})


def is_verified(request: HttpRequest) -> bool:
    """Whether this session passed a second factor (django-otp); also right after
    ``login()`` replaced ``request.user`` with an object the OTP middleware never saw."""

    check = getattr(request.user, "is_verified", None)
    if check is not None:
        return bool(check())
    return bool(request.session.get("otp_device_id"))


def is_page_request(request: HttpRequest) -> bool:
    """Whether the browser navigates to a page here (a redirect to another page makes
    sense), rather than loading an asset or data for the page it shows. htmx requests
    count as pages (they follow the redirect into the swapped content)."""

    if request.headers.get("HX-Request"):
        return True
    destination = request.headers.get("Sec-Fetch-Dest")
    if destination:
        return destination in PAGE_DESTINATIONS
    accept = request.headers.get("Accept", "")
    return not accept or "text/html" in accept or accept.strip() == "*/*"


def pending_step(request: HttpRequest) -> str | None:
    """The URL name of the step the user must complete next, or ``None``."""

    user = request.user
    if not user.is_authenticated:
        return None
    if user.requires_second_factor and not is_verified(request):  # type: ignore[union-attr]
        from django_otp import devices_for_user

        has_device = any(True for _d in devices_for_user(user, confirmed=True) if _d.__class__.__name__ == "TOTPDevice")
        return "accounts:otp_verify" if has_device else "accounts:otp_setup"
    if user.must_change_password or user.password_expired:  # type: ignore[union-attr]
        return "accounts:password_change"
    return None


class LoginPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(EXEMPT_PREFIXES):
            step = pending_step(request)
            if step is not None:
                # Recovery codes are shown once, right after enrolment, whatever step comes next.
                allowed = {
                    reverse(step),
                    reverse("accounts:logout"),
                    reverse("set_language"),
                    reverse("accounts:recovery_codes"),
                }
                if path not in allowed:
                    if path.startswith("/api/") or not is_page_request(request):
                        return error_response(
                            ErrorCode.LOGIN_INCOMPLETE, _("请先完成登录验证。"), {"next": reverse(step)}
                        )
                    return HttpResponseRedirect(reverse(step))
        return self.get_response(request)
