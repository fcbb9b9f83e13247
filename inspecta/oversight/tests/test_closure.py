"""Nonconformance closure (Guangdong 附件2 二(十二); T/CECS 4.3.4-6): the agency reports how
it handled a nonconforming result, the project's station confirms it (the entry closes
and the closure is logged) or sends it back; an entry not closed within its region's days
is a finding, hence a warning, resolved by the closure."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.regionrules import region_rule_add
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import authority_tree
from inspecta.core.testing.scenes import rolled_back
from inspecta.ledger.models import Entry
from inspecta.oversight import services
from inspecta.oversight.choices import ClosureStatus, OversightLogKind, WarningStatus
from inspecta.oversight.models import NonconformanceFinding, Warning
from inspecta.oversight.regionrules import CLOSE_DAYS
from inspecta.projects.models import Project
from inspecta.reports import services as report_services
from inspecta.reports.choices import Conclusion
from inspecta.reports.models import NonconformanceEntry
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def built(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with rolled_back(django_db_blocker):
        yield _build()


@pytest.fixture
def scene(db: None, built: dict[str, Any]) -> dict[str, Any]:
    return built


def _build() -> dict[str, Any]:
    tree = authority_tree()
    agency, admin, made = approved_agency(tree, 1, region="440100")
    _other, other_admin, _made_b = approved_agency(tree, 2, region="440300")
    project = project_with(tree, [agency], code="P-NC1", region="440106")
    Project.objects.filter(pk=project.pk).update(station=tree["gz_station"])
    project.refresh_from_db()
    bad = report_services.report_submit(
        actor=admin, **submission(agency, made, project, number="R-NC-1", conclusion=Conclusion.NONCONFORMING)
    )
    retest = report_services.report_submit(actor=admin, **submission(agency, made, project, number="R-NC-2"))
    return {
        "tree": tree,
        "agency": agency,
        "admin": admin,
        "other_admin": other_admin,
        "project": project,
        "entry": NonconformanceEntry.objects.get(report=bad),
        "retest": retest,
    }


def _submit(scene: dict[str, Any], **over: Any) -> Any:
    fields: dict[str, Any] = {
        "actor": scene["admin"],
        "entry": scene["entry"],
        "parties": ["owner", "supervising_firm"],
        "notified_at": timezone.now() - datetime.timedelta(hours=1),
        "action": "retest",
        "description": "已通知建设、监理单位，加倍取样复检合格。",
        "retest_report": scene["retest"],
    }
    return services.closure_submit(**(fields | over))


def test_the_station_confirms_and_the_closure_is_logged(scene: dict[str, Any]) -> None:
    closure = _submit(scene)
    assert (closure.number, closure.status) == (1, ClosureStatus.PENDING)
    assert closure.retest_result == "合格"
    inspector = scene["tree"]["gz_inspector"]
    services.closure_decide(actor=inspector, closure=closure, approve=True)
    closure.refresh_from_db()
    entry = scene["entry"]
    entry.refresh_from_db()
    assert closure.status == ClosureStatus.APPROVED and closure.decided_by == inspector
    assert entry.closed_at == closure.decided_at
    logged = Entry.objects.filter(kind=OversightLogKind.NONCONFORMANCE_CLOSURE)
    assert logged.count() == 1
    assert logged.get().record_id == str(closure.pk)
    assert closure.history.count() == 2
    # closed: nothing more to submit
    with pytest.raises(AppError) as exc:
        _submit(scene)
    assert exc.value.code == ErrorCode.CLOSURE_STATE


def test_a_closure_sent_back_is_submitted_again(scene: dict[str, Any]) -> None:
    first = _submit(scene)
    with pytest.raises(ValidationError):
        services.closure_decide(actor=scene["tree"]["gz_inspector"], closure=first, approve=False, reason=" ")
    first.refresh_from_db()
    assert first.status == ClosureStatus.PENDING
    # one at a time
    with pytest.raises(AppError) as exc:
        _submit(scene)
    assert exc.value.code == ErrorCode.CLOSURE_STATE
    services.closure_decide(actor=scene["tree"]["gz_supervisor"], closure=first, approve=False, reason="未附复检报告")
    first.refresh_from_db()
    assert first.status == ClosureStatus.REJECTED
    second = _submit(scene, description="补充复检报告及告知记录。")
    assert second.number == 2
    scene["entry"].refresh_from_db()
    assert scene["entry"].closed_at is None
    assert not Entry.objects.filter(kind=OversightLogKind.NONCONFORMANCE_CLOSURE).exists()


def test_bad_handlings_change_nothing(scene: dict[str, Any]) -> None:
    cases = [
        ({"parties": []}, "parties"),
        ({"parties": ["nobody"]}, "parties"),
        ({"notified_at": timezone.now() + datetime.timedelta(hours=2)}, "notified_at"),
        ({"action": "pray"}, "action"),
        ({"description": "  "}, "description"),
        ({"retest_report": None}, "retest_report"),
        ({"retest_report": scene["entry"].report}, "retest_report"),  # the nonconforming report itself
    ]
    for over, field in cases:
        with pytest.raises(ValidationError) as exc:
            _submit(scene, **over)
        assert field in exc.value.message_dict, over
    assert not scene["entry"].closures.exists()
    with pytest.raises(PermissionDenied):
        _submit(scene, actor=scene["other_admin"])
    # an action without a re-test needs no report
    assert _submit(scene, action="removed", retest_report=None).number == 1


def test_only_the_station_or_the_authority_confirms(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    closure = _submit(scene)
    for who in (scene["admin"], tree["sz_admin"], scene["other_admin"]):
        with pytest.raises(PermissionDenied):
            services.closure_decide(actor=who, closure=closure, approve=True)
    closure.refresh_from_db()
    assert closure.status == ClosureStatus.PENDING


def test_overdue_after_the_regions_days_then_resolved_by_the_closure(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    region_rule_add(actor=tree["gd_admin"], name=CLOSE_DAYS, region_code="440100", test_item=None, value="10")
    entry = scene["entry"]
    start = entry.created_at
    assert services.closures_overdue_scan(now=start + datetime.timedelta(days=10) - datetime.timedelta(minutes=1)) == 0
    assert services.closures_overdue_scan(now=start + datetime.timedelta(days=10)) == 1
    assert services.closures_overdue_scan(now=start + datetime.timedelta(days=11)) == 0  # kept once
    finding = NonconformanceFinding.objects.get(entry=entry)
    warning = Warning.objects.get(source="oversight.NonconformanceFinding", finding_id=finding.pk)
    assert warning.rule == "nonconformance_overdue" and warning.agency_id == scene["agency"].pk
    assert warning.assigned_region == "440106"

    closure = _submit(scene)
    services.closure_decide(actor=tree["gz_inspector"], closure=closure, approve=True)
    finding.refresh_from_db()
    warning.refresh_from_db()
    assert not finding.is_open
    assert warning.status == WarningStatus.CLOSED and warning.resolved


# --- pages ------------------------------------------------------------------------------


def test_the_pages_walk_the_closure(scene: dict[str, Any]) -> None:
    tree, entry = scene["tree"], scene["entry"]
    url = reverse("oversight:nonconformance_detail", args=[entry.pk])
    agency = login_verified(Client(), scene["admin"])
    page = agency.get(url).content.decode()
    assert 'data-testid="closure-form"' in page and 'data-testid="closure-confirm"' not in page
    assert "R-NC-2" in page  # the re-test report is offered by its number

    bad = agency.post(reverse("oversight:closure_submit", args=[entry.pk]), {"action": "retest"})
    assert bad.status_code == 400
    assert "请填写此项" in bad.content.decode()
    assert not entry.closures.exists()

    done = agency.post(
        reverse("oversight:closure_submit", args=[entry.pk]),
        {
            "parties": ["owner", "contractor"],
            "notified_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "action": "retest",
            "retest_report": scene["retest"].pk,
            "description": "已告知并复检合格。",
        },
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    station = login_verified(Client(), tree["gz_inspector"])
    page = station.get(url).content.decode()
    assert 'data-testid="closure-confirm"' in page and 'data-testid="closure-form"' not in page
    back = station.post(reverse("oversight:closure_decide", args=[entry.pk, "return"]), {"reason": ""})
    assert back.status_code == 400 and "退回须填写理由" in back.content.decode()
    ok = station.post(reverse("oversight:closure_decide", args=[entry.pk, "confirm"]), {"reason": "同意"})
    assert ok.status_code == 302
    entry.refresh_from_db()
    assert entry.closed_at is not None

    listing = station.get(reverse("oversight:nonconformance_list") + "?state=closed").content.decode()
    assert entry.report.serial_number in listing
    summary = station.get(reverse("oversight:nonconformance_summary") + "?by=agency").content.decode()
    assert scene["agency"].name in summary and "100%" in summary
    assert station.get("/reports/nonconformance/").status_code == 302


def test_another_region_and_agency_see_nothing(scene: dict[str, Any]) -> None:
    entry = scene["entry"]
    for who in (scene["tree"]["sz_admin"], scene["other_admin"]):
        client = login_verified(Client(), who)
        assert_gets_nothing(client, [reverse("oversight:nonconformance_detail", args=[entry.pk])])
        listing = client.get(reverse("oversight:nonconformance_list")).content.decode()
        assert entry.report.serial_number not in listing
        summary = client.get(reverse("oversight:nonconformance_summary")).content.decode()
        assert scene["agency"].name not in summary


def test_the_station_and_the_agency_are_told(scene: dict[str, Any]) -> None:
    from inspecta.notifications.models import Notification

    tree = scene["tree"]
    url = reverse("oversight:nonconformance_detail", args=[scene["entry"].pk])
    closure = _submit(scene)
    told = Notification.objects.filter(url=url)
    # the project's station, not the authorities
    assert set(told.filter(kind="closure_submitted").values_list("recipient", flat=True)) == {tree["gz_inspector"].pk}
    services.closure_decide(actor=tree["gz_inspector"], closure=closure, approve=True, reason="同意")
    decided = told.get(kind="closure_decided")
    assert decided.recipient == scene["admin"] and "已确认闭环" in decided.subject


# --- API --------------------------------------------------------------------------------


def test_the_agencys_lims_reports_its_handling_over_the_signed_api(scene: dict[str, Any]) -> None:
    import json

    from inspecta.core.testing.openapi import assert_documented
    from inspecta.exchange.choices import Scope
    from inspecta.exchange.testing import approved_client, signed_call

    entry = scene["entry"]
    creds = approved_client(
        applicant=scene["admin"], reviewer=scene["tree"]["gz_admin"], scopes=[Scope.REPORTS_SUBMIT.value]
    )
    path = f"/api/v1/oversight/nonconformance/{entry.pk}/closures"
    body = {
        "parties": ["owner", "contractor"],
        "notified_at": timezone.now().isoformat(),
        "action": "retest",
        "description": "已告知并加倍复检合格。",
    }
    refused = signed_call(Client(), creds, "POST", path, json.dumps(body).encode())
    assert refused.status_code == 400
    assert "retest_report" in refused.content.decode()
    assert not entry.closures.exists()

    body["retest_report"] = scene["retest"].pk
    made = signed_call(Client(), creds, "POST", path, json.dumps(body).encode())
    assert made.status_code == 201, made.content
    assert made.json()["closures"][0]["status"] == "pending"
    assert made.json()["closures"][0]["retest_conclusion"] == "qualified"
    read = signed_call(Client(), creds, "GET", f"/api/v1/oversight/nonconformance/{entry.pk}")
    assert_documented(read, "/api/v1/oversight/nonconformance/{entry_id}")
    assert read.json()["closures"][0]["number"] == 1

    # another agency's client gets nothing
    other = approved_client(
        applicant=scene["other_admin"], reviewer=scene["tree"]["sz_admin"], scopes=[Scope.REPORTS_SUBMIT.value]
    )
    assert signed_call(Client(), other, "GET", f"/api/v1/oversight/nonconformance/{entry.pk}").status_code == 404
