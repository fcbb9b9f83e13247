"""On-site inspection plans over the exchange API (Nanchang 二(三); Guangxi 第十条;
CONTRACT §2-3): an agency's LIMS files with a signed request (``records:submit``) and an
``Idempotency-Key``; browser sessions file, change and cancel; lists are paginated and
filtered; another agency or region gets 404; bad input gets 400/422 in Chinese."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inspecta.core.testing.access import login_verified
from inspecta.exchange.testing import approved_client, prepare, send, sign_prepared
from inspecta.projects.models import InspectionPlan, InspectionPlanVersion
from inspecta.projects.testing import PILE, plan_scene
from inspecta.reports.testing import pdf_bytes, stored_file

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return plan_scene(tree)


def _body(scene: dict[str, Any], *, ahead: datetime.timedelta = datetime.timedelta(days=3), **over: Any) -> dict:
    start = timezone.now() + ahead
    document = stored_file(scene["agency"].organisation_id, pdf_bytes(f"api plan {start}"), name="plan.pdf")
    return {
        "contract_id": scene["contract"].pk,
        "test_item": PILE,
        "tester_ids": [scene["made"]["staff"].pk],
        "planned_start": start.isoformat(),
        "planned_end": (start + datetime.timedelta(hours=5)).isoformat(),
        "quantity": 24,
        "quantity_unit": "根",
        "location": "5# 楼桩基",
        "document_id": str(document.pk),
    } | over


def _signed(client: Client, creds: Any, path: str, body: dict, key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    prepared = prepare("POST", path, json.dumps(body).encode(), **headers)
    sign_prepared(prepared, creds)
    return send(client, prepared)


def _post(client: Client, path: str, body: dict) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def test_lims_files_with_idempotency(client: Client, scene: dict[str, Any], tree: dict[str, Any]) -> None:
    lims = approved_client(applicant=scene["admin"], reviewer=tree["gz_admin"], scopes=["records:submit"])
    path = f"{URL}{scene['project'].pk}/plans"
    body = _body(scene)
    first = _signed(client, lims, path, body, key="plan-0001")
    assert first.status_code == 201, first.content
    again = _signed(client, lims, path, body, key="plan-0001")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert InspectionPlan.objects.count() == 1 and InspectionPlanVersion.objects.count() == 1
    version = InspectionPlanVersion.objects.get()
    assert version.client_id == lims.client.pk and version.filed_by is None
    other_body = _signed(client, lims, path, body | {"quantity": 25}, key="plan-0001")
    assert other_body.status_code == 422
    assert InspectionPlan.objects.count() == 1
    data = first.json()
    assert data["versions"][0]["number"] == 1 and data["findings"] == []
    assert data["tester_ids"] == [scene["made"]["staff"].pk] and data["status"] == "filed"


def test_a_client_without_the_scope_is_refused(client: Client, scene: dict[str, Any], tree: dict[str, Any]) -> None:
    lims = approved_client(applicant=scene["admin"], reviewer=tree["gz_admin"], scopes=["registry:read"])
    response = _signed(client, lims, f"{URL}{scene['project'].pk}/plans", _body(scene))
    assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"
    assert not InspectionPlan.objects.exists()


def test_session_file_change_cancel_list_detail(client: Client, scene: dict[str, Any], tree: dict[str, Any]) -> None:
    login_verified(client, scene["admin"])
    late = _post(client, f"{URL}{scene['project'].pk}/plans", _body(scene, ahead=datetime.timedelta(hours=2)))
    assert late.status_code == 201, late.content
    plan_id = late.json()["id"]
    finding = late.json()["findings"][0]
    assert finding["rule"] == "plan_filed_late" and finding["key"] == f"plan:{plan_id}:v1" and finding["version"] == 1
    changed = _post(client, f"{URL}plans/{plan_id}/change", {"reason": "数量调整", "quantity": 30})
    assert changed.status_code == 201, changed.content
    data = changed.json()
    assert data["version"] == 2 and data["quantity"] == 30
    assert [v["data"]["quantity"] for v in data["versions"]] == [24, 30]
    assert data["versions"][1]["reason"] == "数量调整"
    in_time = _post(client, f"{URL}{scene['project'].pk}/plans", _body(scene))
    assert in_time.status_code == 201
    listing = client.get(f"{URL}plans", {"project": scene["project"].pk, "status": "filed"})
    assert listing.status_code == 200 and listing.json()["count"] == 2
    day = timezone.localtime(timezone.now() + datetime.timedelta(days=3)).date()
    ranged = client.get(f"{URL}plans", {"date_from": day.isoformat(), "date_to": day.isoformat()})
    assert [p["id"] for p in ranged.json()["items"]] == [in_time.json()["id"]]
    assert client.get(f"{URL}plans", {"date_from": "2026-02-01", "date_to": "2026-01-01"}).status_code == 422
    assert client.get(f"{URL}plans", {"status": "nonsense"}).status_code == 422
    cancelled = _post(client, f"{URL}plans/{plan_id}/cancel", {"reason": "暂停施工"})
    assert cancelled.status_code == 201 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["versions"][2]["status"] == "cancelled"
    refused = _post(client, f"{URL}plans/{plan_id}/change", {"reason": "再改", "quantity": 1})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "plan_cancelled"
    detail = client.get(f"{URL}plans/{plan_id}")
    assert detail.status_code == 200 and len(detail.json()["versions"]) == 3
    client.logout()
    login_verified(client, tree["gz_inspector"])  # the station reads, may not change
    assert client.get(f"{URL}plans/{plan_id}").status_code == 200
    assert _post(client, f"{URL}plans/{in_time.json()['id']}/cancel", {"reason": "x"}).status_code == 403


def test_another_agency_or_region_gets_404(client: Client, scene: dict[str, Any], tree: dict[str, Any]) -> None:
    login_verified(client, scene["admin"])
    plan_id = _post(client, f"{URL}{scene['project'].pk}/plans", _body(scene)).json()["id"]
    client.logout()
    for outsider in (tree["sz_supervisor"], scene["other_admin"]):
        login_verified(client, outsider)
        assert client.get(f"{URL}plans/{plan_id}").status_code == 404
        assert client.get(f"{URL}plans").json()["count"] == 0
        assert _post(client, f"{URL}plans/{plan_id}/change", {"reason": "x", "quantity": 2}).status_code == 404
        assert _post(client, f"{URL}plans/{plan_id}/cancel", {"reason": "x"}).status_code == 404
        client.logout()
    # agency B cannot file on a project it is not a party of
    login_verified(client, scene["other_admin"])
    body = _body(scene) | {"contract_id": scene["other_contract"].pk}
    assert _post(client, f"{URL}{scene['project'].pk}/plans", body).status_code == 404
    assert InspectionPlan.objects.count() == 1 and InspectionPlanVersion.objects.count() == 1


@pytest.mark.parametrize("case", ["end_before_start", "contract_of_another_project", "zero_quantity", "naive"])
def test_bad_input_is_refused_in_chinese(client: Client, scene: dict[str, Any], case: str) -> None:
    login_verified(client, scene["admin"])
    body = _body(scene)
    if case == "end_before_start":
        body["planned_end"] = body["planned_start"]
        status, code = 400, "invalid_dates"
    elif case == "contract_of_another_project":
        body["contract_id"] = scene["second_contract"].pk  # the agency's own, on another project
        status, code = 400, "unknown_contract"
    elif case == "zero_quantity":
        body["quantity"] = 0
        status, code = 422, "invalid_input"
    else:
        body["planned_start"] = "tomorrow"
        status, code = 422, "invalid_input"
    response = _post(client, f"{URL}{scene['project'].pk}/plans", body)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert not InspectionPlan.objects.exists()
