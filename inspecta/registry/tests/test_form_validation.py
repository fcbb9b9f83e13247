"""Validation that refuses what cannot be true, with a plain message, on every path
(service, page, API): postcode, telephone numbers, a founding date in the future, a
certificate that expires before it is issued, a reversed date range on a filter; and
the equipment form's parameters picked by test item."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inspecta.core.identifiers import validate_phone
from inspecta.core.testing.access import login_verified
from inspecta.registry import services
from inspecta.registry.models import Agency, Equipment, PostCertificate
from inspecta.registry.testing import CEMENT, MATERIALS, id_number, register
from inspecta.reports.testing import approved_agency

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "number", ["13800138000", "020-87654321", "(0755)1234567", "0755-12345678-801", "400-123-4567"]
)
def test_real_phone_numbers_pass(number):
    validate_phone(number)


@pytest.mark.parametrize("number", ["1", "12345", "abc", "1380013800", "020-123"])
def test_impossible_phone_numbers_are_refused(number):
    with pytest.raises(ValidationError) as caught:
        validate_phone(number)
    assert "电话号码" in caught.value.messages[0]


def test_agency_basic_facts_are_refused_together(tree):
    agency, admin = register(801)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        services.agency_update(
            actor=admin,
            agency=agency,
            data={"postcode": "51000", "phone": "12345", "fax": "x", "founded_on": tomorrow},
        )
    errors = caught.value.message_dict
    assert set(errors) >= {"postcode", "phone", "fax", "founded_on"}  # all at once
    assert "6 位数字" in errors["postcode"][0] and "晚于今天" in errors["founded_on"][0]
    fresh = Agency.objects.get(pk=agency.pk)
    assert fresh.postcode == "" and fresh.founded_on is None  # nothing changed
    services.agency_update(
        actor=admin, agency=agency, data={"postcode": "510000", "phone": "020-87654321", "fax": "(020)87654322"}
    )
    assert Agency.objects.get(pk=agency.pk).postcode == "510000"


def test_agency_edit_page_shows_every_error_in_plain_chinese(client, tree):
    agency, admin = register(802)
    login_verified(client, admin)
    page = client.post(f"/registry/{agency.pk}/edit/", {"name": agency.name, "postcode": "5100", "phone": "1"})
    html = page.content.decode()
    assert page.status_code == 400
    assert "邮政编码须为 6 位数字" in html and "电话号码格式不正确" in html
    assert "确保该变量" not in html


def test_a_certificate_cannot_expire_before_it_is_issued(tree):
    agency, admin = register(803)
    staff = services.staff_save(actor=admin, agency=agency, data={"name": "甲", "id_number": id_number(803)})
    with pytest.raises(ValidationError) as caught:
        services.record_save(
            actor=admin,
            agency=agency,
            kind="post_certificate",
            data={
                "staff": staff.pk,
                "number": "SG-REV",
                "category": MATERIALS,
                "issued_on": datetime.date(2025, 6, 1),
                "valid_until": datetime.date(2025, 5, 1),
            },
        )
    assert "不能早于发证日期" in caught.value.message_dict["valid_until"][0]
    assert not PostCertificate.objects.filter(number="SG-REV").exists()
    with pytest.raises(ValidationError) as caught:
        services.record_save(
            actor=admin,
            agency=agency,
            kind="certificate",
            data={
                "kind": "cma",
                "number": "CMA-REV",
                "issued_on": datetime.date(2025, 6, 1),
                "valid_until": datetime.date(2024, 1, 1),
            },
        )
    assert "valid_until" in caught.value.message_dict


def test_a_reversed_date_range_on_a_filter_is_refused(client, tree):
    login_verified(client, tree["gz_supervisor"])
    query = {"date_from": "2026-03-01", "date_to": "2026-01-31"}
    page = client.get("/reports/", query)
    assert page.status_code == 400
    assert "报告日期至不能早于报告日期自" in page.content.decode()
    api = client.get("/api/v1/reports/", query)
    assert api.status_code == 422 and "报告日期至不能早于报告日期自" in api.json()["error"]["message"]
    assert client.get("/reports/", {"date_from": "2026-01-01", "date_to": "2026-01-31"}).status_code == 200


def test_equipment_parameters_are_picked_by_test_item(client, tree):
    agency, admin, _made = approved_agency(tree, 804)
    login_verified(client, admin)
    html = client.get(f"/registry/{agency.pk}/equipment/new/").content.decode()
    select = re.search(r'<select name="parameters"[^>]*>(.*?)</select>', html, re.S)
    assert select and 'data-picker-follow="id_test_items"' in html
    option = re.search(r'<option value="IP-0001"([^>]*)>([^<]*)</option>', select.group(1))
    assert option and CEMENT in option.group(1).split('data-group="')[1]
    assert "（" in option.group(2) and "水泥" in option.group(2)  # labelled with its item
    refused = client.post(
        f"/registry/{agency.pk}/equipment/new/",
        {
            "asset_no": "EQ-PICK",
            "name": "仪器",
            "calibration_kind": "verification",
            "status": "in_use",
            "test_items": [CEMENT],
            "parameters": ["IP-0001", _foreign_parameter()],
        },
    )
    assert refused.status_code == 400 and "不属于所选检测项目" in refused.content.decode()
    assert not Equipment.objects.filter(asset_no="EQ-PICK").exists()


def test_the_api_refuses_a_parameter_outside_the_equipments_items_as_the_page_does(client, tree):
    """The rule lives in the service, so every path (page, API, LIMS) keeps it."""

    import json

    agency, admin, _made = approved_agency(tree, 806)
    login_verified(client, admin)
    url = f"/api/v1/registry/agencies/{agency.pk}/equipment"
    body = {
        "asset_no": "EQ-API",
        "name": "仪器",
        "calibration_kind": "verification",
        "status": "in_use",
        "test_items": [CEMENT],
        "parameters": ["IP-0001", _foreign_parameter()],
    }
    refused = client.post(url, json.dumps(body), content_type="application/json")
    assert refused.status_code == 400, refused.content
    assert "不属于所选检测项目" in json.dumps(refused.json(), ensure_ascii=False)
    assert not Equipment.objects.filter(asset_no="EQ-API").exists()
    body["parameters"] = ["IP-0001"]
    assert client.post(url, json.dumps(body), content_type="application/json").status_code == 201
    saved = Equipment.objects.get(asset_no="EQ-API")
    assert list(saved.parameters.values_list("pk", flat=True)) == ["IP-0001"]


def _foreign_parameter() -> str:
    from inspecta.core.models import TestItemParameter

    inside = set(TestItemParameter.objects.filter(test_item=CEMENT).values_list("parameter_id", flat=True))
    return str(
        TestItemParameter.objects.exclude(parameter_id__in=inside).values_list("parameter_id", flat=True).first()
    )


def test_registration_shows_every_error_at_once_in_plain_chinese(client, tree):
    register(805)  # takes the user name agency805
    page = client.post(
        "/register/",
        {
            "name": "新机构",
            "credit_code": "91440101",
            "region_code": "440106",
            "contact_name": "张三",
            "contact_mobile": "12",
            "username": "agency805",
            "password": "abc",
            "password2": "abc",
        },
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "确保该变量" not in html and "确保该值" not in html  # no Django wording
    assert "至少需要 18 个字符" in html  # the credit code, in plain words
    assert "该用户名已被使用" in html  # …together with the user name…
    assert 'data-field="password"' in html or "密码" in html
    errors = re.findall(r'class="invalid-feedback d-block">([^<]+)<', html)
    assert len(errors) >= 4, errors  # credit code, mobile, user name, password: one round
