"""Nothing answers 500, pages too: every URL pattern of the site, filled with a real id,
an id beyond 64 bits and text with a NUL character, with and without a query string of
invalid filters, requested anonymously and as a province admin, a city supervisor and
an agency. (The API has its own generated requests: ``test_api_fuzz.py``.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from inspecta.core.testing.access import login_verified

pytestmark = pytest.mark.django_db

JUNK_QUERY = "?page=abc&q=%00&region=zz&agency=x&project=-1&date_from=2026-13-45&format=xx"


def _routes(resolver: Any, prefix: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def test_no_page_answers_a_server_error(tree: dict[str, Any]) -> None:
    from inspecta.reports import services
    from inspecta.reports.testing import approved_agency, project_with, submission

    agency, admin, made = approved_agency(tree, 970)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-PAGES"))
    routes = sorted({r for r in _routes(get_resolver()) if not r.startswith(("api/", "^", "static"))})
    assert len(routes) > 50
    failures = []
    for user in (None, tree["gd_admin"], tree["gz_supervisor"], admin):
        client = Client()
        if user is not None:
            login_verified(client, user)
        for route in routes:
            for value in (str(report.pk), "99999999999999999999", "abc%00"):
                path = "/" + re.sub(r"<(?:\w+:)?\w+>", value, route)
                for query in ("", JUNK_QUERY):
                    response = client.get(path + query)
                    # readiness answers 503 by design while the log is behind (the test's
                    # entries are never sequenced inside its transaction): that is not an error
                    if response.status_code >= 500 and not (path == "/readyz" and response.status_code == 503):
                        failures.append((getattr(user, "username", None), path + query, response.status_code))
    assert not failures


def test_nul_in_a_page_address_or_form_field_is_a_400(client: Client, tree: dict[str, Any]) -> None:
    from inspecta.reports import services
    from inspecta.reports.testing import approved_agency, project_with, submission

    agency, admin, made = approved_agency(tree, 971)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-NUL"))
    login_verified(client, tree["gz_supervisor"])
    assert client.get("/projects/", {"q": "a\x00b"}).status_code == 400
    assert client.get("/log/records/a%00b/1/").status_code == 400
    client.post(f"/reports/{report.pk}/revoke/", {"reason": "伪\x00造"})
    report.refresh_from_db()
    assert report.status == "valid"  # refused: Django forms prohibit NUL, raw fields hit the guard
