"""Nothing answers 500: schemathesis generates requests for every operation of the
OpenAPI document (valid and invalid parameters, bodies and content types) and sends
them through the whole WSGI application, signed in as a province authority user and as
an agency user (the roles that reach the most operations). Any 5xx fails the test.

Each operation gets a few examples (``FUZZ_EXAMPLES``, default 8) so the suite stays
quick; run with a larger value to search harder, e.g.
``FUZZ_EXAMPLES=100 uv run pytest inspecta/core/tests/test_api_fuzz.py``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from inspecta.core.testing.access import login_verified
from inspecta.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def _session(user: Any) -> dict[str, Any]:
    """Cookies and CSRF header of a signed-in session (second factor verified)."""

    client = Client()
    login_verified(client, user)
    client.get("/")  # sets the csrftoken cookie
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    return {"cookies": cookies, "headers": {"X-CSRFToken": cookies["csrftoken"], "Referer": "http://localhost/"}}


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    """Two signed-in sessions and the ids of real records, so that generated requests
    also reach existing objects (random ids mostly answer 404)."""

    from inspecta.ledger.services import checkpoint_publish, sequence_pending
    from inspecta.reports import services
    from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission

    agency, admin, made = approved_agency(tree, 990)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-FUZZ"))
    amendment = services.amendment_apply(
        actor=admin,
        report=report,
        reason="部位笔误",
        data={"project_part": "二层梁"},
        pdf_id=stored_file(agency.organisation_id, pdf_bytes("R-FUZZ-2")).pk,
    )
    sequence_pending()
    checkpoint_publish()
    version = report.versions.get()
    known = {
        "agency_id": agency.pk,
        "report_id": report.pk,
        "project_id": project.pk,
        "code": report.verification_code,
        "amendment_id": amendment.pk,
        "user_id": admin.pk,
        "equipment_id": made["equipment"].pk,
        "index": 0,
        "size": 1,
        "record_type": "reports.reportversion",
        "record_id": version.pk,
    }
    return {"sessions": [_session(tree["gd_admin"]), _session(admin)], "known": known}


def _call(case: Any, session: dict[str, Any]) -> None:
    case.call_and_validate(
        headers={**(case.headers or {}), **session["headers"]},
        cookies=session["cookies"],
        checks=[not_a_server_error],
    )


@pytest.fixture
def connections_kept(scene: dict[str, Any]) -> Any:
    """Requests through the raw WSGI application would close the database connection at
    request end (``close_old_connections``), inside the test's transaction; Django's own
    test client disconnects that signal the same way (and reconnects it after each of
    its requests, hence after ``scene``)."""

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield scene
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_no_operation_answers_a_server_error(connections_kept: dict[str, Any]) -> None:
    """One test over every operation, so the scene is built once. Each generated request
    is sent as generated and again with its path parameters pointing at real records."""

    sessions, known = connections_kept["sessions"], connections_kept["known"]
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            for session in sessions:
                _call(case, session)
            names = set(case.path_parameters or {})
            if names and names <= set(known):
                case.path_parameters = {name: known[name] for name in names}
                for session in sessions:
                    _call(case, session)

        check()
        tested += 1
    assert tested >= 80  # every operation of the API was exercised
