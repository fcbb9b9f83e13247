"""Building blocks of the test-data tests: the chain-of-custody scene with a received
sample, and the fields of a record of it that passes every check."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from inspecta.sampling.testing import received_sample, sampling_scene

from .demo import demo_parameters

__all__ = ["filed_pile_plan", "lab_fields", "scene_with_sample"]


def scene_with_sample(tree: dict[str, Any], n: int = 1, *, seed: int = 30) -> dict[str, Any]:
    """``sampling_scene`` with one cement sample received by the agency (``sample``)."""

    scene = sampling_scene(tree, n)
    return scene | {"tree": tree, "sample": received_sample(scene, seed)}


def lab_fields(scene: dict[str, Any], number: str = "LIMS-0001", **over: Any) -> dict[str, Any]:
    """The fields of a lab record of the scene's sample that passes every check: the
    agency's certified tester and calibrated equipment, the four mandatory parameters
    of cement, tested from a second after the receipt until now."""

    made, sample = scene["made"], scene["sample"]
    started = sample.receipt.received_at + datetime.timedelta(seconds=1)
    fields: dict[str, Any] = {
        "number": number,
        "kind": "lab",
        "sample": sample.code,
        "test_item": sample.test_item_id,
        "site_id": made["site"].pk,
        "tester_id": made["staff"].pk,
        "equipment": [made["equipment"].asset_no],
        "started_at": started,
        "ended_at": max(started, timezone.now()),
        "temperature_c": "20.0",
        "humidity_pct": "95.0",
        "standard": "GB 175-2023",
        "parameters": demo_parameters(["48.2", "47.9", "49.1", "48.6", "47.5", "48.8"]),
        "conclusion": "qualified",
    }
    fields.update(over)
    return fields


def filed_pile_plan(scene: dict[str, Any], *, ahead: datetime.timedelta | None = None) -> Any:
    """An on-site pile test plan of the scene's agency, filed on its project: the tester
    is certified for piles first (``projects.testing.plan_kwargs``; ``ahead`` as there)."""

    from inspecta.projects import services as project_services
    from inspecta.projects.testing import contract_for, plan_kwargs
    from inspecta.registry import services as registry_services

    agency, admin, made = scene["agency"], scene["agency_admin"], scene["made"]
    registry_services.record_save(
        actor=admin,
        agency=agency,
        kind="post_certificate",
        data={
            "staff": made["staff"].pk,
            "number": "SG-PILE",
            "category": "SP04",
            "valid_until": timezone.localdate() + datetime.timedelta(days=400),
        },
    )
    return project_services.plan_file(
        **plan_kwargs(agency, contract_for(admin, agency, scene["project"]), made, ahead=ahead), actor=admin
    )
