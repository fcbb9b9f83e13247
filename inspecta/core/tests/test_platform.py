"""Health, API envelope, pages and language (CONTRACT §1, §7)."""

import json

import pytest

from inspecta.core.testing.access import login_verified

pytestmark = pytest.mark.django_db


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "jobs": "ok", "sequencer": "ok", "consumer": "ok"}


def test_not_ready_without_a_job_consumer(client, settings):
    """With jobs run by a consumer (not inside the request), /readyz waits for the
    consumer's heartbeat and answers 503 once it stops."""

    import time

    from django.core.cache import cache

    from inspecta.core.health import HEARTBEAT_KEY, jobs_heartbeat

    settings.HUEY = {**settings.HUEY, "immediate": False}
    cache.delete(HEARTBEAT_KEY)
    absent = client.get("/readyz")
    assert absent.status_code == 503 and absent.json()["checks"]["consumer"] == "no job consumer running"
    jobs_heartbeat()
    assert client.get("/readyz").status_code == 200
    cache.set(HEARTBEAT_KEY, time.time() - settings.INSPECTA_READY_CONSUMER_STALE_SECONDS - 5, timeout=None)
    stale = client.get("/readyz")
    assert stale.status_code == 503 and "heartbeat" in stale.json()["checks"]["consumer"]
    cache.delete(HEARTBEAT_KEY)


def test_not_ready_while_the_sequencer_is_behind(client, settings):
    import datetime

    from django.utils import timezone

    from inspecta.ledger.models import Entry

    settings.INSPECTA_READY_SEQUENCER_LAG_SECONDS = 60
    Entry.objects.create(
        kind="test", record_type="t", record_id="1", entry=b"{}", leaf_hash=b"0" * 32, created_at=timezone.now()
    )
    assert client.get("/readyz").status_code == 200  # just written: the sequencer has time
    Entry.objects.create(
        kind="test",
        record_type="t",
        record_id="2",
        entry=b"{}",
        leaf_hash=b"1" * 32,
        created_at=timezone.now() - datetime.timedelta(seconds=120),
    )
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["checks"]["sequencer"] == "1 log entries unsequenced for more than 60 s"


