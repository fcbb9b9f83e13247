"""Registry scenario builders for tests, browser tests and benchmarks of any app: agencies
registered, filled and approved through the real services (STYLE.md 12)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.core.identifiers import credit_code_check_char, id_number_check_char
from inspecta.core.testing.factories import PASSWORD
from inspecta.registry import services
from inspecta.registry.models import Agency, Equipment, Site, Staff

CEMENT = "OBJ-SP01-P1"  # 水泥: mandatory 凝结时间, 安定性, 胶砂强度, 氯离子含量
CEMENT_MANDATORY = ["IP-0001", "IP-0002", "IP-0003", "IP-0004"]
MATERIALS = "SP01"  # 建筑材料及构配件


def credit_code(n: int, region: str = "440100") -> str:
    first17 = f"91{region}{n:09d}"
    return first17 + credit_code_check_char(first17)


def id_number(n: int, birth: str = "0101", region: str = "440106") -> str:
    """A valid ID number, distinct for every ``n`` below 70000 (the year carries n // 1000)."""

    first17 = f"{region}{1950 + n // 1000}{birth}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def register(n: int, *, region: str = "440100", name: str | None = None) -> tuple[Agency, User]:
    agency = services.agency_register(
        credit_code=credit_code(n, region[:4] + "00"),
        name=name or f"测试检测机构{n}",
        region_code=region,
        contact_name=f"联系人{n}",
        contact_mobile="13800138000",
        username=f"agency{n}",
        password=PASSWORD,
        email=f"a{n}@example.com",
    )
    admin = User.objects.get(username=f"agency{n}")
    return agency, admin


def fill(agency: Agency, admin: User, *, seed: int = 1) -> dict[str, Any]:
    """Everything a complete, conforming submission holds."""

    today = timezone.localdate()
    services.agency_update(
        actor=admin,
        agency=agency,
        data={
            "founded_on": datetime.date(2005, 3, 1),
            "registered_address": "广州市天河区某路 1 号",
            "office_address": "广州市天河区某路 1 号 2 楼",
            "office_longitude": "113.330000",
            "office_latitude": "23.130000",
            "phone": "020-12345678",
            "postcode": "510000",
            "registered_capital": "1000.00",
            "testing_area": "1200",
        },
    )
    for i, role in enumerate(["legal_representative", "technical_head", "quality_head"]):
        services.head_save(
            actor=admin,
            agency=agency,
            data={
                "role": role,
                "name": f"负责人{seed}{i}",
                "id_number": id_number(seed * 10 + i, region="440104"),
                "mobile": "13912345678",
                "title": "高级工程师",
            },
        )
    site = services.record_save(
        actor=admin, agency=agency, kind="site", data={"name": "总部实验室", "address": "广州市天河区某路 1 号"}
    )
    assert isinstance(site, Site)
    services.qualification_save(
        actor=admin,
        agency=agency,
        data={
            "number": f"粤建检字{seed:04d}",
            "specialties": [MATERIALS],
            "valid_until": today.replace(year=today.year + 3),
        },
    )
    services.record_save(
        actor=admin,
        agency=agency,
        kind="certificate",
        data={"kind": "cma", "number": f"CMA{seed:06d}", "valid_until": today.replace(year=today.year + 2)},
    )
    staff = services.staff_save(
        actor=admin,
        agency=agency,
        data={
            "name": f"检测员{seed}",
            "id_number": id_number(seed * 10 + 5),
            "mobile": "13700001111",
            "title_level": "intermediate",
            "site": site.pk,
        },
    )
    assert isinstance(staff, Staff)
    services.record_save(
        actor=admin,
        agency=agency,
        kind="post_certificate",
        data={
            "staff": staff.pk,
            "number": f"SG{seed:06d}",
            "category": MATERIALS,
            "valid_until": today.replace(year=today.year + 2),
        },
    )
    equipment = services.equipment_save(
        actor=admin,
        agency=agency,
        data={
            "asset_no": f"EQ-{seed}-1",
            "name": "水泥胶砂试验机",
            "site": site.pk,
            "calibrated_on": today - datetime.timedelta(days=30),
            "calibration_valid_until": today + datetime.timedelta(days=300),
            "parameters": CEMENT_MANDATORY,
        },
    )
    services.signatory_save(actor=admin, agency=agency, data={"staff": staff.pk, "scope": [MATERIALS], "site": site.pk})
    services.capability_set(
        actor=admin, agency=agency, site_id=site.pk, test_item=CEMENT, parameters=[*CEMENT_MANDATORY, "IP-0005"]
    )
    return {"site": site, "staff": staff, "equipment": equipment}


def approved(tree: dict[str, Any], n: int, *, region: str = "440100", seed: int | None = None) -> tuple[Agency, User]:
    agency, admin = register(n, region=region)
    fill(agency, admin, seed=seed or n)
    services.agency_submit(actor=admin, agency=agency)
    reviewer = tree["gz_supervisor"] if region.startswith("4401") else tree["sz_supervisor"]
    agency = services.agency_approve(actor=reviewer, agency=agency)
    return agency, admin


def with_expired_calibration(n: int) -> tuple[Agency, User, Equipment]:
    """An agency filled in whose only equipment's calibration expired yesterday (a
    critical conformity finding), not yet submitted."""

    agency, admin = register(n)
    fill(agency, admin, seed=n)
    equipment = Equipment.objects.get(agency=agency)
    services.record_save(
        actor=admin,
        agency=agency,
        kind="equipment",
        pk=equipment.pk,
        data={"calibration_valid_until": timezone.localdate() - datetime.timedelta(days=1)},
    )
    return agency, admin, equipment
