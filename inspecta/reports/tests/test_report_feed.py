"""The report change feed ``GET /api/v1/reports/feed``: a LIMS (and an authority, for
its region) learns every revocation, amendment and printed date of the reports it may
read, oldest change first, by ``updated_since`` then ``next_cursor``, without polling
every report; the reports of another agency or city never appear."""

from __future__ import annotations

import datetime
from urllib.parse import quote

import pytest
from django.utils import timezone

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.openapi import assert_documented
from inspecta.core.testing.pagination import paginator_of
from inspecta.exchange.testing import approved_client, signed_call
from inspecta.ledger import services as ledger_services
from inspecta.reports import api as reports_api
from inspecta.reports import services
from inspecta.reports.models import Report
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db

FEED = "/api/v1/reports/feed"


@pytest.fixture
def scene(tree):
    """Agency A (Guangzhou) with a LIMS granted ``reports:submit`` and three reports;
    agency B (Shenzhen) with its own LIMS and a report."""

    agency, admin, made = approved_agency(tree, 871)
    project = project_with(tree, [agency], code="P-871")
    lims = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit"], name="LIMS-A")
    reports = [
        services.report_submit(actor=admin, **submission(agency, made, project, number=f"R-FEED-{i}")) for i in range(3)
    ]
    other, other_admin, other_made = approved_agency(tree, 872, region="440300")
    other_project = project_with(tree, [other], code="P-872", region="440304")
    other_lims = approved_client(
        applicant=other_admin, reviewer=tree["sz_admin"], scopes=["reports:submit"], name="LIMS-B"
    )
    services.report_submit(actor=other_admin, **submission(other, other_made, other_project, number="R-FEED-B"))
    return {
        "tree": tree,
        "agency": agency,
        "admin": admin,
        "reports": reports,
        "lims": lims,
        "other_lims": other_lims,
    }


def _since(moment: datetime.datetime) -> str:
    return quote(moment.isoformat())


def _follow(client, creds, since: datetime.datetime) -> tuple[list[dict], int]:
    """Every item of the feed since ``since``, page after page; and the pages read."""

    items: list[dict] = []
    url = f"{FEED}?updated_since={_since(since)}"
    pages = 0
    while True:
        response = signed_call(client, creds, "GET", url)
        assert response.status_code == 200, response.content
        page = assert_documented(response, FEED)
        items += page["items"]
        pages += 1
        if page["next_cursor"] is None:
            return items, pages
        url = f"{FEED}?cursor={page['next_cursor']}"


def _changes(scene) -> dict[str, Report]:
    """Amend the second report (applied before, approved after the returned moment),
    then revoke the first: the feed since that moment has the second, then the first."""

    tree = scene["tree"]
    first, second, _third = scene["reports"]
    amendment = services.amendment_apply(
        actor=scene["admin"], report=second, reason="项目部位填写有误", data={"project_part": "二层梁"}
    )
    since = timezone.now()
    services.amendment_approve(actor=tree["gz_supervisor"], amendment=amendment, reason="同意")
    services.report_revoke(actor=tree["gz_supervisor"], report=first, reason="伪造")
    return {"since": since, "first": first, "second": second}  # type: ignore[dict-item]


def test_the_feed_lists_the_changed_reports_in_change_order_once_each(client, scene, monkeypatch):
    changes = _changes(scene)
    first, second = changes["first"], changes["second"]
    items, pages = _follow(client, scene["lims"], changes["since"])
    assert [i["id"] for i in items] == [second.pk, first.pk]
    assert pages == 1
    amended, revoked = items
    assert (amended["status"], amended["version"], len(amended["versions"])) == ("amended", 2, 2)
    assert [(a["status"], a["decision_reason"]) for a in amended["amendments"]] == [("approved", "同意")]
    assert revoked["status"] == "revoked" and revoked["amendments"] == []
    assert amended["updated_at"] < revoked["updated_at"]
    # one report a page: following next_cursor yields each once, in the same order
    monkeypatch.setattr(paginator_of(reports_api.report_feed), "page_size", 1)
    paged, pages = _follow(client, scene["lims"], changes["since"])
    assert [i["id"] for i in paged] == [second.pk, first.pk] and pages == 2
    # the item is the report as the detail answers it, with updated_at and amendments
    detail = signed_call(client, scene["lims"], "GET", f"/api/v1/reports/{first.pk}").json()
    assert {k: v for k, v in revoked.items() if k not in ("updated_at", "amendments")} == detail
    # since the last updated_at: the last change only (inclusive), nothing before it
    again, _pages = _follow(client, scene["lims"], datetime.datetime.fromisoformat(revoked["updated_at"]))
    assert [i["id"] for i in again] == [first.pk]


