"""Project and contract forms name things, not ids (issue: forms with pickers): the
region, the station, the agencies and the test items are chosen from searchable lists
limited to what the user may choose; required fields are marked."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inspecta.core.testing.access import login_verified
from inspecta.projects.models import Contract, Project
from inspecta.registry.testing import CEMENT, register
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with

pytestmark = pytest.mark.django_db


def _options(html: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


def test_project_form_offers_pickers_in_the_users_reach(client, tree):
    approved, _admin, _made = approved_agency(tree, 791)
    draft, _draft_admin = register(792)
    login_verified(client, tree["gz_supervisor"])
    html = client.get("/projects/new/").content.decode()
    assert "id 须为数字" not in html and "逗号分隔" not in html and "监督站 id" not in html
    regions = _options(html, "region_code")
    assert "440106" in regions and "天河区" in regions["440106"]
    assert not any(code.startswith("4403") for code in regions)  # another city: not offered
    stations = _options(html, "station")
    assert stations.get(str(tree["gz_station"].pk), "").startswith("广州监督站")
    agencies = _options(html, "agencies")
    assert str(approved.pk) in agencies and approved.name in agencies[str(approved.pk)]
    assert str(draft.pk) not in agencies  # only approved agencies
    assert re.search(r'<select name="region_code"[^>]*data-picker=', html)
    assert re.search(r'class="form-label required" for="id_name"', html)  # required marked
    assert 'for="id_owner"' in html and 'class="form-label required" for="id_owner"' not in html

    response = client.post(
        "/projects/new/",
        {
            "code": "PF-1",
            "name": "选取项目",
            "region_code": "440106",
            "address": "天河路1号",
            "station": tree["gz_station"].pk,
            "agencies": [approved.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    project = Project.objects.get(code="PF-1")
    assert project.station_id == tree["gz_station"].pk
    assert project.parties.get(role="agency").agency_id == approved.pk

    refused = client.post(
        "/projects/new/",
        {"code": "PF-2", "name": "x", "region_code": "440106", "address": "x", "agencies": [draft.pk]},
    )
    assert refused.status_code == 400 and not Project.objects.filter(code="PF-2").exists()
    outside = client.post("/projects/new/", {"code": "PF-3", "name": "x", "region_code": "440305", "address": "x"})
    assert outside.status_code == 400 and not Project.objects.filter(code="PF-3").exists()


def test_contract_form_picks_test_items_by_name(client, tree):
    agency, admin, _made = approved_agency(tree, 793)
    project = project_with(tree, [agency], code="PF-C")
    login_verified(client, admin)
    url = f"/projects/{project.pk}/contracts/new/"
    html = client.get(url).content.decode()
    assert "逗号分隔" not in html
    items = _options(html, "test_items")
    assert CEMENT in items and "OBJ" not in items[CEMENT]
    body = {
        "number": "HT-PF",
        "client_name": "业主",
        "amount": "100.00",
        "signed_on": "2026-01-01",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "test_items": [CEMENT],
        "scan": SimpleUploadedFile("c.pdf", pdf_bytes("picked contract")),
    }
    done = client.post(url, body, follow=True)
    assert done.redirect_chain and done.status_code == 200
    assert done.content.decode().count("检测合同已上传并存证。") == 1  # said once, not by page and layout both
    assert list(Contract.objects.get(number="HT-PF").test_items.values_list("pk", flat=True)) == [CEMENT]
    reversed_dates = body | {
        "number": "HT-PF2",
        "valid_until": "2025-12-31",
        "scan": SimpleUploadedFile("c.pdf", pdf_bytes("c2")),
    }
    refused = client.post(url, reversed_dates)
    assert refused.status_code == 400 and "不能早于" in refused.content.decode()
    assert not Contract.objects.filter(number="HT-PF2").exists()