def test_openapi_lists_every_operation(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/accounts/users" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [("/api/v1/accounts/me", 401, "not_authenticated"), ("/api/v1/no/such/thing", 404, "not_found")],
)
def test_error_envelope(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"] and "details" in body["error"]


def test_validation_error_envelope(client, tree):
    login_verified(client, tree["gz_admin"])
    response = client.get("/api/v1/accounts/users?role=emperor")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_login_page_is_chinese_by_default_and_english_switchable(client):
    page = client.get("/accounts/login/").content.decode()
    assert "账号登录" in page and 'lang="zh-hans"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    english = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in english and "Sign in" in english


def test_home_counts_are_scoped(client, tree):
    login_verified(client, tree["gz_admin"])
    page = client.get("/").content.decode()
    assert 'data-testid="count-users">4<' in page  # gz_admin, gz_supervisor, gz_inspector, th_admin
    login_verified(client, tree["sz_admin"])
    assert 'data-testid="count-users">2<' in client.get("/").content.decode()


def test_navigation_per_role(client, tree):
    login_verified(client, tree["gz_supervisor"])
    page = client.get("/").content.decode()
    assert "/accounts/users/" not in page
    assert client.get("/accounts/users/").status_code == 403
    login_verified(client, tree["gz_admin"])
    assert "/accounts/users/" in client.get("/").content.decode()


def test_unknown_page_is_404_not_500(client, tree):
    login_verified(client, tree["gz_admin"])
    assert client.get("/accounts/users/999999/").status_code == 404
    assert client.get("/regions/?parent=999999").status_code == 404
    assert client.get("/catalog/?specialty=NOPE").status_code == 404


def test_metrics_are_not_public(client, tree, settings):
    assert client.get("/metrics").status_code == 403
    login_verified(client, tree["gz_admin"])
    assert client.get("/metrics").status_code == 403
    login_verified(client, tree["operator"])
    body = client.get("/metrics").content.decode()
    assert 'inspecta_users{active="true"}' in body
    client.logout()
    settings.INSPECTA_METRICS_TOKEN = "scrape-secret-123"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert (
        "inspecta_jobs_pending"
        in client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-123").content.decode()
    )


def test_browser_language_does_not_override_chinese_default(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "账号登录" in page


def test_wrong_method_gets_the_envelope(client):
    response = client.delete("/api/v1/log/checkpoint")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/core/regions",
        "/api/v1/accounts/users",
        "/api/v1/registry/agencies",
        "/api/v1/projects/",
        "/api/v1/reports/",
        "/api/v1/reports/nonconformance",
    ],
)
def test_a_page_number_beyond_any_table_is_422_not_500(client, tree, url):
    """A 20-digit page number would overflow the database's OFFSET; every list refuses it
    with the envelope, and a normal page still answers."""

    login_verified(client, tree["gd_admin"])
    response = client.get(url, {"page": "99999999999999999999"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_input", response.content
    assert client.get(url, {"page": 1000000}).status_code == 200
    assert client.get(url, {"page": 1000001}).status_code == 422


BIG = "99999999999999999999"  # beyond any 64-bit id: SQLite cannot even bind it


@pytest.mark.parametrize(
    "url",
    [
        f"/reports/{BIG}/",
        f"/projects/{BIG}/",
        f"/registry/{BIG}/",
        f"/accounts/users/{BIG}/",
        f"/reports/?project={BIG}",
        f"/api/v1/registry/agencies/{BIG}",
        f"/api/v1/reports/{BIG}",
        f"/api/v1/projects/{BIG}",
        f"/api/v1/accounts/users/{BIG}",
        f"/api/v1/reports/?agency={BIG}",
        f"/api/v1/reports/?project={BIG}",
        f"/api/v1/exchange/clients/{BIG}",
    ],
)
def test_an_id_beyond_64_bits_is_a_4xx_not_a_500(client, tree, url):
    login_verified(client, tree["gd_admin"])
    response = client.get(url)
    if "?" in url and not url.startswith("/api/"):  # a page names the invalid filter (400) and ignores it
        assert response.status_code == 400 and 'data-testid="filter-errors"' in response.content.decode()
    else:
        assert 400 <= response.status_code < 500, (url, response.status_code)


def test_a_nul_character_is_refused_with_422_on_every_database(client, tree):
    """PostgreSQL text cannot hold U+0000; SQLite can. The API refuses it in JSON bodies,
    query strings and path parameters alike, before anything is written."""

    from inspecta.projects.models import Project

    login_verified(client, tree["gz_supervisor"])
    body = {
        "code": "NUL-001",
        "name": "含\u0000字符",
        "region_code": "440106",
        "address": "广州",
        "supervision_number": "JD-NUL",
        "parties": [],
    }
    response = client.post("/api/v1/projects/", body, content_type="application/json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_input", response.json()
    assert not Project.objects.filter(code="NUL-001").exists()
    # the same body in UTF-16 (JSON decoders accept it), and the NUL escaped in a key
    text = json.dumps(body)
    for raw in (text.encode("utf-16"), json.dumps({**body, "x\u0000": 1}).encode()):
        response = client.post("/api/v1/projects/", raw, content_type="application/json")
        assert response.status_code == 422, response.content[:300]
    assert not Project.objects.filter(code="NUL-001").exists()
    assert client.get("/api/v1/reports/", {"q": "a\u0000b"}).status_code == 422
    assert client.get("/api/v1/public/reports/AB%00CD").status_code in (400, 404, 422)


def test_a_body_that_is_not_json_gets_a_clear_400(client, tree):
    login_verified(client, tree["gz_supervisor"])
    response = client.post("/api/v1/projects/", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "请求体不是有效的 JSON（UTF-8）。",
        "details": {"reason": response.json()["error"]["details"]["reason"]},
    }


def _figures(client) -> dict[str, int]:
    import re

    page = client.get("/").content.decode()
    return {key: int(value.replace(",", "")) for key, value in re.findall(r'data-testid="count-(\w+)">([\d,]+)<', page)}


def test_home_figures_follow_the_role_and_the_scope(client, tree):
    """Each person's home counts what is theirs to see: an agency its staff, equipment
    and reports; a supervisor the agencies and reports of their area, not another
    city's; account figures only for account administrators."""

    from inspecta.accounts.models import User
    from inspecta.registry.models import Equipment, Staff
    from inspecta.reports import services
    from inspecta.reports.testing import approved_agency, project_with, submission

    agency, admin, made = approved_agency(tree, 881)
    project = project_with(tree, [agency], code="P-HOME")
    services.report_submit(actor=admin, **submission(agency, made, project, "R-HOME-1"))
    services.report_submit(actor=admin, **submission(agency, made, project, "R-HOME-2", conclusion="nonconforming"))

    login_verified(client, admin)
    mine = _figures(client)
    assert mine["staff"] == Staff.objects.filter(agency=agency, active=True).count() > 0
    assert mine["equipment"] == Equipment.objects.filter(agency=agency).count() > 0
    assert mine["reports"] == 2 and mine["nonconforming"] == 1 and mine["projects"] == 1
    # an agency admin manages its own organisation's accounts, not organisations
    assert mine["users"] == User.objects.filter(organisation=admin.organisation, is_active=True).count() > 0
    assert "organisations" not in mine and "agencies" not in mine

    login_verified(client, tree["gz_supervisor"])
    guangzhou = _figures(client)
    assert guangzhou["reports"] == 2 and guangzhou["nonconforming"] == 1 and guangzhou["agencies"] >= 1
    assert "users" not in guangzhou and "staff" not in guangzhou
    login_verified(client, tree["sz_supervisor"])
    shenzhen = _figures(client)
    assert shenzhen["reports"] == 0 and shenzhen["nonconforming"] == 0 and shenzhen["projects"] == 0
