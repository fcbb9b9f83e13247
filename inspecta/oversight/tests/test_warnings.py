"""Warnings: raised from findings once, closed and reopened with them, assigned to the
competent authority, escalated after the region's days and not before, answered by the
agency and reviewed by the authority; another region or agency sees none of it."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.findings import FindingStatus
from inspecta.core.regionrules import region_rule_add
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import authority_tree
from inspecta.core.testing.scenes import rolled_back
from inspecta.exchange.choices import Scope
from inspecta.exchange.testing import approved_client, signed_call
from inspecta.oversight import services
from inspecta.oversight.choices import WarningAction, WarningStatus
from inspecta.oversight.models import Warning
from inspecta.oversight.regionrules import ESCALATION_DAYS
from inspecta.reports.testing import approved_agency, project_with, stored_file
from inspecta.testing.models import TestingFinding

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
    agency, admin, _made = approved_agency(tree, 1, region="440100")
    other, other_admin, _made_b = approved_agency(tree, 2, region="440300")
    project = project_with(tree, [agency], code="P-W1", region="440106")
    project_b = project_with(tree, [other], code="P-W2", region="440305")
    return {
        "tree": tree,
        "agency": agency,
        "admin": admin,
        "other": other,
        "other_admin": other_admin,
        "project": project,
        "project_b": project_b,
    }


def _finding(scene: dict[str, Any], key: str = "sample:1", *, side: str = "a", **over: Any) -> TestingFinding:
    agency, project = (scene["agency"], scene["project"]) if side == "a" else (scene["other"], scene["project_b"])
    fields = {"rule": "sample_data_overdue", "key": key, "subject": f"样品 {key}", "detail": "收样后逾期未上传检测数据"}
    return TestingFinding.objects.create(agency=agency, project=project, **(fields | over))


def _warning_of(finding: Any) -> Warning:
    return Warning.objects.get(source=finding._meta.label, finding_id=finding.pk)


# --- raised once, from the finding ------------------------------------------------------


def test_a_saved_finding_raises_one_warning_for_the_district_authority(scene: dict[str, Any]) -> None:
    finding = _finding(scene)
    warning = _warning_of(finding)
    assert warning.rule == "sample_data_overdue"
    assert warning.region == "440106"
    # 天河 has an authority of its own: the warning lies with it
    assert warning.assigned_region == "440106"
    assert warning.agency_id == scene["agency"].pk
    assert warning.project_id == scene["project"].pk
    assert warning.organisation_id == scene["agency"].organisation_id
    assert warning.status == WarningStatus.OPEN
    assert warning.history.count() == 1

    # saving the finding again, and scanning everything twice, raise nothing new
    finding.detail = "仍未上传"
    finding.save()
    assert services.warnings_sync().raised == 0
    assert services.warnings_sync().raised == 0
    assert Warning.objects.filter(source="testing.TestingFinding", finding_id=finding.pk).count() == 1


def test_a_region_without_authority_goes_to_the_city(scene: dict[str, Any]) -> None:
    project = project_with(scene["tree"], [scene["agency"]], code="P-W3", region="440104")  # 越秀: no authority
    finding = TestingFinding.objects.create(
        agency=scene["agency"], project=project, rule="sample_data_overdue", key="sample:9"
    )
    assert _warning_of(finding).assigned_region == "440100"


def test_findings_written_in_bulk_are_raised_by_the_scan(scene: dict[str, Any]) -> None:
    rows = [
        TestingFinding(
            agency=scene["agency"],
            project=scene["project"],
            rule="sample_data_overdue",
            key=f"sample:{n}",
            region="440106",
        )
        for n in range(5)
    ]
    before = Warning.objects.count()
    TestingFinding.objects.bulk_create(rows)  # no signal
    assert Warning.objects.count() == before
    assert services.warnings_sync().raised == 5
    assert services.warnings_sync().raised == 0
    assert Warning.objects.filter(rule="sample_data_overdue", assigned_region="440106").count() == 5


def test_a_resolved_finding_closes_its_warning_and_a_recurring_one_reopens_it(scene: dict[str, Any]) -> None:
    finding = _finding(scene)
    finding.save(update_fields=finding.resolve())
    warning = _warning_of(finding)
    assert warning.status == WarningStatus.CLOSED
    assert warning.resolved
    assert list(warning.events.values_list("action", flat=True)) == [WarningAction.RESOLVED]

    finding.status = FindingStatus.OPEN
    finding.resolved_at = None
    finding.save()
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN
    assert not warning.resolved
    assert warning.events.last().action == WarningAction.RECURRED
    # a warning its reviewer closed stays closed while the finding still holds
    assert services.warnings_sync().recurred == 0


def test_a_closed_warning_is_not_reopened_by_a_scan(scene: dict[str, Any]) -> None:
    finding = _finding(scene)
    warning = _warning_of(finding)
    services.warning_step(actor=scene["tree"]["th_admin"], warning=warning, step="dismiss", note="核实为误报")
    result = services.warnings_sync()
    assert (result.raised, result.recurred) == (0, 0)
    warning.refresh_from_db()
    assert warning.status == WarningStatus.CLOSED


# --- escalation -------------------------------------------------------------------------


def test_escalation_after_the_regions_days_and_not_before(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    region_rule_add(actor=tree["gd_admin"], name=ESCALATION_DAYS, region_code="440106", test_item=None, value="3")
    warning = _warning_of(_finding(scene))
    start = warning.assigned_at

    assert services.warnings_escalate(now=start + datetime.timedelta(days=3) - datetime.timedelta(seconds=1)) == 0
    warning.refresh_from_db()
    assert warning.assigned_region == "440106"

    assert services.warnings_escalate(now=start + datetime.timedelta(days=3)) == 1
    warning.refresh_from_db()
    assert (warning.assigned_region, warning.escalations) == ("440100", 1)
    event = warning.events.get(action=WarningAction.ESCALATED)
    assert (event.from_region, event.to_region) == ("440106", "440100")

    # the city keeps the default (7 days) counted from the escalation
    later = warning.assigned_at
    assert services.warnings_escalate(now=later + datetime.timedelta(days=6)) == 0
    assert services.warnings_escalate(now=later + datetime.timedelta(days=7)) == 1
    warning.refresh_from_db()
    assert (warning.assigned_region, warning.escalations) == ("440000", 2)
    # the province is the top: nothing above it
    assert services.warnings_escalate(now=later + datetime.timedelta(days=30)) == 0


def test_a_handled_warning_does_not_escalate(scene: dict[str, Any]) -> None:
    warning = _warning_of(_finding(scene))
    services.warning_step(actor=scene["admin"], warning=warning, step="handle", note="已上传检测数据")
    assert services.warnings_escalate(now=timezone.now() + datetime.timedelta(days=60)) == 0


# --- the lifecycle ----------------------------------------------------------------------


def test_the_agency_answers_and_the_authority_reviews(scene: dict[str, Any]) -> None:
    tree, admin = scene["tree"], scene["admin"]
    warning = _warning_of(_finding(scene))

    services.warning_step(actor=admin, warning=warning, step="acknowledge")
    warning.refresh_from_db()
    assert warning.status == WarningStatus.ACKNOWLEDGED

    # a handling without words changes nothing
    with pytest.raises(ValidationError) as exc:
        services.warning_step(actor=admin, warning=warning, step="handle", note="  ")
    assert "note" in exc.value.message_dict
    warning.refresh_from_db()
    assert warning.status == WarningStatus.ACKNOWLEDGED

    evidence = stored_file(scene["agency"].organisation_id, b"%PDF-1.4 evidence", "evidence.pdf")
    services.warning_step(actor=admin, warning=warning, step="handle", note="已补传检测数据", files=[evidence])
    # the agency cannot close its own warning
    with pytest.raises(PermissionDenied):
        services.warning_step(actor=admin, warning=warning, step="close")
    services.warning_step(actor=tree["th_admin"], warning=warning, step="return", note="数据不完整，请补充")
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN
    services.warning_step(actor=admin, warning=warning, step="handle", note="已补充全部参数")
    services.warning_step(actor=tree["gz_supervisor"], warning=warning, step="close")
    warning.refresh_from_db()
    assert warning.status == WarningStatus.CLOSED
    events = list(warning.events.order_by("at", "id"))
    assert [e.action for e in events] == ["acknowledged", "handled", "returned", "handled", "closed"]
    assert [e.by_id for e in events] == [admin.pk, admin.pk, tree["th_admin"].pk, admin.pk, tree["gz_supervisor"].pk]
    assert list(events[1].files.all()) == [evidence]
    assert warning.history.count() == 1 + 5


def test_a_step_the_state_does_not_allow_is_refused(scene: dict[str, Any]) -> None:
    warning = _warning_of(_finding(scene))
    with pytest.raises(AppError) as exc:
        services.warning_step(actor=scene["tree"]["th_admin"], warning=warning, step="close")
    assert exc.value.code == ErrorCode.WARNING_STATE
    assert "待处理" in exc.value.message
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN
    assert not warning.events.exists()


def test_another_region_and_agency_may_not_act(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    warning = _warning_of(_finding(scene))
    for who, step in ((tree["sz_admin"], "dismiss"), (scene["other_admin"], "acknowledge")):
        with pytest.raises(PermissionDenied):
            services.warning_step(actor=who, warning=warning, step=step, note="x")
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN


def test_evidence_must_be_the_agencys_own(scene: dict[str, Any]) -> None:
    warning = _warning_of(_finding(scene))
    foreign = stored_file(scene["other"].organisation_id, b"%PDF-1.4 other", "other.pdf")
    with pytest.raises(ValidationError):
        services.warning_step(actor=scene["admin"], warning=warning, step="handle", note="x", files=[foreign])
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN


# --- pages ------------------------------------------------------------------------------


def test_pages_offer_the_steps_of_who_looks(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    warning = _warning_of(_finding(scene))
    url = reverse("oversight:warning_detail", args=[warning.pk])

    agency_page = login_verified(Client(), scene["admin"]).get(url).content.decode()
    assert 'data-testid="step-acknowledge"' in agency_page and 'data-testid="step-handle"' in agency_page
    assert 'data-testid="step-close"' not in agency_page and 'data-testid="step-dismiss"' not in agency_page

    reviewer_page = login_verified(Client(), tree["th_admin"]).get(url).content.decode()
    assert 'data-testid="step-dismiss"' in reviewer_page
    assert 'data-testid="step-close"' not in reviewer_page  # nothing handled to close yet

    viewer = login_verified(Client(), scene["other_admin"])
    assert viewer.get(url).status_code == 404


def test_a_handling_without_words_is_refused_on_the_page(scene: dict[str, Any]) -> None:
    warning = _warning_of(_finding(scene))
    client = login_verified(Client(), scene["admin"])
    url = reverse("oversight:warning_step", args=[warning.pk, "handle"])
    response = client.post(url, {"note": ""})
    assert response.status_code == 400
    assert "请填写说明" in response.content.decode()
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN

    response = client.post(url, {"note": "已补传"})
    assert response.status_code == 302
    warning.refresh_from_db()
    assert warning.status == WarningStatus.HANDLED


def test_a_step_no_longer_allowed_is_said_on_the_page(scene: dict[str, Any]) -> None:
    warning = _warning_of(_finding(scene))
    client = login_verified(Client(), scene["tree"]["th_admin"])
    response = client.post(reverse("oversight:warning_step", args=[warning.pk, "close"]), {"note": ""})
    assert response.status_code == 409
    assert "warning_state" in response.content.decode()
    # the agency may never dismiss: refused outright
    agency = login_verified(Client(), scene["admin"])
    response = agency.post(reverse("oversight:warning_step", args=[warning.pk, "dismiss"]), {"note": "x"})
    assert response.status_code == 403


def test_another_region_and_agency_see_nothing(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    warning = _warning_of(_finding(scene, subject="样品 甲方秘密"))
    for who in (tree["sz_admin"], tree["sz_supervisor"], scene["other_admin"]):
        client = login_verified(Client(), who)
        assert_gets_nothing(
            client,
            [
                reverse("oversight:warning_detail", args=[warning.pk]),
                f"/api/v1/oversight/warnings/{warning.pk}",
            ],
            secrets=["甲方秘密"],
        )
        listing = client.get(reverse("oversight:warning_list"))
        assert listing.status_code == 200
        assert "甲方秘密" not in listing.content.decode()
        api = client.get("/api/v1/oversight/warnings")
        assert api.status_code == 200
        assert warning.pk not in {w["id"] for w in api.json()["items"]}
    # the reviewers of the region and the agency see it
    for who in (tree["gz_supervisor"], tree["th_admin"], scene["admin"]):
        listing = login_verified(Client(), who).get(reverse("oversight:warning_list"))
        assert "甲方秘密" in listing.content.decode()


def test_the_reviewers_queue(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    _finding(scene, subject="样品 区级")
    project = project_with(tree, [scene["agency"]], code="P-W4", region="440104")
    TestingFinding.objects.create(
        agency=scene["agency"], project=project, rule="sample_data_overdue", key="sample:8", subject="样品 市级"
    )
    client = login_verified(Client(), tree["gz_supervisor"])
    mine = client.get(reverse("oversight:warning_list") + "?mine=true&state=active").content.decode()
    assert "样品 市级" in mine and "样品 区级" not in mine
    everything = client.get(reverse("oversight:warning_list")).content.decode()
    assert "样品 市级" in everything and "样品 区级" in everything
    home = client.get(reverse("core:home")).content.decode()
    assert "交办本级、待处置的预警" in home


def test_the_rule_catalog_lists_every_apps_rules(scene: dict[str, Any]) -> None:
    _finding(scene)
    page = login_verified(Client(), scene["tree"]["gz_supervisor"]).get(reverse("oversight:rule_list"))
    text = page.content.decode()
    for code in ("sample_data_overdue", "plan_filed_late", "sampling_window_exceeded", "capability_missing"):
        assert code in text
    assert "Guangdong 附件2 二(十一)" in text
    rules = login_verified(Client(), scene["admin"]).get("/api/v1/oversight/rules").json()
    by_code = {r["code"]: r for r in rules}
    assert by_code["plan_filed_late"]["name"] == "检测方案报送不及时"
    assert by_code["plan_filed_late"]["source"] == "projects.PlanFinding"


# --- API --------------------------------------------------------------------------------


def test_the_agencys_lims_answers_over_the_signed_api(scene: dict[str, Any]) -> None:
    tree = scene["tree"]
    warning = _warning_of(_finding(scene))
    creds = approved_client(applicant=scene["admin"], reviewer=tree["gz_admin"], scopes=[Scope.WARNINGS_ANSWER.value])
    client = Client()
    listed = signed_call(client, creds, "GET", "/api/v1/oversight/warnings?state=unhandled")
    assert listed.status_code == 200, listed.content
    assert [w["id"] for w in listed.json()["items"]] == [warning.pk]

    body = json.dumps({"note": "已补传检测数据"}).encode()
    answered = signed_call(client, creds, "POST", f"/api/v1/oversight/warnings/{warning.pk}/handle", body)
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "handled"
    assert answered.json()["events"][-1]["action"] == "handled"

    refused = signed_call(client, creds, "POST", f"/api/v1/oversight/warnings/{warning.pk}/close", b"{}")
    assert refused.status_code == 403
    warning.refresh_from_db()
    assert warning.status == WarningStatus.HANDLED


def test_a_client_without_the_scope_is_refused(scene: dict[str, Any]) -> None:
    _finding(scene)
    creds = approved_client(
        applicant=scene["admin"], reviewer=scene["tree"]["gz_admin"], scopes=[Scope.TESTS_SUBMIT.value]
    )
    response = signed_call(Client(), creds, "GET", "/api/v1/oversight/warnings")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


# --- who is told ------------------------------------------------------------------------


def test_the_people_concerned_are_told(scene: dict[str, Any]) -> None:
    from inspecta.notifications.models import Notification

    tree, admin = scene["tree"], scene["admin"]
    warning = _warning_of(_finding(scene))
    url = reverse("oversight:warning_detail", args=[warning.pk])
    told = Notification.objects.filter(url=url)
    assert set(told.filter(kind="warning_assigned").values_list("recipient", flat=True)) == {tree["th_admin"].pk}
    assert set(told.filter(kind="warning_raised").values_list("recipient", flat=True)) == {admin.pk}
    assert "收样后逾期未上传检测数据" in told.get(kind="warning_raised").subject

    services.warning_step(actor=admin, warning=warning, step="handle", note="已补传检测数据")
    assert told.filter(kind="warning_answered", recipient=tree["th_admin"]).exists()
    services.warning_step(actor=tree["th_admin"], warning=warning, step="return", note="请补充曲线")
    returned = told.get(kind="warning_reviewed", recipient=admin)
    assert "退回" in returned.subject and "请补充曲线" in returned.body

    # escalated to the city: the city's reviewers (admin, supervisor, station inspector)
    services.warnings_escalate(now=timezone.now() + datetime.timedelta(days=8))
    city = {tree[k].pk for k in ("gz_admin", "gz_supervisor", "gz_inspector")}
    assert set(told.filter(kind="warning_assigned").values_list("recipient", flat=True)) == {tree["th_admin"].pk} | city
    # nobody of another region or agency hears of it
    assert not told.filter(recipient__in=[tree["sz_admin"].pk, tree["sz_supervisor"].pk, scene["other_admin"].pk])


def test_a_scan_tells_each_authority_once(scene: dict[str, Any]) -> None:
    from inspecta.notifications.models import Notification

    before = Notification.objects.filter(recipient=scene["tree"]["th_admin"]).count()
    TestingFinding.objects.bulk_create(
        [
            TestingFinding(
                agency=scene["agency"],
                project=scene["project"],
                rule="sample_data_overdue",
                key=f"s:{n}",
                region="440106",
            )
            for n in range(4)
        ]
    )
    services.warnings_sync()
    news = Notification.objects.filter(recipient=scene["tree"]["th_admin"]).order_by("pk")[before:]
    assert [n.subject for n in news] == ["新交办本级的预警 4 条"]
