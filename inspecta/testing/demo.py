"""Demo test data: the cement sample received on the first demo project (天河区某安置房项目)
gets its test record from 广州建科 (uploaded by ``gz_agency``, with a photo of the
specimens) and the compression machine's six curves, then a revision that corrects a
mistyped raw value with its reason: the record page shows the values beside the curves,
the equipment, the tester and the change trail. Built
through the services. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.core.demo import DemoLogin
from inspecta.core.files import file_store
from inspecta.core.imaging import picture_bytes
from inspecta.registry.choices import EquipmentStatus
from inspecta.registry.models import Equipment, PostCertificate
from inspecta.sampling.choices import SampleStatus
from inspecta.sampling.models import Sample

from . import services
from .models import TestRecord

__all__ = ["NUMBER", "demo_parameters", "testing_demo"]

PROJECT = "DEMO-GZ-001"
"""The first demo project (``sampling.demo``'s)."""
ITEM = "OBJ-SP01-P1"
"""Cement, the item of its received sample."""
NUMBER = "JK-SN-0001"
"""The demo record's number in 广州建科's LIMS."""


def demo_parameters(strength: list[str]) -> list[dict[str, Any]]:
    """The four mandatory parameters of cement (凝结时间, 安定性, 胶砂强度, 氯离子含量)
    with ``strength`` as the six 28-day compressive strengths."""

    mean = sum(float(v) for v in strength) / len(strength)
    return [
        {
            "parameter": "IP-0001",
            "unit": "min",
            "values": ["165", "220"],
            "result": "初凝 165 / 终凝 220",
            "limit": "初凝 ≥45，终凝 ≤600",
            "judgement": "qualified",
            "source": "instrument",
        },
        {
            "parameter": "IP-0002",
            "unit": "mm",
            "values": ["1.0", "1.5"],
            "result": "1.3",
            "limit": "雷氏法 ≤5.0",
            "judgement": "qualified",
            "source": "manual",
        },
        {
            "parameter": "IP-0003",
            "unit": "MPa",
            "values": strength,
            "result": f"{mean:.1f}",
            "limit": "≥42.5",
            "judgement": "qualified",
            "source": "instrument",
        },
        {
            "parameter": "IP-0004",
            "unit": "%",
            "values": ["0.021"],
            "result": "0.021",
            "limit": "≤0.06",
            "judgement": "qualified",
            "source": "manual",
        },
    ]


def _readings(admin: User, agency: Any, asset_no: str, at: datetime.datetime) -> None:
    """The compression machine's curves of the six mortar prisms' 28-day strength: the
    force rises to its peak and falls as the prism breaks (1,000 points at 20 ms)."""

    from .instruments import instrument_ingest

    items = []
    for specimen, peak in enumerate((77.1, 76.6, 78.6, 77.8, 76.0, 78.1), start=1):
        force = [
            round(peak * min(1.0, i / 800) ** 1.6 * (1 if i <= 800 else max(0.0, 1 - (i - 800) / 120)), 2)
            for i in range(1000)
        ]
        items.append(
            {
                "source_id": f"YAW-{NUMBER}-{specimen}",
                "record_number": NUMBER,
                "equipment": asset_no,
                "parameter": "IP-0003",
                "specimen": specimen,
                "collected_at": at + datetime.timedelta(milliseconds=100 * specimen),
                "value": f"{peak}",
                "unit": "kN",
                "curve": {"y": force, "dt": 0.02, "x_unit": "s", "y_unit": "kN"},
            }
        )
    instrument_ingest(actor=admin, agency=agency, items=items)


def testing_demo() -> tuple[int, list[DemoLogin]]:
    """``inspecta demo``'s loader (``TestingConfig.demo_loader``)."""

    sample = (
        Sample.objects.filter(project__code=PROJECT, test_item_id=ITEM, status=SampleStatus.RECEIVED)
        .select_related("agency", "receipt")
        .order_by("pk")
        .first()
    )
    admin = User.objects.filter(username="gz_agency").first()
    if sample is None or admin is None or TestRecord.objects.filter(agency=sample.agency, number=NUMBER).exists():
        return 0, []
    agency = sample.agency
    today = timezone.localdate()
    tester = (
        PostCertificate.objects.filter(
            agency=agency, category_id=sample.test_item.specialty_id, valid_until__gte=today, staff__active=True
        )
        .select_related("staff")
        .order_by("staff_id")
        .first()
    )
    equipment = (
        Equipment.objects.filter(
            agency=agency,
            test_items=sample.test_item,
            status=EquipmentStatus.IN_USE,
            calibration_valid_until__gte=today,
        )
        .filter(Q(calibrated_on__isnull=True) | Q(calibrated_on__lte=today))
        .order_by("asset_no")
        .first()
    )
    if tester is None or equipment is None:
        return 0, []
    photo = file_store(
        picture_bytes(7501, fmt="JPEG"),
        organisation_id=agency.organisation_id,
        purpose="photo",
        name="试块破型.jpg",
        actor=admin,
    )
    started = sample.receipt.received_at + datetime.timedelta(seconds=1)
    record = services.test_record_upload(
        actor=admin,
        agency=agency,
        number=NUMBER,
        kind="lab",
        sample=sample.code,
        test_item=sample.test_item_id,
        site_id=equipment.site_id,
        tester_id=tester.staff_id,
        equipment=[equipment.asset_no],
        started_at=started,
        ended_at=max(started, timezone.now()),
        temperature_c=Decimal("20.0"),
        humidity_pct=Decimal("95.0"),
        standard="GB 175-2023《通用硅酸盐水泥》；GB/T 17671-2021《水泥胶砂强度检验方法（ISO 法）》",
        parameters=demo_parameters(["48.2", "47.9", "4.91", "48.6", "47.5", "48.8"]),
        conclusion="qualified",
        files=[{"id": photo.pk, "kind": "image", "caption": "28 天抗压破型"}],
    )
    _readings(admin, agency, equipment.asset_no, started)
    services.test_record_revise(
        actor=admin,
        record=record,
        reason="第 3 块试件抗压强度录入时漏了小数点，按原始记录更正为 49.1 MPa",
        parameters=demo_parameters(["48.2", "47.9", "49.1", "48.6", "47.5", "48.8"]),
    )
    return 1, []
