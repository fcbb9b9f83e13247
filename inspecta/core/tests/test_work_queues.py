"""The home page's work queues: what waits for each role, with a count and a link to a
filtered list that shows exactly those records; the report list marks reports with a
pending amendment; the home page's queries do not grow with the data."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from inspecta.core.testing.access import login_verified
from inspecta.exchange import services as exchange_services
from inspecta.registry import services as registry_services
from inspecta.registry.models import AgencyHead, Equipment
from inspecta.registry.testing import fill, id_number, register
from inspecta.reports import services as report_services
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db


def queues(html: str) -> dict[str, tuple[int, str]]:
    """``label: (count, url)`` of every work item on a home page."""

    found = re.findall(
        r'<a class="list-group-item[^"]*" href="([^"]+)" data-testid="work-item">'
        r'<span class="flex-fill">([^<]+)</span><span class="badge[^"]*">([\d,]+)</span>',
        html,
    )
    return {label: (int(count.replace(",", "")), url.replace("&amp;", "&")) for url, label, count in found}


@pytest.fixture
def scene(tree):
    # an agency waiting for review, and one that was returned
    waiting, waiting_admin = register(801)
    fill(waiting, waiting_admin, seed=801)
    registry_services.agency_submit(actor=waiting_admin, agency=waiting)
    # an approved agency with a key-fact change, a report with a pending amendment,
    # a calibration expiring soon and an access application
    agency, admin, made = approved_agency(tree, 802)
    head = AgencyHead.objects.get(agency=agency, role="quality_head")
    registry_services.head_save(
        actor=admin, agency=agency, pk=head.pk, data={"name": "新质量负责人", "id_number": id_number(8021)}
    )
    project = project_with(tree, [agency])
    report = report_services.report_submit(actor=admin, **submission(agency, made, project, "R-Q1"))
    report_services.report_submit(actor=admin, **submission(agency, made, project, "R-Q2"))
    report_services.amendment_apply(actor=admin, report=report, reason="部位笔误", data={"project_part": "三层"})
    registry_services.equipment_save(
        actor=admin,
        agency=agency,
        pk=made["equipment"].pk,
        data={"calibration_valid_until": timezone.localdate() + datetime.timedelta(days=10)},
    )
    exchange_services.application_submit(
        actor=admin,
        system_name="LIMS",
        auth_method="hmac-sha256",
        contact_name="张工",
        contact_phone="13800138000",
        scopes=["reports:submit"],
    )
    return {"waiting": waiting, "waiting_admin": waiting_admin, "agency": agency, "admin": admin, "report": report}


def test_supervisor_home_lists_what_waits_with_links_to_filtered_lists(client, tree, scene):
    login_verified(client, tree["gz_supervisor"])
    items = queues(client.get("/").content.decode())
    assert items["待审核的检测机构"][0] == 1
    assert items["待审核的关键信息变更"][0] == 1
    assert items["待审批的报告变更"][0] == 1
    assert items["待审批的接入申请"][0] == 1

    listed = client.get(items["待审核的检测机构"][1]).content.decode()
    assert scene["waiting"].name in listed and scene["agency"].name not in listed
    listed = client.get(items["待审核的关键信息变更"][1]).content.decode()
    assert scene["agency"].name in listed and scene["waiting"].name not in listed
    listed = client.get(items["待审批的报告变更"][1]).content.decode()
    assert "R-Q1" in listed and "R-Q2" not in listed
    assert listed.count('data-testid="pending-amendment"') == 1
    assert client.get(items["待审批的接入申请"][1]).status_code == 200

    # another city's supervisor has none of it
    login_verified(client, tree["sz_supervisor"])
    page = client.get("/").content.decode()
    assert queues(page) == {} and 'data-testid="work-queues-empty"' in page


def test_agency_home_lists_returned_and_expiring(client, tree, scene):
    login_verified(client, tree["gz_supervisor"])
    client.post(f"/registry/{scene['waiting'].pk}/review/return/", {"reason": "材料不全"})
    login_verified(client, scene["waiting_admin"])
    items = queues(client.get("/").content.decode())
    assert items["被退回的登记或变更"] == (1, f"/registry/{scene['waiting'].pk}/")

    login_verified(client, scene["admin"])
    items = queues(client.get("/").content.decode())
    assert items["30 日内到期的设备检定/校准"][0] == 1
    listed = client.get(items["30 日内到期的设备检定/校准"][1]).content.decode()
    assert Equipment.objects.get(agency=scene["agency"]).name in listed
    assert items["已提交、待主管部门审批的报告变更"][0] == 1
    assert "待审核的检测机构" not in items


def test_home_page_queries_do_not_grow_with_the_data(client, tree, scene, django_assert_max_num_queries):
    login_verified(client, tree["gz_supervisor"])
    with django_assert_max_num_queries(40):
        assert client.get("/").status_code == 200
    login_verified(client, scene["admin"])
    with django_assert_max_num_queries(40):
        assert client.get("/").status_code == 200
