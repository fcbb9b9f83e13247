"""The plan pages (Nanchang 二(三); Guangxi 第十条): the agency files, changes and cancels
from forms that offer only its own contracts, items and staff; the regulators of the
project's region see the plan, its versions and findings and the calendar of upcoming
on-site tests; everyone else gets nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from inspecta.core.models import RegionRule
from inspecta.core.testing.access import assert_gets_nothing, assert_list_excludes, login_verified
from inspecta.projects import services
from inspecta.projects.choices import PlanStatus
from inspecta.projects.models import InspectionPlan, PlanFinding
from inspecta.projects.testing import PILE, plan_kwargs, plan_scene
from inspecta.reports.testing import pdf_bytes

pytestmark = pytest.mark.django_db

LOCATION = "3# 楼桩基"


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return plan_scene(tree)


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _form(scene: dict[str, Any], start: datetime.datetime, **over: Any) -> dict[str, Any]:
    data = {
        "contract": scene["contract"].pk,
        "test_item": PILE,
        "testers": [scene["made"]["staff"].pk],
        "planned_start": _local(start),
        "planned_end": _local(start + datetime.timedelta(hours=6)),
        "quantity": "30",
        "quantity_unit": "根",
        "location": LOCATION,
        "document": SimpleUploadedFile("plan.pdf", pdf_bytes("plan page"), content_type="application/pdf"),
    }
    data.update(over)
    return data


def _plan(scene: dict[str, Any], **over: Any) -> InspectionPlan:
    kwargs = plan_kwargs(scene["agency"], scene["contract"], scene["made"], location=LOCATION, **over)
    return services.plan_file(actor=scene["admin"], **kwargs)


def test_agency_files_a_plan_from_the_project_page(client: Client, scene: dict[str, Any]) -> None:
    login_verified(client, scene["admin"])
    project_page = client.get(f"/projects/{scene['project'].pk}/")
    assert f"/projects/{scene['project'].pk}/plans/new/" in project_page.content.decode()
    form_page = client.get(f"/projects/{scene['project'].pk}/plans/new/")
    body = form_page.content.decode()
    assert form_page.status_code == 200 and "HT-PLAN" in body and "HT-PLAN2" not in body and "HT-SZ" not in body
    assert scene["other_made"]["staff"].name not in body  # only the agency's own staff
    start = timezone.now() + datetime.timedelta(days=3)
    response = client.post(f"/projects/{scene['project'].pk}/plans/new/", _form(scene, start))
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = InspectionPlan.objects.get()
    assert plan.location == LOCATION and plan.version == 1 and plan.document.purpose == "plan"
    assert not PlanFinding.objects.exists()
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and LOCATION in detail.content.decode()


@pytest.mark.parametrize("case", ["end_before_start", "contract_of_another_project", "no_testers"])
def test_bad_input_re_renders_with_chinese_and_stores_nothing(client: Client, scene: dict[str, Any], case: str) -> None:
    login_verified(client, scene["admin"])
    start = timezone.now() + datetime.timedelta(days=3)
    over: dict[str, Any] = {
        "end_before_start": {"planned_end": _local(start - datetime.timedelta(hours=1))},
        "contract_of_another_project": {"contract": scene["second_contract"].pk},
        "no_testers": {"testers": []},
    }[case]
    response = client.post(f"/projects/{scene['project'].pk}/plans/new/", _form(scene, start, **over))
    assert response.status_code == 400
    body = response.content.decode()
    expected = {
        "end_before_start": "计划结束时间须晚于计划开始时间",
        "contract_of_another_project": "不在可选范围内",
        "no_testers": "请填写此项",
    }[case]
    assert expected in body
    assert not InspectionPlan.objects.exists()


def test_detail_shows_versions_and_findings_to_the_region(
    client: Client, scene: dict[str, Any], tree: dict[str, Any]
) -> None:
    plan = _plan(scene, ahead=datetime.timedelta(hours=3))  # late under the default 24 h
    services.plan_change(actor=scene["admin"], plan=plan, reason="增加检测数量", quantity=40)
    for who in (tree["gz_supervisor"], tree["gz_inspector"], tree["th_admin"], scene["admin"]):
        login_verified(client, who)
        page = client.get(f"/projects/plans/{plan.pk}/")
        body = page.content.decode()
        assert page.status_code == 200 and LOCATION in body
        assert "第 1 版" in body and "第 2 版" in body and "增加检测数量" in body
        assert "规定须至少提前 24 小时报送" in body
        history = client.get(f"/projects/plans/{plan.pk}/history/")
        assert history.status_code == 200 and "检测数量" in history.content.decode()
        client.logout()
    for outsider in (tree["sz_supervisor"], scene["other_admin"]):
        login_verified(client, outsider)
        assert_gets_nothing(
            client,
            [
                f"/projects/plans/{plan.pk}/",
                f"/projects/plans/{plan.pk}/change/",
                f"/projects/plans/{plan.pk}/history/",
            ],
            secrets=[LOCATION],
        )
        response = client.post(f"/projects/plans/{plan.pk}/cancel/", {"reason": "x"})
        assert response.status_code == 404
        assert_list_excludes(client, "/projects/plans/", present=[], absent=[LOCATION])
        client.logout()
    assert InspectionPlan.objects.get().status == PlanStatus.FILED


def test_change_and_cancel_by_the_agency_only(client: Client, scene: dict[str, Any], tree: dict[str, Any]) -> None:
    plan = _plan(scene)
    login_verified(client, tree["gz_supervisor"])
    assert client.get(f"/projects/plans/{plan.pk}/change/").status_code == 403
    assert client.post(f"/projects/plans/{plan.pk}/cancel/", {"reason": "监管取消"}).status_code == 400
    client.logout()
    login_verified(client, scene["admin"])
    page = client.get(f"/projects/plans/{plan.pk}/change/")
    assert page.status_code == 200 and LOCATION in page.content.decode()
    start = plan.planned_start + datetime.timedelta(days=1)
    data = _form(scene, start, reason="施工进度调整", quantity="45")
    data.pop("document")
    response = client.post(f"/projects/plans/{plan.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    plan.refresh_from_db()
    assert plan.version == 2 and plan.quantity == 45 and plan.versions.count() == 2
    assert plan.versions.get(number=1).data["quantity"] == 12
    no_reason = client.post(f"/projects/plans/{plan.pk}/cancel/", {"reason": ""})
    assert no_reason.status_code == 400 and "请填写此项" in no_reason.content.decode()
    assert client.post(f"/projects/plans/{plan.pk}/cancel/", {"reason": "业主通知暂停"}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED and plan.version == 3
    assert client.get(f"/projects/plans/{plan.pk}/change/").status_code == 403


def test_calendar_shows_the_plan_to_the_station_not_to_another_region(
    client: Client, scene: dict[str, Any], tree: dict[str, Any]
) -> None:
    plan = _plan(scene, ahead=datetime.timedelta(days=2))
    day = timezone.localtime(plan.planned_start).date()
    url = f"/projects/plans/calendar/?start={day:%Y-%m-%d}&span=week"
    login_verified(client, tree["gz_inspector"])
    assert_list_excludes(client, url, present=[LOCATION, scene["project"].name], absent=[])
    day_view = client.get(f"/projects/plans/calendar/?start={day:%Y-%m-%d}&span=day")
    assert LOCATION in day_view.content.decode()
    later = client.get(f"/projects/plans/calendar/?start={day + datetime.timedelta(days=3):%Y-%m-%d}&span=day")
    assert LOCATION not in later.content.decode()
    assert client.get("/projects/plans/calendar/?start=not-a-date").status_code == 400
    client.logout()
    login_verified(client, tree["sz_supervisor"])
    assert_list_excludes(client, url, present=[], absent=[LOCATION, scene["project"].name])
    client.logout()
    login_verified(client, scene["admin"])  # agencies have their list, not the calendar
    assert client.get(url).status_code == 403
    services.plan_cancel(actor=scene["admin"], plan=plan, reason="取消")
    client.logout()
    login_verified(client, tree["gz_inspector"])
    assert LOCATION not in client.get(url).content.decode()


def test_list_filters_by_status(client: Client, scene: dict[str, Any], tree: dict[str, Any]) -> None:
    plan = _plan(scene)
    login_verified(client, tree["gz_supervisor"])
    assert_list_excludes(client, "/projects/plans/?status=filed", present=[LOCATION], absent=[])
    assert_list_excludes(client, "/projects/plans/?status=cancelled", present=[], absent=[LOCATION])
    assert client.get("/projects/plans/?status=nonsense").status_code == 400
    assert plan.pk


def test_lead_rules_page(client: Client, tree: dict[str, Any]) -> None:
    login_verified(client, tree["gz_admin"])
    page = client.get("/rules/")
    assert page.status_code == 200 and "440106" in page.content.decode() and "440300" not in page.content.decode()
    bad = client.post("/rules/", {"name": "plan_lead_hours", "region_code": "440100", "test_item": PILE, "value": "0"})
    assert bad.status_code == 400 and not RegionRule.objects.exists()
    outside = client.post("/rules/", {"name": "plan_lead_hours", "region_code": "440300", "value": "48"})
    assert outside.status_code == 400 and not RegionRule.objects.exists()
    ok = client.post("/rules/", {"name": "plan_lead_hours", "region_code": "440100", "test_item": PILE, "value": "72"})
    assert ok.status_code == 302
    rule = RegionRule.objects.get()
    assert rule.value == "72" and rule.name == "plan_lead_hours" and rule.history.get().history_user == tree["gz_admin"]
    client.logout()
    login_verified(client, tree["sz_admin"])
    assert client.post(f"/rules/{rule.pk}/delete/").status_code == 404
    assert "（440100）" not in client.get("/rules/").content.decode()
    client.logout()
    login_verified(client, tree["gz_supervisor"])
    assert client.get("/rules/").status_code == 403
    client.logout()
    login_verified(client, tree["gz_admin"])
    assert client.post(f"/rules/{rule.pk}/delete/").status_code == 302
    assert not RegionRule.objects.exists()
