"""Demo agencies for ``make run``; idempotent: a second run adds nothing.

Three approved agencies (two in 广州 440100, one in 深圳 440300) with heads, sites,
staff with post certificates, calibrated equipment, capabilities from the catalog,
signatories, qualification and CMA certificates; one of the 广州 agencies has a
testing machine whose calibration expired (and one expiring soon), so it shows
conformity findings. A fourth agency in 深圳 is submitted and waits for review.

Run after ``inspecta.core.demo.demo_load`` (the reviewers ``gz_supervisor`` and
``sz_supervisor`` approve); without them the agencies stay submitted.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.core.choices import ParameterLevel
from inspecta.core.identifiers import credit_code_check_char, id_number_check_char
from inspecta.core.models import TestItemParameter

from . import services
from .choices import AgencyStatus
from .models import Agency

if TYPE_CHECKING:
    from inspecta.core.demo import DemoLogin

DEMO_PASSWORD = "Inspecta#2026"  # noqa: S105 - printed demo login, accounts flagged is_demo


@dataclass(frozen=True)
class DemoAgency:
    key: str
    name: str
    region: str
    username: str
    contact: str
    items: tuple[str, ...]
    reviewer: str
    address: str
    expired_equipment: bool = False
    approve: bool = True
    people: tuple[str, ...] = field(default=())
    # a change of registered capital after approval, left waiting for the reviewer
    capital_change: str = ""


AGENCIES = [
    DemoAgency(
        "gz1",
        "广州建科工程检测技术有限公司",
        "440106",
        "gz_agency",
        "广州建科 林晓",
        ("OBJ-SP01-P1", "OBJ-SP01-P2"),
        "gz_supervisor",
        "广州市天河区天河北路 101 号",
        people=("林晓", "何敏", "梁志强"),
    ),
    DemoAgency(
        "gz2",
        "广州穗安建设工程质量检测有限公司",
        "440104",
        "gz_agency2",
        "穗安检测 罗兰",
        ("OBJ-SP01-P1",),
        "gz_supervisor",
        "广州市越秀区东风中路 88 号",
        expired_equipment=True,
        people=("罗兰", "冯涛"),
        capital_change="3000.00",
    ),
    DemoAgency(
        "sz1",
        "深圳鹏城建设工程检测有限公司",
        "440305",
        "sz_agency",
        "鹏城检测 邓颖",
        ("OBJ-SP01-P1", "OBJ-SP02-P1"),
        "sz_supervisor",
        "深圳市南山区科技南路 18 号",
        people=("邓颖", "曾伟", "许杰"),
    ),
    DemoAgency(
        "sz2",
        "深圳前海工程质量检测中心有限公司",
        "440305",
        "sz_agency2",
        "前海检测 蔡琳",
        ("OBJ-SP01-P1",),
        "sz_supervisor",
        "深圳市南山区前海大道 6 号",
        approve=False,
        people=("蔡琳",),
    ),
]


def _credit_code(index: int, region: str) -> str:
    first17 = f"91{region[:4]}00MA5D{index:05d}"
    return first17 + credit_code_check_char(first17)


def _id_number(index: int, region: str) -> str:
    first17 = f"{region}1980{(index % 12) + 1:02d}{(index % 27) + 1:02d}{index % 1000:03d}"
    return first17 + id_number_check_char(first17)


def _load_one(index: int, spec: DemoAgency) -> Agency:
    """One demo agency, filled in by its admin step by step as through the pages, then
    submitted and (``spec.approve``) approved by its reviewer."""

    today = timezone.localdate()
    agency, admin = _register(index, spec)
    _profile(admin, agency, index, spec)
    _heads(admin, agency, index, spec)
    site = services.record_save(
        actor=admin, agency=agency, kind="site", data={"name": "主检测场所", "address": spec.address}
    )
    links = list(
        TestItemParameter.objects.filter(test_item_id__in=spec.items).select_related("test_item").order_by("pk")
    )
    specialties = sorted({link.test_item.specialty_id for link in links})
    _certificates(admin, agency, index, specialties, today)
    staff_ids = _staff(admin, agency, index, spec, site.pk, specialties, today)
    for item in spec.items:
        _equipment_and_capability(admin, agency, index, spec, site.pk, item, links, today)
    services.signatory_save(
        actor=admin,
        agency=agency,
        data={"staff": staff_ids[0], "position": "技术负责人", "scope": specialties, "site": site.pk},
    )
    return _submit_and_review(admin, agency, spec)


def _register(index: int, spec: DemoAgency) -> tuple[Agency, User]:
    """The agency's registration with its admin account (flagged ``is_demo``)."""

    agency = services.agency_register(
        credit_code=_credit_code(index, spec.region),
        name=spec.name,
        region_code=spec.region,
        contact_name=spec.contact,
        contact_mobile=f"1380013{index:04d}",
        username=spec.username,
        password=DEMO_PASSWORD,
        email=f"{spec.username}@example.com",
    )
    admin = User.objects.get(username=spec.username)
    User.objects.filter(pk=admin.pk).update(is_demo=True)
    return agency, admin


