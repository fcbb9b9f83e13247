"""Registry pages: registration, forms, review, Excel import/export, attachments."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import Workbook, load_workbook

from inspecta.accounts.models import User
from inspecta.core.models import StoredFile
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.core.testing.factories import PASSWORD
from inspecta.registry import services
from inspecta.registry.choices import AgencyStatus
from inspecta.registry.models import Agency, Equipment, Staff
from inspecta.registry.testing import approved, credit_code, fill, id_number, register

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def test_registration_page_creates_agency_and_admin(client, tree):
    assert client.get("/register/").status_code == 200
    data = {
        "name": "广州页面注册检测有限公司",
        "credit_code": credit_code(31),
        "region_code": "440106",
        "contact_name": "王五",
        "contact_mobile": "13800000031",
        "email": "w@example.com",
        "username": "reg31",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    bad = client.post("/register/", {**data, "credit_code": "91440100000000031X"})
    assert bad.status_code == 400 and "GB 32100" in bad.content.decode()
    weak = client.post("/register/", {**data, "password": "abc", "password2": "abc"})
    assert weak.status_code == 400
    assert not Agency.objects.exists() and not User.objects.filter(username="reg31").exists()
    response = client.post("/register/", data)
    agency = Agency.objects.get(credit_code=credit_code(31))
    assert response.status_code == 302 and response["Location"] == f"/registry/{agency.pk}/"
    assert agency.status == AgencyStatus.DRAFT and agency.region_id == "440106"
    page = client.get(response["Location"])
    assert page.status_code == 200 and "审核通过前" in page.content.decode()
    # duplicate credit code
    again = client.post("/register/", {**data, "username": "reg32"})
    assert again.status_code == 400 and Agency.objects.count() == 1


def test_fill_by_pages_then_review(client, tree):
    agency, admin = register(32)
    client.force_login(admin)
    response = client.post(
        f"/registry/{agency.pk}/staff/new/", {"name": "页面员工", "id_number": id_number(320), "title_level": "none"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    bad = client.post(f"/registry/{agency.pk}/staff/new/", {"name": "坏", "id_number": "123", "title_level": "none"})
    assert bad.status_code == 400 and Staff.objects.filter(agency=agency).count() == 1
    response = client.post(
        f"/registry/{agency.pk}/edit/", {"registered_address": "地址", "office_address": "办公", "name": agency.name}
    )
    assert response.status_code == 302
    fill(agency, admin, seed=32)
    assert client.post(f"/registry/{agency.pk}/review/submit/").status_code == 302
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.SUBMITTED
    # submitted: the agency can no longer edit
    locked = client.post(
        f"/registry/{agency.pk}/staff/new/", {"name": "x", "id_number": id_number(321), "title_level": "none"}
    )
    assert locked.status_code == 400
    login_verified(client, tree["sz_supervisor"])
    assert client.post(f"/registry/{agency.pk}/review/approve/").status_code == 404
    assert_gets_nothing(client, [f"/registry/{agency.pk}/", f"/registry/{agency.pk}/history/"], [agency.name])
    login_verified(client, tree["gz_supervisor"])
    listing = client.get("/registry/?status=submitted")
    assert agency.name in listing.content.decode()
    page = client.get(f"/registry/{agency.pk}/")
    assert id_number(320) in client.get(f"/registry/{agency.pk}/staff/").content.decode()  # reviewer: full
    assert page.status_code == 200
    refused = client.post(f"/registry/{agency.pk}/review/return/", {"reason": ""})
    assert refused.status_code == 400 and "请填写退回原因" in refused.content.decode()
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.SUBMITTED  # reason required
    assert client.post(f"/registry/{agency.pk}/review/approve/", {"reason": "材料齐全"}).status_code == 302
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.APPROVED
    # the province: masked 6 + 4
    login_verified(client, tree["gd_admin"])
    html = client.get(f"/registry/{agency.pk}/staff/").content.decode()
    assert id_number(320) not in html and id_number(320)[:6] + "********" + id_number(320)[-4:] in html


def _workbook(rows: list[list[object]], kind: str = "staff") -> SimpleUploadedFile:
    from inspecta.registry.imports import KINDS

    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in KINDS[kind]])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("import.xlsx", buffer.getvalue())


def _staff_row(name: str, id_no: str, **extra: object) -> list[object]:
    row: list[object] = [
        name,
        "男",
        id_no,
        "13800000000",
        "大学本科",
        "土木",
        "工程师",
        "中级",
        "",
        "检测员",
        "2020-01-01",
        5,
        "",
        "SP01",
        "",
        "",
        "",
        "",
    ]
    for index, value in extra.items():
        row[int(index[1:])] = value
    return row


def test_excel_import_one_bad_row_saves_nothing(client, tree):
    agency, admin = register(33)
    client.force_login(admin)
    template = client.get("/registry/import/staff/template.xlsx")
    assert template.status_code == 200
    headers = [c.value for c in load_workbook(io.BytesIO(template.content)).active[1]]
    assert headers[0] == "姓名*" and "身份证号码*" in headers
    rows = [
        _staff_row("甲", id_number(331)),
        _staff_row("乙", "440106198501010000"),
        _staff_row("丙", id_number(333), c1="不详"),
    ]
    response = client.post(f"/registry/{agency.pk}/import/staff/", {"file": _workbook(rows)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<td>3</td><td>身份证号码</td>" in html  # row 3 (the second data row), column named
    assert "<td>4</td><td>性别</td>" in html
    assert not Staff.objects.filter(agency=agency).exists()
    rows = [
        _staff_row("甲", id_number(331), c14="SG331", c15="SP01", c16="2030-01-01"),
        _staff_row("乙", id_number(332)),
    ]
    response = client.post(f"/registry/{agency.pk}/import/staff/", {"file": _workbook(rows)})
    assert response.status_code == 302
    assert Staff.objects.filter(agency=agency).count() == 2
    assert Staff.objects.get(agency=agency, name="甲").post_certificates.get().number == "SG331"
    # duplicate rows in one file, and a non-xlsx file
    rows = [_staff_row("丁", id_number(334)), _staff_row("丁", id_number(334))]
    response = client.post(f"/registry/{agency.pk}/import/staff/", {"file": _workbook(rows)})
    assert response.status_code == 400 and "与第 2 行重复" in response.content.decode()
    response = client.post(f"/registry/{agency.pk}/import/staff/", {"file": SimpleUploadedFile("x.xlsx", b"not excel")})
    assert response.status_code == 400
    assert Staff.objects.filter(agency=agency).count() == 2
    export = client.get(f"/registry/{agency.pk}/export/staff.xlsx")
    assert export.status_code == 200
    values = [c.value for c in load_workbook(io.BytesIO(export.content)).active[2]]
    assert id_number(331) in values or id_number(332) in values


def test_equipment_import(client, tree):
    agency, admin = register(34)
    fill(agency, admin, seed=34)
    client.force_login(admin)
    good = [
        "EQ-NEW",
        "压力试验机",
        "",
        "YAW-3000",
        "",
        "",
        "0-3000kN",
        "1级",
        "计量院",
        12,
        "2025-01-01",
        "2099-01-01",
        "总部实验室",
        "IP-0003、IP-0004",
        "在用",
    ]
    bad = ["EQ-BAD", "万能机", "", "", "", "", "", "", "", "x", "", "", "不存在的场所", "NOPE", "在用"]
    response = client.post(f"/registry/{agency.pk}/import/equipment/", {"file": _workbook([good, bad], "equipment")})
    assert response.status_code == 400
    html = response.content.decode()
    assert "检定/校准周期（月）" in html and "检测场所" in html and "检测参数" in html
    assert not Equipment.objects.filter(agency=agency, asset_no="EQ-NEW").exists()
    response = client.post(f"/registry/{agency.pk}/import/equipment/", {"file": _workbook([good], "equipment")})
    assert response.status_code == 302
    assert set(Equipment.objects.get(agency=agency, asset_no="EQ-NEW").parameters.values_list("code", flat=True)) == {
        "IP-0003",
        "IP-0004",
    }


def test_attachments_sniffed_limited_and_scoped(client, tree):
    agency, admin = register(35)
    _other, other_admin = register(36)
    client.force_login(admin)
    response = client.post(
        f"/registry/{agency.pk}/staff/new/",
        {
            "name": "有照片",
            "id_number": id_number(350),
            "title_level": "none",
            "photo__upload": SimpleUploadedFile("me.png", PNG, content_type="image/png"),
            "social_insurance_proof__upload": SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    staff = Staff.objects.get(agency=agency)
    assert staff.photo.content_type == "image/png" and staff.social_insurance_proof.content_type == "application/pdf"
    import hashlib

    assert staff.social_insurance_proof.sha256 == hashlib.sha256(PDF).hexdigest()
    assert staff.social_insurance_proof.size == len(PDF)
    url = f"/files/{staff.social_insurance_proof_id}/"
    served = client.get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF
    # a text file named .pdf is refused, nothing saved
    response = client.post(
        f"/registry/{agency.pk}/staff/new/",
        {
            "name": "假",
            "id_number": id_number(351),
            "title_level": "none",
            "photo__upload": SimpleUploadedFile("fake.pdf", b"hello world", content_type="application/pdf"),
        },
    )
    assert response.status_code == 400 and "PDF" in response.content.decode()
    assert Staff.objects.filter(agency=agency).count() == 1 and StoredFile.objects.count() == 2
    small = {**settings.INSPECTA_FILE_PURPOSES, "scan": {**settings.INSPECTA_FILE_PURPOSES["scan"], "max_size": 10}}
    with override_settings(INSPECTA_FILE_PURPOSES=small):
        response = client.post(
            f"/registry/{agency.pk}/staff/new/",
            {
                "name": "大",
                "id_number": id_number(352),
                "title_level": "none",
                "photo__upload": SimpleUploadedFile("big.png", PNG, content_type="image/png"),
            },
        )
    assert response.status_code == 400 and StoredFile.objects.count() == 2
    # outsiders: another agency, another city
    client.force_login(other_admin)
    assert_gets_nothing(client, [url])
    login_verified(client, tree["sz_supervisor"])
    assert_gets_nothing(client, [url])
    login_verified(client, tree["gz_supervisor"])
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


def test_findings_on_agency_page_and_authority_list(client, tree):
    agency, admin = approved(tree, 37)
    equipment = Equipment.objects.get(agency=agency)

    services.equipment_remove(actor=admin, agency=agency, pk=equipment.pk)
    login_verified(client, tree["gz_supervisor"])
    html = client.get("/registry/findings/").content.decode()
    assert agency.name in html and "必备参数无有效检定/校准的设备" in html
    assert "必备参数无有效检定/校准的设备" in client.get(f"/registry/{agency.pk}/").content.decode()
    assert agency.name in client.get("/registry/?findings=on").content.decode()
    login_verified(client, tree["sz_supervisor"])
    assert agency.name not in client.get("/registry/findings/").content.decode()


def test_key_fact_change_request_through_pages(client, tree):
    agency, admin = approved(tree, 38)
    client.force_login(admin)
    from inspecta.registry.models import AgencyHead, ChangeRequest

    head = AgencyHead.objects.get(agency=agency, role="quality_head")
    response = client.post(
        f"/registry/{agency.pk}/head/{head.pk}/edit/",
        {"role": "quality_head", "name": "新质量负责人", "id_number": id_number(380)},
    )
    assert response.status_code == 302
    change = ChangeRequest.objects.get(agency=agency)
    assert AgencyHead.objects.get(pk=head.pk).name != "新质量负责人"
    login_verified(client, tree["sz_supervisor"])
    assert client.post(f"/registry/changes/{change.pk}/approve/").status_code == 404
    login_verified(client, tree["gz_supervisor"])
    assert client.post(f"/registry/changes/{change.pk}/approve/").status_code == 302
    assert AgencyHead.objects.get(pk=head.pk).name == "新质量负责人"
    assert agency.versions.count() == 2


def test_capabilities_page_and_history(client, tree):
    from inspecta.registry.models import Site, SiteCapability

    agency, admin = register(39)
    fill(agency, admin, seed=39)
    site = Site.objects.get(agency=agency)
    client.force_login(admin)
    url = f"/registry/{agency.pk}/sites/{site.pk}/capabilities/"
    page = client.get(url + "?test_item=OBJ-SP01-P2")
    assert page.status_code == 200 and "必备" in page.content.decode()
    response = client.post(url, {"test_item": "OBJ-SP01-P2", "parameters": ["IP-0086", "IP-0087"]})
    assert response.status_code == 302
    assert SiteCapability.objects.filter(site=site, item_parameter__test_item="OBJ-SP01-P2").count() == 2
    bad = client.post(url, {"test_item": "OBJ-SP01-P2", "parameters": ["IP-0001"]})
    assert bad.status_code == 400
    assert SiteCapability.objects.filter(site=site, item_parameter__test_item="OBJ-SP01-P2").count() == 2
    history = client.get(f"/registry/{agency.pk}/history/")
    assert history.status_code == 200 and "agency39" in history.content.decode()
    staff = Staff.objects.get(agency=agency)
    history = client.get(f"/registry/{agency.pk}/staff/{staff.pk}/history/")
    assert history.status_code == 200 and staff.name in history.content.decode()
    login_verified(client, tree["gd_admin"])  # sees the agency, masked: not the raw history
    assert client.get(f"/registry/{agency.pk}/staff/{staff.pk}/history/").status_code == 403
    assert client.get(f"/registry/{agency.pk}/history/").status_code == 403
    login_verified(client, tree["gz_supervisor"])
    assert client.get(f"/registry/{agency.pk}/history/").status_code == 200
    login_verified(client, tree["sz_supervisor"])
    assert client.get(url).status_code == 404


def test_import_rows_updates_by_id_number_and_checks_certificates(tree):
    from inspecta.registry.imports import RowError, import_rows

    agency, admin = register(36)
    first = import_rows(actor=admin, agency=agency, kind="staff", upload=_workbook([_staff_row("甲", id_number(361))]))
    assert (first.created, first.updated, first.errors) == (1, 0, [])
    partial = import_rows(
        actor=admin,
        agency=agency,
        kind="staff",
        upload=_workbook([_staff_row("甲", id_number(361), c14="SG361"), _staff_row("乙", id_number(362))]),
    )
    assert [(e.row, e.column) for e in partial.errors] == [(2, "上岗证检测类别"), (2, "上岗证有效期至")]
    assert partial.created == partial.updated == 0 and Staff.objects.filter(agency=agency).count() == 1
    rows = [
        _staff_row("甲改", id_number(361).lower(), c14="SG361", c15="SP01", c16="2030-01-01"),
        _staff_row("乙", id_number(362)),
    ]
    second = import_rows(actor=admin, agency=agency, kind="staff", upload=_workbook(rows))
    assert (second.created, second.updated, second.errors) == (1, 1, [])
    updated = Staff.objects.get(agency=agency, id_number=id_number(361).upper())
    assert updated.name == "甲改" and updated.post_certificates.get().number == "SG361"
    empty = import_rows(actor=admin, agency=agency, kind="staff", upload=_workbook([]))
    assert empty.errors == [RowError(0, "", "文件中没有数据行。")]


def test_refused_review_actions_re_render_the_agency_page_with_400_and_change_nothing(client, tree):
    from inspecta.registry.models import AgencyReview

    agency, admin = register(40)
    client.force_login(admin)
    refused = client.post(f"/registry/{agency.pk}/review/submit/")
    assert refused.status_code == 400 and 'data-testid="review-error"' in refused.content.decode()
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.DRAFT
    fill(agency, admin, seed=40)
    assert client.post(f"/registry/{agency.pk}/review/approve/", {"reason": "自己审核"}).status_code == 403
    assert client.post(f"/registry/{agency.pk}/review/submit/").status_code == 302
    again = client.post(f"/registry/{agency.pk}/review/submit/")
    assert again.status_code == 400 and "当前状态不能提交审核" in again.content.decode()
    login_verified(client, tree["gz_supervisor"])
    reviews = AgencyReview.objects.filter(agency=agency).count()
    page = client.post(f"/registry/{agency.pk}/review/return/", {"reason": "  "})
    html = page.content.decode()
    assert page.status_code == 400 and "请填写退回原因" in html and 'data-testid="return"' in html
    page = client.post(f"/registry/{agency.pk}/review/approve/", {"reason": "长" * 2001})
    assert page.status_code == 400 and "2000" in page.content.decode()
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.SUBMITTED
    assert AgencyReview.objects.filter(agency=agency).count() == reviews
    page = client.post(f"/registry/{agency.pk}/review/return/", {"reason": "材料不全"})
    assert page.status_code == 302 and Agency.objects.get(pk=agency.pk).status == AgencyStatus.RETURNED
    assert client.post(f"/registry/{agency.pk}/review/publish/").status_code == 404


def test_refused_change_review_re_renders_with_400_and_keeps_the_request_pending(client, tree):
    from inspecta.registry.choices import ChangeRequestStatus
    from inspecta.registry.models import AgencyHead, ChangeRequest

    agency, admin = approved(tree, 41)
    client.force_login(admin)
    head = AgencyHead.objects.get(agency=agency, role="quality_head")
    client.post(
        f"/registry/{agency.pk}/head/{head.pk}/edit/",
        {"role": "quality_head", "name": "新质量负责人", "id_number": id_number(410)},
    )
    change = ChangeRequest.objects.get(agency=agency)
    assert client.post(f"/registry/changes/{change.pk}/approve/").status_code == 403
    login_verified(client, tree["gz_supervisor"])
    page = client.post(f"/registry/changes/{change.pk}/return/", {"reason": ""})
    assert page.status_code == 400 and "请填写退回原因" in page.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeRequestStatus.PENDING and agency.versions.count() == 1
    assert client.post(f"/registry/changes/{change.pk}/return/", {"reason": "证书不符"}).status_code == 302
    page = client.post(f"/registry/changes/{change.pk}/approve/")
    assert page.status_code == 400 and "该变更申请已处理" in page.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeRequestStatus.REJECTED
    assert AgencyHead.objects.get(pk=head.pk).name != "新质量负责人" and agency.versions.count() == 1


def test_refused_row_delete_re_renders_the_section_with_400(client, tree):
    agency, admin = register(42)
    fill(agency, admin, seed=42)
    client.force_login(admin)
    staff = Staff.objects.filter(agency=agency).first()
    assert staff is not None
    page = client.post(f"/registry/{agency.pk}/staff/999999/delete/")
    assert page.status_code == 400 and "记录不存在" in page.content.decode()
    assert client.post(f"/registry/{agency.pk}/review/submit/").status_code == 302
    page = client.post(f"/registry/{agency.pk}/staff/{staff.pk}/delete/")
    assert page.status_code == 400 and "正在审核中" in page.content.decode()
    assert Staff.objects.get(pk=staff.pk).active


def test_approving_with_critical_findings_asks_for_a_confirmation_on_the_page(client, tree):
    from inspecta.registry.testing import with_expired_calibration

    agency, admin, equipment = with_expired_calibration(43)
    client.force_login(admin)
    assert client.post(f"/registry/{agency.pk}/review/submit/").status_code == 302
    login_verified(client, tree["gz_supervisor"])
    page = client.get(f"/registry/{agency.pk}/").content.decode()
    assert 'data-testid="critical-findings"' in page and equipment.name in page
    refused = client.post(f"/registry/{agency.pk}/review/approve/", {"reason": "同意"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "严重不符合项" in html and equipment.name in html
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.SUBMITTED
    done = client.post(f"/registry/{agency.pk}/review/approve/", {"reason": "同意", "confirm": "on"})
    assert done.status_code == 302 and Agency.objects.get(pk=agency.pk).status == AgencyStatus.APPROVED


def test_renaming_an_approved_agency_on_the_page_is_a_change_request(client, tree):
    from inspecta.registry.models import ChangeRequest

    agency, admin = approved(tree, 44)
    client.force_login(admin)
    form = client.get(f"/registry/{agency.pk}/edit/").context["form"]
    data = {
        k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields and k != "business_licence"
    }
    data.update(name="改名检测机构", phone="020-22223333")
    response = client.post(f"/registry/{agency.pk}/edit/", data, follow=True)
    assert response.status_code == 200 and "审核通过后生效" in response.content.decode()
    agency.refresh_from_db()
    assert agency.name != "改名检测机构" and agency.phone == "020-22223333"
    change = ChangeRequest.objects.get(agency=agency)
    assert change.operation == "basic" and "改名检测机构" in change.summary


def test_region_filter_offers_only_the_users_own_area(client, tree):
    """A city supervisor filters agencies by the districts of the city, not of the province."""
    import re

    login_verified(client, tree["sz_supervisor"])
    options = set(re.findall(r'<option value="(\d{6})"', client.get("/registry/").content.decode()))
    assert options and all(code.startswith("4403") for code in options), sorted(options)
    client.logout()
    login_verified(client, tree["gd_admin"])
    options = set(re.findall(r'<option value="(\d{6})"', client.get("/registry/").content.decode()))
    assert {"440106", "440305"} <= options
