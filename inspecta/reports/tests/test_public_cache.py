"""The public verification JSON is cached and dropped when the report changes (verification
under load)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inspecta.ledger.services import checkpoint_publish, sequence_pending
from inspecta.reports import public, services
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree, settings):
    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 0
    agency, admin, made = approved_agency(tree, 611)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-CACHE"))
    sequence_pending()
    checkpoint_publish()
    return {"tree": tree, "agency": agency, "admin": admin, "report": report}


def _get(client, code):
    response = client.get(f"/api/v1/public/reports/{code}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    return response.json()


def test_cached_then_dropped_on_amendment_and_revocation(client, scene):
    report, tree = scene["report"], scene["tree"]
    code = report.verification_code
    first = _get(client, code)
    assert first["status"] == "valid" and first["version"] == 1
    assert public.verification_body_cached(code) is not None
    with CaptureQueriesContext(connection) as queries:  # served from the cache (hyphenated input too)
        assert _get(client, "-".join([code[:4], code[4:8], code[8:12], code[12:16], code[16:]]).lower()) == first
    assert not [q["sql"] for q in queries.captured_queries if "reports_" in q["sql"] or "ledger_" in q["sql"]]

    amendment = services.amendment_apply(
        actor=scene["admin"],
        report=report,
        reason="部位笔误",
        data={"project_part": "二层梁"},
        pdf_id=stored_file(scene["agency"].organisation_id, pdf_bytes("R-CACHE-v2")).pk,
    )
    assert public.verification_body_cached(code) is not None  # an application changes nothing public
    services.amendment_approve(actor=tree["gz_supervisor"], amendment=amendment, reason="同意")
    assert public.verification_body_cached(code) is None
    sequence_pending()
    checkpoint_publish()
    amended = _get(client, code)
    assert amended["status"] == "amended" and amended["version"] == 2 and len(amended["versions"]) == 2
    assert amended["versions"][1]["amended"] is True and amended["pdf_sha256"] != first["pdf_sha256"]
    assert public.verification_body_cached(code) is not None

    report.refresh_from_db()
    services.report_revoke(actor=tree["gz_supervisor"], report=report, reason="伪造")
    assert public.verification_body_cached(code) is None
    revoked = _get(client, code)
    assert revoked["status"] == "revoked" and revoked["revoked_at"] is not None
    assert [step["step"] for step in revoked["chain"]][-1] == "revocation"


def test_pending_log_entry_is_not_cached(client, tree, settings):
    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 0
    agency, admin, made = approved_agency(tree, 612)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-PENDING"))
    assert _get(client, report.verification_code)["log_index"] is None
    assert public.verification_body_cached(report.verification_code) is None
    sequence_pending()
    checkpoint_publish()
    assert _get(client, report.verification_code)["log_index"] is not None
    assert public.verification_body_cached(report.verification_code) is not None
    cache.clear()


def test_cache_disabled(client, scene, settings):
    settings.INSPECTA_VERIFY_CACHE_SECONDS = 0
    code = scene["report"].verification_code
    assert _get(client, code)["status"] == "valid"
    assert public.verification_body_cached(code) is None


# ------------------------------------------------------------------ fast path
# (middleware.CachedVerificationMiddleware answers cache hits ahead of the stack)

_reached: list[str] = []


class _Recorder:
    """Last in the stack: records every request that got past the fast path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _reached.append(request.path_info)
        return self.get_response(request)


RECORDER = f"{__name__}._Recorder"
FAST = "inspecta.reports.middleware.CachedVerificationMiddleware"


def _headers(response):
    return {k: v for k, v in response.headers.items() if k not in ("X-Request-ID",)}


def test_fast_path_answers_a_hit_like_the_full_path(scene, settings):
    code = scene["report"].verification_code
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, RECORDER]
    client = Client()
    _reached.clear()
    miss = client.get(f"/api/v1/public/reports/{code}")  # fills the cache through the full stack
    assert miss.status_code == 200 and _reached == [f"/api/v1/public/reports/{code}"]
    _reached.clear()
    hit = client.get(f"/api/v1/public/reports/{code.lower()}")
    assert hit.status_code == 200 and _reached == []  # answered before the stack
    assert hit.content == miss.content
    assert _headers(hit) == _headers(miss)
    assert hit["X-Request-ID"] and hit["X-Request-ID"] != miss["X-Request-ID"]

    # the same cached body through the full stack (fast path removed): same answer
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != FAST]
    client = Client()  # a client loads the middleware once
    full = client.get(f"/api/v1/public/reports/{code}")
    assert _reached == [f"/api/v1/public/reports/{code}"]
    assert full.content == hit.content and _headers(full) == _headers(hit)

    # in English (footer choice), both paths say so
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, FAST]
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get(f"/api/v1/public/reports/{code}")["Content-Language"] == "en"


