"""Writes to regions and the qualification catalog.

Province admins (and operators) correct the loaded seed data; every change is audited
through the historical tables.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _

from inspecta.ledger.choices import LogKind
from inspecta.ledger.services import log_append

from .audit import audit_bulk_history
from .choices import ParameterLevel, RegionLevel
from .models import Parameter, Region, Specialty, TestItem, TestItemParameter

DATA_DIR = Path(__file__).resolve().parent / "data"


def _pad(code: str) -> str:
    return code.ljust(6, "0")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def regions_load(*, data_dir: Path = DATA_DIR, progress: Callable[[Iterable[Any]], Iterable[Any]] = iter) -> int:
    """Load GB/T 2260 regions; existing codes are left as corrected by their admins.
    Returns how many were added (a second run adds nothing)."""

    existing = set(Region.objects.values_list("code", flat=True))
    added: list[Region] = []
    for row in _rows(data_dir / "provinces.csv"):
        code = _pad(row["code"])
        if code not in existing:
            added.append(Region(code=code, name=row["name"], level=RegionLevel.PROVINCE))
    for row in _rows(data_dir / "cities.csv"):
        code = _pad(row["code"])
        if code not in existing:
            added.append(
                Region(code=code, name=row["name"], level=RegionLevel.CITY, parent_id=_pad(row["provinceCode"]))
            )
    for row in progress(_rows(data_dir / "areas.csv")):
        code = _pad(row["code"])
        # Cities without districts (东莞, 中山, 儋州) are listed again as their own area.
        if code == _pad(row["cityCode"]):
            continue
        if code not in existing:
            added.append(Region(code=code, name=row["name"], level=RegionLevel.COUNTY, parent_id=_pad(row["cityCode"])))
    Region.objects.bulk_create(added, batch_size=1000)
    audit_bulk_history(Region, added, reason="seed data")
    return len(added)


@transaction.atomic
def catalog_load(*, data_dir: Path = DATA_DIR / "catalog") -> dict[str, int]:
    """Load the qualification catalog (specialties, test items, parameters, links)."""

    counts = {}
    have = set(Specialty.objects.values_list("code", flat=True))
    specialties = [
        Specialty(
            code=r["code"],
            official_no=r["officialNo"],
            name=r["name"],
            is_official=r["isOfficial"] == "true",
            enabled=r["enabled"] == "true",
        )
        for r in _rows(data_dir / "inspection-specialties.csv")
        if r["code"] not in have
    ]
    Specialty.objects.bulk_create(specialties)
    audit_bulk_history(Specialty, specialties, reason="seed data")
    counts["specialties"] = len(specialties)

    have = set(TestItem.objects.values_list("code", flat=True))
    items = [
        TestItem(
            code=r["code"],
            specialty_id=r["inspectionSpecialtyCode"],
            source_no=r["sourceProjectNo"],
            source_name=r["sourceProjectName"],
            name=r["name"],
            optional_for_qualification=r["isOptionalForQualification"] == "true",
            is_official=r["isOfficial"] == "true",
            enabled=r["enabled"] == "true",
        )
        for r in _rows(data_dir / "inspection-objects.csv")
        if r["code"] not in have
    ]
    TestItem.objects.bulk_create(items)
    audit_bulk_history(TestItem, items, reason="seed data")
    counts["test_items"] = len(items)

    have = set(Parameter.objects.values_list("code", flat=True))
    params = [
        Parameter(
            code=r["code"],
            name=r["name"],
            raw_name=r["rawName"],
            canonical_name=r["canonicalName"],
            method_text=r["methodText"],
            unit=r["unit"],
            source_type=r["sourceType"],
        )
        for r in _rows(data_dir / "inspection-parameters.csv")
        if r["code"] not in have
    ]
    Parameter.objects.bulk_create(params)
    audit_bulk_history(Parameter, params, reason="seed data")
    counts["parameters"] = len(params)

    have_links = set(TestItemParameter.objects.values_list("test_item_id", "parameter_id"))
    links = []
    for r in _rows(data_dir / "inspection-object-parameters.csv"):
        key = (r["inspectionObjectCode"], r["inspectionParameterCode"])
        if key in have_links:
            continue
        have_links.add(key)
        level = ParameterLevel.MANDATORY if r["qualificationLevel"] == "QUALIFIED" else ParameterLevel.OPTIONAL
        links.append(TestItemParameter(test_item_id=key[0], parameter_id=key[1], level=level))
    TestItemParameter.objects.bulk_create(links)
    audit_bulk_history(TestItemParameter, links, reason="seed data")
    counts["links"] = len(links)
    return counts


@transaction.atomic
def reference_update(*, actor: Any, obj: models.Model, data: dict[str, Any]) -> models.Model:
    """Correct a region or catalog row. Only the fields given change; audited."""

    model = type(obj)
    if not model.objects.restrict(actor, "change").filter(pk=obj.pk).exists():  # type: ignore[attr-defined]
        raise PermissionDenied(_("无权修改该数据。"))
    for field, value in data.items():
        setattr(obj, field, value)
    obj.full_clean()
    obj.save(update_fields=list(data))
    log_append(kind=LogKind.CODE_TABLE_CHANGE, record=obj)
    return obj
