"""One application error (CONTRACT §1): every documented code is an ``ErrorCode`` with
the documented status, and a raise site's code reaches the client unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import RequestFactory

from inspecta.core.api_base import HANDLERS
from inspecta.core.errors import AppError, ErrorCode, error_response
from inspecta.reports.choices import CheckCode

DOCS = Path(__file__).resolve().parents[3] / "docs" / "integration"


def documented_codes() -> dict[str, int]:
    """``{code: status}`` from the error table of the integration guide and the tus errors."""

    found: dict[str, int] = {}
    for code, status in re.findall(r"^\| `(\w+)` \| (\d{3}) \|", (DOCS / "README.md").read_text(), re.M):
        found[code] = int(status)
    uploads = (DOCS / "uploads.md").read_text().split("## Errors", 1)[1]
    for status, code in re.findall(r"`(\d{3}) (\w+)`", uploads):
        found.setdefault(code, int(status))
    return found


def test_every_documented_code_is_an_error_code_with_its_status():
    documented = documented_codes()
    assert len(documented) > 40
    for code, status in documented.items():
        assert ErrorCode(code).status == status, code


def test_every_acceptance_check_code_refuses_with_422():
    for value in CheckCode.values:
        code = ErrorCode(value)
        assert code.status == 422 or code == ErrorCode.AGENCY_NOT_PARTY


def test_the_error_carries_the_code_status_and_headers_to_the_envelope():
    error = AppError(ErrorCode.RATE_LIMITED, "慢一点", {"limit": 1}, Retry_After="3")
    response = error.response()
    assert response.status_code == 429
    assert response["Retry-After"] == "3"
    assert json.loads(response.content) == {
        "error": {"code": "rate_limited", "message": "慢一点", "details": {"limit": 1}}
    }
    overridden = AppError(ErrorCode.AGENCY_NOT_PARTY, "x", status=422)
    assert overridden.status == 422 and overridden.code == "agency_not_party"
    with pytest.raises(ValueError):
        AppError("no_such_code", "x")  # type: ignore[arg-type]


def test_one_handler_renders_the_application_error():
    handler = HANDLERS[AppError]
    response = handler(RequestFactory().get("/api/v1/x"), AppError(ErrorCode.REPORT_REVOKED, "已撤销"))
    assert response.status_code == 409
    assert json.loads(response.content)["error"]["code"] == "report_revoked"
    assert error_response(ErrorCode.ERROR, "x", status=418).status_code == 418
