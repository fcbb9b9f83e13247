"""A database outage answers 503 with ``Retry-After``, not 500 (GB/T 22239 level 2
availability; the client retries, nothing was changed).

The database refusing to talk (``OperationalError``: connection refused or dropped, a
server restarting, SQLite busy past its timeout) or a connection left unusable
(``InterfaceError``) is not a fault of the request: the API answers
``database_unavailable`` in the envelope (CONTRACT §1), a page a plain 503 page that
needs no database to render. The API root has a handler for these exceptions
(``inspecta.core.api_base``); everything else (pages, the tus views, middleware) reaches
``handler500`` (``inspecta/urls.py``), which asks :func:`outage_response` first.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .errors import ErrorCode, error_response

__all__ = ["OUTAGE_ERRORS", "outage_response", "retry_after"]

OUTAGE_ERRORS = (OperationalError, InterfaceError)

logger = logging.getLogger("inspecta.outage")


def retry_after() -> str:
    return str(getattr(settings, "INSPECTA_DB_RETRY_AFTER_SECONDS", 5))


def outage_response(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse | None:
    """The 503 for a database outage, or ``None`` when ``exc`` (by default the exception
    being handled) is something else."""

    if exc is None:
        exc = sys.exc_info()[1]
    if not isinstance(exc, OUTAGE_ERRORS):
        return None
    logger.warning("database unavailable: %s", exc)
    message = _("数据库暂时不可用，请稍后重试。")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = error_response(
            ErrorCode.DATABASE_UNAVAILABLE, message, {"retry_after": int(retry_after())}, Retry_After=retry_after()
        )
    else:
        # rendered without the request: the context processors would ask the database
        response = HttpResponse(render_to_string("unavailable.html", {"message": message}), status=503)
        response["Retry-After"] = retry_after()
    response["Cache-Control"] = "no-store"
    return response