def test_a_rejection_a_pending_amendment_and_a_printed_date_bring_the_report_again(client, scene):
    tree = scene["tree"]
    first, second, third = scene["reports"]
    since = timezone.now()
    services.report_print(actor=scene["admin"], report=third)
    amendment = services.amendment_apply(
        actor=scene["admin"], report=first, reason="结论有误", data={"conclusion": "nonconforming"}
    )
    items, _pages = _follow(client, scene["lims"], since)
    assert [(i["id"], [a["status"] for a in i["amendments"]]) for i in items] == [
        (third.pk, []),
        (first.pk, ["pending"]),
    ]
    assert items[0]["printed_at"] is not None
    stamp = timezone.now()
    services.amendment_reject(actor=tree["gz_supervisor"], amendment=amendment, reason="证据不足")
    items, _pages = _follow(client, scene["lims"], stamp)
    assert [(i["id"], i["status"], i["version"]) for i in items] == [(first.pk, "valid", 1)]
    assert [(a["status"], a["decision_reason"]) for a in items[0]["amendments"]] == [("rejected", "证据不足")]
    assert second.pk not in [i["id"] for i in items]


def test_sequencing_does_not_change_the_report(client, scene):
    """``log_index`` is read from the log entry: the sequencer writes no report, so a
    report does not come again when its version is sequenced (documented on the feed)."""

    since = timezone.now()
    ledger_services.sequence_pending()
    items, _pages = _follow(client, scene["lims"], since)
    assert items == []
    read = signed_call(client, scene["lims"], "GET", f"/api/v1/reports/{scene['reports'][0].pk}").json()
    assert isinstance(read["log_index"], int)


def test_another_agency_and_another_city_see_none_of_them(client, scene):
    changes = _changes(scene)
    mine = {r.pk for r in scene["reports"]}
    items, _pages = _follow(client, scene["other_lims"], changes["since"] - datetime.timedelta(hours=1))
    assert [i["report_number"] for i in items] == ["R-FEED-B"]  # its own report only
    login_verified(client, scene["tree"]["sz_supervisor"])
    response = client.get(f"{FEED}?updated_since={_since(changes['since'] - datetime.timedelta(hours=1))}")
    assert response.status_code == 200, response.content
    assert not mine & {i["id"] for i in response.json()["items"]}
    assert [i["report_number"] for i in response.json()["items"]] == ["R-FEED-B"]
    # the authority of the reports' city sees them, as in its report list
    login_verified(client, scene["tree"]["gz_supervisor"])
    response = client.get(f"{FEED}?updated_since={_since(changes['since'])}")
    assert [i["id"] for i in response.json()["items"]] == [changes["second"].pk, changes["first"].pk]


def test_a_city_platform_key_reads_its_regions_feed(client, scene):
    changes = _changes(scene)
    platform = approved_client(
        applicant=scene["tree"]["gz_admin"], reviewer=scene["tree"]["gd_admin"], scopes=["reports:submit"], name="平台"
    )
    items, _pages = _follow(client, platform, changes["since"])
    assert [i["id"] for i in items] == [changes["second"].pk, changes["first"].pk]


def test_a_key_without_the_scope_is_refused_and_bad_input_is_explained(client, scene):
    narrow = approved_client(
        applicant=scene["admin"], reviewer=scene["tree"]["gz_admin"], scopes=["sync:pull"], name="仅同步"
    )
    response = signed_call(client, narrow, "GET", FEED)
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope" and error["details"]["scope"] == "reports:submit"
    unsigned = client.get(FEED)
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "not_authenticated")
    bad = signed_call(client, scene["lims"], "GET", f"{FEED}?cursor=nonsense")
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_cursor")
    naive = signed_call(client, scene["lims"], "GET", f"{FEED}?updated_since=2026-01-01T00:00:00")
    assert naive.status_code == 422 and "时区" in naive.json()["error"]["message"]


def test_every_change_of_a_report_row_moves_updated_at():
    """Each write of a report in the services names ``updated_at`` (an ``update()`` or
    a save with ``update_fields`` skips ``auto_now`` otherwise)."""

    import inspect
    import re

    from inspecta.reports import services as module

    source = inspect.getsource(module)
    for fields in re.findall(r"report\.save\(\s*update_fields=\[([^\]]*)\]", source):
        assert '"updated_at"' in fields, fields
    for call in re.findall(r"Report\.objects\.filter\([^)]*\)\.update\(([^)]*)\)", source):
        assert "updated_at" in call, call