def _profile(admin: User, agency: Agency, index: int, spec: DemoAgency) -> None:
    """The agency's basic facts: founding, addresses, registration, staff counts."""

    services.agency_update(
        actor=admin,
        agency=agency,
        data={
            "founded_on": datetime.date(2003 + index, 5, 18),
            "registered_address": spec.address,
            "office_address": spec.address,
            "phone": f"020-8{index:03d}0000" if spec.region.startswith("4401") else f"0755-8{index:03d}0000",
            "postcode": "510000" if spec.region.startswith("4401") else "518000",
            "registration_authority": "市场监督管理局",
            "registered_capital": "2000.00",
            "registration_type": "有限责任公司",
            "social_insurance_count": 40 + index,
            "technical_staff_count": 30 + index,
            "intermediate_title_count": 12,
            "senior_title_count": 5,
            "equipment_count": 80,
            "testing_area": "1500.00",
        },
    )


def _heads(admin: User, agency: Agency, index: int, spec: DemoAgency) -> None:
    """The legal representative, technical head and quality head."""

    for offset, role in enumerate(["legal_representative", "technical_head", "quality_head"]):
        services.head_save(
            actor=admin,
            agency=agency,
            data={
                "role": role,
                "name": spec.people[offset % len(spec.people)] if offset < len(spec.people) else f"负责人{offset}",
                "id_number": _id_number(index * 100 + offset, spec.region),
                "mobile": f"1390000{index:02d}{offset:02d}",
                "title": "高级工程师",
                "education": "bachelor",
            },
        )


def _certificates(admin: User, agency: Agency, index: int, specialties: list[str], today: datetime.date) -> None:
    """The qualification certificate for ``specialties`` and the CMA certificate."""

    services.qualification_save(
        actor=admin,
        agency=agency,
        data={
            "number": f"粤建检字第{index:04d}号",
            "grade": "专项资质",
            "specialties": specialties,
            "issuer": "广东省住房和城乡建设厅",
            "valid_until": today.replace(year=today.year + 4),
        },
    )
    services.record_save(
        actor=admin,
        agency=agency,
        kind="certificate",
        data={"kind": "cma", "number": f"2019190{index:05d}", "valid_until": today.replace(year=today.year + 3)},
    )


def _staff(
    admin: User,
    agency: Agency,
    index: int,
    spec: DemoAgency,
    site_id: int,
    specialties: list[str],
    today: datetime.date,
) -> list[int]:
    """``spec.people`` as staff at the site, each with a post certificate per specialty;
    returns their ids."""

    staff_ids = []
    for offset, person in enumerate(spec.people):
        staff = services.staff_save(
            actor=admin,
            agency=agency,
            data={
                "name": person,
                "gender": "female" if offset % 2 else "male",
                "id_number": _id_number(index * 100 + 10 + offset, spec.region),
                "mobile": f"1370000{index:02d}{offset:02d}",
                "education": "bachelor",
                "title": "工程师",
                "title_level": "intermediate",
                "post": "检测员",
                "site": site_id,
                "specialties": specialties,
            },
        )
        staff_ids.append(staff.pk)
        for specialty in specialties:
            services.record_save(
                actor=admin,
                agency=agency,
                kind="post_certificate",
                data={
                    "staff": staff.pk,
                    "number": f"GDJC{index:02d}{offset:02d}{specialty}",
                    "category": specialty,
                    "level": "中级",
                    "issuer": "广东省建设工程质量安全检测和鉴定协会",
                    "valid_until": today.replace(year=today.year + 2),
                },
            )
    return staff_ids


