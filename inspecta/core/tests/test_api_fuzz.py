"""The API keeps its OpenAPI document's promises (CONTRACT §1): schemathesis generates
requests for every operation (valid and invalid parameters, bodies, headers and methods)
and sends them through the whole WSGI application anonymously, as an agency user and as
a province authority user (the supervisor). Every schemathesis check runs: no 5xx, every
status code, content type, header and body as documented, schema-valid requests
accepted and invalid ones refused, required headers enforced, 405 with ``Allow`` for
undocumented methods, authentication enforced where declared.

Each operation gets a few examples per generation mode (``FUZZ_EXAMPLES``, default 2)
and the first few cases of schemathesis's coverage phase (``FUZZ_COVERAGE``, default 2),
so the suite stays quick; run with larger values to search harder, e.g.
``FUZZ_EXAMPLES=100 FUZZ_COVERAGE=1000 uv run pytest inspecta/core/tests/test_api_fuzz.py``.

Where a check's expectation differs from the published protocol, the protocol wins and
the check is told so below (``CONFIG``): tus 1.0.0 answers a missing or foreign
``Tus-Resumable`` with 412, and a signed client's writes may answer 409 (idempotency).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.auths import AuthContext, AuthStorage
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import negated_parameters

from inspecta.core.testing.access import login_verified
from inspecta.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
COVERAGE = int(os.environ.get("FUZZ_COVERAGE", "2"))
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")  # tus PATCH
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CONFIG = schema.config.checks
# 400 answers a well-formed request that breaks a rule the schema cannot state: a relation
# between fields or with stored records (``index_out_of_range``, ``tree_size_exceeded``,
# ``mistyped_code``: a wrong check character, ``validation_failed``). 422 (``invalid_input``)
# stays a failure for schema-valid data: what the schema can state, it states.
CONFIG.positive_data_acceptance.expected_statuses = [*CONFIG.positive_data_acceptance.expected_statuses, "400"]
# tus 1.0.0 (CONTRACT §4): a missing or foreign Tus-Resumable is 412 Precondition Failed.
CONFIG.negative_data_rejection.expected_statuses = [*CONFIG.negative_data_rejection.expected_statuses, "412"]
CONFIG.missing_required_header.expected_statuses = [*CONFIG.missing_required_header.expected_statuses, "412"]


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
        "record_id": str(version.pk),
    }
    return {"sessions": [_session(tree["gd_admin"]), _session(admin)], "known": known}


def _identity(session: dict[str, Any] | None) -> AuthStorage | None:
    """The session as a schemathesis auth provider, so its checks know the credentials
    are real (and probe the operation without them). A case generated without the
    session cookie (a negative case) is sent without it."""

    if session is None:
        return None
    storage = AuthStorage()

    @storage.auth(refresh_interval=None, retry_on=[])
    class Session:
        def get(self, case: Any, context: AuthContext) -> dict[str, Any]:
            return session

        def set(self, case: Any, data: dict[str, Any], context: AuthContext) -> None:
            if ("sessionid", ParameterLocation.COOKIE) in set(negated_parameters(case.meta)):
                return
            case.cookies = {**(case.cookies or {}), **data["cookies"]}
            headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() not in {"signature", "signature-input"}
            }
            case.headers = {**headers, **data["headers"]}

    return storage


def _send(case: Any, identity: AuthStorage | None, failures: dict[tuple[str, str], str]) -> None:
    if identity is not None:
        identity.set(case, AuthContext(operation=case.operation, app=application))
    try:
        case.call_and_validate()
    except (FailureGroup, Failure) as exc:
        for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
            key = (case.operation.label, f"{type(failure).__name__}: {failure.title}")
            failures.setdefault(key, f"{failure.message}\n    {case.as_curl_command()}")


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


def _fuzz(operation: Any, mode: GenerationMode, send: Any, known: dict[str, Any]) -> None:
    """Hypothesis examples of ``mode``; valid ones are sent again with their path
    parameters pointing at real records."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        send(case)
        names = set(case.path_parameters or {})
        if mode is GenerationMode.POSITIVE and names and names <= set(known):
            case.path_parameters = {name: known[name] for name in names}
            send(case)

    check()


@pytest.mark.django_db
def test_every_operation_keeps_the_documents_promises(connections_kept: dict[str, Any]) -> None:
    """One test over every operation, so the scene is built once. Each generated request
    is sent anonymously and as both users, as generated and again with its path
    parameters pointing at real records; every distinct failure is reported at the end."""

    sessions, known = connections_kept["sessions"], connections_kept["known"]
    identities = [_identity(None), *(_identity(session) for session in sessions)]
    failures: dict[tuple[str, str], str] = {}

    def send(case: Any) -> None:
        for identity in identities:
            _send(case, identity, failures)

    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        generation = schema.config.generation_for(operation=operation, phase="coverage")
        cases = schema.iter_coverage_cases(operation, generation_modes=MODES, generation_config=generation)
        for case in itertools.islice(cases, COVERAGE):
            send(case)

        for mode in MODES:
            try:
                _fuzz(operation, mode, send, known)
            except Unsatisfiable:  # nothing to negate (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE
        tested += 1
    assert tested >= 80  # every operation of the API was exercised
    report = "\n".join(f"{operation}  {kind}\n    {detail}" for (operation, kind), detail in sorted(failures.items()))
    assert not failures, f"{len(failures)} distinct failures:\n{report}"
