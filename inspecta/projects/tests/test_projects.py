"""Projects and contracts (T/CECS 4.3.2, 4.3.3; Nanchang 二(二); Guangxi 第八条(四), 第九条)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.core.errors import AppError
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import OrganisationFactory, UserFactory
from inspecta.ledger.models import Entry
from inspecta.projects import services
from inspecta.projects.models import Contract, Project
from inspecta.registry.testing import CEMENT
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file

pytestmark = pytest.mark.django_db


def test_authority_creates_project_over_api_and_scoping(client, tree):
    agency, admin, _ = approved_agency(tree, 901)
    login_verified(client, tree["gz_supervisor"])
    body = {
        "code": "P-API",
        "name": "接口项目",
        "region": "440106",
        "address": "天河路 1 号",
        "longitude": "113.3",
        "latitude": "23.1",
        "supervision_number": "JD-1",
        "parties": [
            {"role": "owner", "name": "业主", "people": [{"name": "王五"}]},
            {"role": "agency", "agency_id": agency.pk},
        ],
    }
    response = client.post("/api/v1/projects/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    project = Project.objects.get(code="P-API")
    assert client.post("/api/v1/projects/", json.dumps(body), content_type="application/json").status_code == 409
    bad = client.post(
        "/api/v1/projects/", json.dumps(body | {"code": "P-X", "region": "12"}), content_type="application/json"
    )
    assert bad.status_code == 422 and not Project.objects.filter(code="P-X").exists()
    client.logout()
    login_verified(client, tree["sz_supervisor"])
    outside = client.post("/api/v1/projects/", json.dumps(body | {"code": "P-SZ"}), content_type="application/json")
    assert outside.status_code == 403 and not Project.objects.filter(code="P-SZ").exists()
    assert_gets_nothing(client, [f"/api/v1/projects/{project.pk}", f"/projects/{project.pk}/"], secrets=["接口项目"])
    client.logout()
    login_verified(client, admin)  # the agency is a party: sees the project
    assert client.get(f"/api/v1/projects/{project.pk}").status_code == 200
    assert "接口项目" in client.get("/projects/").content.decode()
    _other_agency, other_admin, _ = approved_agency(tree, 902)
    client.logout()
    login_verified(client, other_admin)
    assert_gets_nothing(client, [f"/api/v1/projects/{project.pk}"], secrets=["接口项目"])


def test_party_organisation_users_see_their_project(tree):
    owner = OrganisationFactory(name="业主单位", kind=OrganisationKind.OWNER, level="", region_code="440106")
    viewer = UserFactory(username="owner1", organisation=owner, roles=[Role.PROJECT_VIEWER])
    project = services.project_create(
        actor=tree["gz_admin"],
        code="P-OWN",
        name="业主项目",
        region_code="440106",
        address="x",
        parties=[{"role": "owner", "organisation_id": owner.pk}],
    )
    assert list(Project.objects.restrict(viewer)) == [project]
    with pytest.raises(PermissionDenied):
        services.project_create(actor=viewer, code="P-O2", name="x", region_code="440106", address="x")


def test_contract_upload_logged_and_visible_to_station(client, tree):
    agency, admin, _ = approved_agency(tree, 903)
    project = project_with(tree, [agency], code="P-C")
    scan = stored_file(agency.organisation_id, pdf_bytes("contract"))
    kwargs = {
        "number": "HT-1",
        "client_name": "业主",
        "amount": "12345.60",
        "signed_on": datetime.date(2026, 1, 1),
        "valid_from": datetime.date(2026, 1, 1),
        "valid_until": datetime.date(2026, 12, 31),
        "test_items": [CEMENT],
        "scan_id": scan.pk,
    }
    contract = services.contract_upload(actor=admin, agency=agency, project=project, **kwargs)
    assert str(contract.amount) == "12345.60" and contract.scan_sha256 == scan.sha256
    assert Entry.objects.filter(kind="contract", record_id=str(contract.pk)).exists()
    assert Contract.objects.restrict(tree["gz_inspector"]).filter(pk=contract.pk).exists()
    assert not Contract.objects.restrict(tree["sz_supervisor"]).exists()
    with pytest.raises(AppError) as exc:
        services.contract_upload(actor=admin, agency=agency, project=project, **kwargs)
    assert exc.value.code == "contract_number_taken"
    with pytest.raises(AppError) as exc:
        services.contract_upload(
            actor=admin, agency=agency, project=project, **kwargs | {"number": "HT-2", "test_items": ["NOPE"]}
        )
    assert exc.value.code == "unknown_test_item"
    login_verified(client, tree["gz_inspector"])
    assert "HT-1" in client.get(f"/projects/{project.pk}/").content.decode()
    assert client.get(f"/api/v1/projects/{project.pk}/contracts").json()[0]["amount"] == "12345.60"
    client.logout()
    login_verified(client, admin)
    response = client.post(
        f"/projects/{project.pk}/contracts/new/",
        {
            "number": "HT-WEB",
            "client_name": "业主",
            "amount": "100.00",
            "signed_on": "2026-01-01",
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
            "test_items": CEMENT,
            "scan": SimpleUploadedFile("c.pdf", pdf_bytes("web contract")),
        },
    )
    assert response.status_code == 302
    assert Contract.objects.filter(number="HT-WEB").exists()
    body = {k: str(v) for k, v in kwargs.items() if k != "test_items"} | {
        "number": "HT-API",
        "test_items": [CEMENT],
    }
    response = client.post(
        f"/api/v1/projects/{project.pk}/contracts", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["scan_sha256"] == scan.sha256


def test_project_pages(client, tree):
    login_verified(client, tree["gz_supervisor"])
    assert client.get("/projects/new/").status_code == 200
    response = client.post(
        "/projects/new/",
        {"code": "P-WEB", "name": "网页项目", "region_code": "440106", "address": "x", "owner": "业主"},
    )
    assert response.status_code == 302
    project = Project.objects.get(code="P-WEB")
    assert project.parties.get().name == "业主"
    assert (
        client.post(
            "/projects/new/", {"code": "P-W2", "name": "x", "region_code": "999999", "address": "x"}
        ).status_code
        == 400
    )
    assert not Project.objects.filter(code="P-W2").exists()


def test_contract_scan_opens_for_whoever_may_see_the_contract(client, tree):
    """An agency of Shenzhen works on a Guangzhou project: the project's supervisors, its
    station and its owner see the contract, so they open its scan (the file belongs to
    a Shenzhen organisation); another agency does not."""
    agency, admin, _ = approved_agency(tree, 904, region="440300")
    owner = OrganisationFactory(name="业主单位", kind=OrganisationKind.OWNER, level="", region_code="440106")
    owner_viewer = UserFactory(username="owner_scan", organisation=owner, roles=[Role.PROJECT_VIEWER])
    project = project_with(tree, [agency], code="P-SCAN")
    project.parties.create(role="owner", organisation=owner, name=owner.name)
    scan = stored_file(agency.organisation_id, pdf_bytes("contract scan"), name="合同.pdf")
    services.contract_upload(
        actor=admin,
        agency=agency,
        project=project,
        number="HT-SCAN",
        client_name="业主",
        amount="1.00",
        signed_on=datetime.date(2026, 1, 1),
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 12, 31),
        test_items=[CEMENT],
        scan_id=scan.pk,
    )
    for viewer in (tree["gz_supervisor"], tree["gz_inspector"], owner_viewer, admin):
        login_verified(client, viewer)
        page = client.get(f"/projects/{project.pk}/").content.decode()
        assert f"/files/{scan.pk}/" in page, viewer.username
        assert client.get(f"/files/{scan.pk}/").status_code == 200, viewer.username
        client.logout()
    _other, other_admin, _ = approved_agency(tree, 905)
    login_verified(client, other_admin)  # another agency sees neither the contract nor its scan
    assert client.get(f"/files/{scan.pk}/").status_code == 404