def test_fast_path_leaves_misses_errors_and_other_calls_to_the_stack(scene, settings):
    code = scene["report"].verification_code
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, RECORDER]
    client = Client()
    client.get(f"/api/v1/public/reports/{code}")
    _reached.clear()
    mistyped = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert client.get(f"/api/v1/public/reports/{mistyped}").status_code in (400, 404)
    assert client.post(f"/api/v1/public/reports/{code}/check-file").status_code == 422
    assert client.head(f"/api/v1/public/reports/{code}").status_code in (200, 405)
    assert len(_reached) == 3


def test_rate_limit_counts_each_request_once(client, scene, settings):
    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 3
    cache.clear()
    code = scene["report"].verification_code
    answers = [client.get(f"/api/v1/public/reports/{code}") for _ in range(4)]
    # the first is a miss (full stack), the next two hits (fast path): three allowed
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[3].json()["error"]["code"] == "rate_limited"
    cache.clear()
    # misses of unknown codes are counted once each too
    statuses = [client.get(f"/api/v1/public/reports/{'0' * 17}").status_code for _ in range(4)]
    assert statuses[0] in (400, 404) and statuses[1:3] == statuses[:1] * 2 and statuses[3] == 429
    cache.clear()


def _cold_queries(client, code):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/public/reports/{code}")
    assert response.status_code == 200, response.content
    return len(queries.captured_queries), response.json()


def test_cold_verification_reads_every_log_entry_in_one_query(client, tree, settings):
    """The cold JSON reads a fixed number of queries however many versions and contracts
    the report has (the log entries of all of them in one)."""

    import datetime

    from inspecta.projects import services as project_services

    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 0
    agency, admin, made = approved_agency(tree, 615)
    project = project_with(tree, [agency])
    simple = services.report_submit(actor=admin, **submission(agency, made, project, "R-Q1"))
    sub = submission(agency, made, project, "R-Q2")
    for n in range(2):
        project_services.contract_upload(
            actor=admin,
            agency=agency,
            project=project,
            number=f"HT-Q-{n}",
            client_name="建设单位",
            amount="1000",
            signed_on=datetime.date(2026, 1, 1),
            valid_from=datetime.date(2026, 1, 1),
            valid_until=datetime.date(2027, 12, 31),
            test_items=[sub["test_item"]],
            scan_id=stored_file(agency.organisation_id, pdf_bytes(f"HT-Q-{n}")).pk,
        )
    busy = services.report_submit(actor=admin, **sub)
    amendment = services.amendment_apply(
        actor=admin,
        report=busy,
        reason="部位笔误",
        data={"project_part": "三层柱"},
        pdf_id=stored_file(agency.organisation_id, pdf_bytes("R-Q2-v2")).pk,
    )
    services.amendment_approve(actor=tree["gz_supervisor"], amendment=amendment, reason="同意")
    busy.refresh_from_db()
    services.report_revoke(actor=tree["gz_supervisor"], report=busy, reason="伪造")
    sequence_pending()
    checkpoint_publish()

    few, _data = _cold_queries(client, simple.verification_code)
    many, data = _cold_queries(client, busy.verification_code)
    steps = [step["step"] for step in data["chain"]]
    assert steps == ["agency_approval", "contract", "contract", "report_version", "report_version", "revocation"]
    assert all(step["log_index"] is not None for step in data["chain"])
    assert [v["log_index"] is not None for v in data["versions"]] == [True, True]
    assert few == many <= 7
    cache.clear()


def test_page_shares_the_json_cache(client, scene):
    """``/v/{code}`` (what a scanned QR code opens) shows the cached public JSON: a second
    view reads nothing of reports or the log, and a change shows at once."""

    report, tree = scene["report"], scene["tree"]
    code = report.verification_code
    cache.clear()
    first = client.get(f"/v/{code}")
    assert first.status_code == 200 and public.verification_body_cached(code) is not None
    with CaptureQueriesContext(connection) as queries:
        second = client.get(f"/v/{code.lower()}")
    assert second.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "reports_" in q["sql"] or "ledger_" in q["sql"]]
    assert second.content.decode().count(report.serial_number) == first.content.decode().count(report.serial_number) > 0
    as_json = client.get(f"/v/{code}", headers={"Accept": "application/json"})
    assert as_json.json() == client.get(f"/api/v1/public/reports/{code}").json()

    services.report_revoke(actor=tree["gz_supervisor"], report=report, reason="伪造")
    revoked = client.get(f"/v/{code}")
    assert revoked.status_code == 200 and "已撤销" in revoked.content.decode()
    assert client.get(f"/v/{code}", headers={"Accept": "application/json"}).json()["status"] == "revoked"
    cache.clear()