def _equipment_and_capability(
    admin: User,
    agency: Agency,
    index: int,
    spec: DemoAgency,
    site_id: int,
    item: str,
    links: list[TestItemParameter],
    today: datetime.date,
) -> None:
    """A testing machine for ``item`` (its calibration expired on the first item of an
    agency with ``expired_equipment``, which also gets a balance expiring soon), and the
    site's capability: the mandatory parameters and two optional ones."""

    mandatory = [
        link.parameter_id for link in links if link.test_item_id == item and link.level == ParameterLevel.MANDATORY
    ]
    optional = [
        link.parameter_id for link in links if link.test_item_id == item and link.level == ParameterLevel.OPTIONAL
    ]
    expired = spec.expired_equipment and item == spec.items[0]
    services.equipment_save(
        actor=admin,
        agency=agency,
        data={
            "asset_no": f"SB-{index:02d}-{item[4:]}",
            "name": "万能材料试验机" if item.endswith("P2") else "全自动压力试验机",
            "equipment_type": "力学",
            "model": "WAW-1000" if item.endswith("P2") else "YAW-3000",
            "manufacturer": "某试验机厂",
            "measuring_range": "0-1000kN",
            "accuracy": "1 级",
            "calibration_body": "广东省计量科学研究院",
            "calibration_interval_months": 12,
            "calibrated_on": today - datetime.timedelta(days=400 if expired else 60),
            "calibration_valid_until": today - datetime.timedelta(days=35 if expired else -300),
            "site": site_id,
            "test_items": [item],
            "parameters": mandatory + optional,
        },
    )
    if spec.expired_equipment:
        services.equipment_save(
            actor=admin,
            agency=agency,
            data={
                "asset_no": f"SB-{index:02d}-{item[4:]}-T",
                "name": "电子天平",
                "calibrated_on": today - datetime.timedelta(days=345),
                "calibration_valid_until": today + datetime.timedelta(days=20),
                "site": site_id,
                "test_items": [item],
            },
        )
    services.capability_set(
        actor=admin, agency=agency, site_id=site_id, test_item=item, parameters=mandatory + optional[:2]
    )


def _submit_and_review(admin: User, agency: Agency, spec: DemoAgency) -> Agency:
    """The admin submits the registration; the reviewer approves it unless the agency
    is the one left waiting (``spec.approve``), or when the reviewer is missing."""

    agency = services.agency_submit(actor=admin, agency=agency)
    reviewer = User.objects.filter(username=spec.reviewer, is_active=True).first()
    if spec.approve and reviewer is not None:
        agency = services.agency_approve(
            actor=reviewer, agency=agency, reason="材料齐全，同意登记", confirm_findings=True
        )
    return agency


def _capital_change(spec: DemoAgency, agency: Agency) -> None:
    """A key fact changed after approval: a change request waiting for the reviewer
    (Guangdong 附件2 一(二)), so the reviewer's home has something to act on."""

    admin = User.objects.get(username=spec.username)
    if agency.status == AgencyStatus.APPROVED:
        services.agency_update(actor=admin, agency=agency, data={"registered_capital": spec.capital_change})


@transaction.atomic
def registry_demo_load() -> tuple[int, list[DemoLogin]]:
    """Create the demo agencies that are missing; returns how many were added and the
    agency admins' logins (password ``Inspecta#2026``, no second factor)."""

    from inspecta.core.demo import DemoLogin

    added = 0
    logins: list[DemoLogin] = []
    for index, spec in enumerate(AGENCIES, start=1):
        agency: Any = Agency.objects.filter(credit_code=_credit_code(index, spec.region)).first()
        if agency is None:
            agency = _load_one(index, spec)
            added += 1
            if spec.capital_change:
                _capital_change(spec, agency)
        logins.append(DemoLogin(spec.username, spec.contact, agency.name, "检测机构管理员", False))
    return added, logins


def registry_demo_summary() -> dict[str, int]:
    return {status: Agency.objects.filter(status=status).count() for status in AgencyStatus.values}
