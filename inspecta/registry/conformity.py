"""Qualification conformity and certificate-hanging checks, stored as findings.

- T/CECS 4.1.3 (and its explanation 4.1.1-8): for each agency, site and specialty
  offered, every mandatory parameter must be served by in-use equipment with valid
  calibration, staff holding a valid post certificate for the category must exist, a
  signatory must cover it, and the qualification certificate must be valid and include
  the specialty; equipment whose calibration expires within 30 days is flagged. The CMA
  certificate is required (Guangdong 附件2 二(四)).
- T/CECS 7.2.2-1 (证书挂靠预警): the same ID number active as staff of two agencies, or
  one post certificate used by two people.

``findings_recompute`` is called by every registry write and nightly by
``registry.tasks``; it keeps ``since`` of a finding that still holds and sets
``resolved_at`` on one that no longer does.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.choices import ParameterLevel
from inspecta.core.masking import Audience, mask_id_number

from .choices import AgencyCertificateKind, CalibrationKind, EquipmentStatus, FindingRule, FindingSeverity

if TYPE_CHECKING:
    from .models import Agency

EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Expected:
    severity: str
    subject: str
    detail: str = ""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def evaluate(agency: Agency, today: datetime.date) -> dict[tuple[str, str], Expected]:
    """Every finding that holds for ``agency`` on ``today``, by (rule, key)."""

    from .models import (
        AgencyCertificate,
        Equipment,
        PostCertificate,
        QualificationCertificate,
        Signatory,
        SiteCapability,
        Staff,
    )

    found: dict[tuple[str, str], Expected] = {}
    critical, warning = FindingSeverity.CRITICAL.value, FindingSeverity.WARNING.value

    # Qualification certificate and CMA (4.1.1-8; Guangdong 二(三)-(四)).
    qualifications = list(QualificationCertificate.objects.filter(agency=agency).prefetch_related("specialties"))
    qualified: set[str] = set()
    if not qualifications:
        found[(FindingRule.QUALIFICATION_MISSING, "agency")] = Expected(critical, agency.name)
    for cert in qualifications:
        if cert.valid_until < today:
            found[(FindingRule.QUALIFICATION_EXPIRED, f"qualification:{cert.pk}")] = Expected(
                critical, cert.number, _("有效期至 %(d)s") % {"d": cert.valid_until.isoformat()}
            )
        else:
            qualified.update(s.code for s in cert.specialties.all())
    if not AgencyCertificate.objects.filter(
        agency=agency, kind=AgencyCertificateKind.CMA, valid_until__gte=today
    ).exists():
        found[(FindingRule.CMA_MISSING, "cma")] = Expected(critical, agency.name)

    # Equipment calibration (4.1.3).
    equipment = list(
        Equipment.objects.filter(agency=agency, status=EquipmentStatus.IN_USE).prefetch_related("parameters")
    )
    for item in equipment:
        until = item.calibration_valid_until
        if until is None:
            if item.calibration_kind != CalibrationKind.SELF_CHECK:
                found[(FindingRule.CALIBRATION_EXPIRED, f"equipment:{item.pk}")] = Expected(
                    critical, str(item), _("未登记检定/校准有效期")
                )
        elif until < today:
            found[(FindingRule.CALIBRATION_EXPIRED, f"equipment:{item.pk}")] = Expected(
                critical, str(item), _("有效期至 %(d)s") % {"d": until.isoformat()}
            )
        elif until <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS):
            found[(FindingRule.CALIBRATION_EXPIRING, f"equipment:{item.pk}")] = Expected(
                warning, str(item), _("有效期至 %(d)s") % {"d": until.isoformat()}
            )
    # parameter code -> sites (None: any site) served by calibrated in-use equipment
    served: dict[str, set[int | None]] = defaultdict(set)
    for item in equipment:
        if item.calibration_valid_on(today) or (
            item.calibration_kind == CalibrationKind.SELF_CHECK and item.calibration_valid_until is None
        ):
            for parameter in item.parameters.all():
                served[parameter.code].add(item.site_id)

    # Capabilities per site (4.1.1-6, 4.1.3).
    capabilities = list(
        SiteCapability.objects.filter(agency=agency).select_related(
            "site", "item_parameter__test_item__specialty", "item_parameter__parameter"
        )
    )
    offered: dict[tuple[int, str], tuple[str, str]] = {}
    for cap in capabilities:
        link = cap.item_parameter
        specialty = link.test_item.specialty
        offered[(cap.site_id, specialty.code)] = (cap.site.name, specialty.name)
        if link.level == ParameterLevel.MANDATORY:
            sites = served.get(link.parameter_id, set())
            if cap.site_id not in sites and None not in sites:
                found[(FindingRule.PARAMETER_WITHOUT_EQUIPMENT, f"site:{cap.site_id}:tip:{link.pk}")] = Expected(
                    critical, f"{cap.site.name} / {link.test_item.name} / {link.parameter.name}"
                )
    if offered:
        certified = PostCertificate.objects.filter(
            agency=agency, staff__active=True, valid_until__gte=today
        ).values_list("staff__site_id", "category_id")
        staff_cover: dict[str, set[int | None]] = defaultdict(set)
        for site_id, category in certified:
            staff_cover[category].add(site_id)
        signatory_cover: dict[str, set[int | None]] = defaultdict(set)
        for site_id, code in Signatory.objects.filter(agency=agency, staff__active=True).values_list(
            "site_id", "scope__code"
        ):
            if code:
                signatory_cover[code].add(site_id)
        for (site_id, code), (site_name, specialty_name) in offered.items():
            subject = f"{site_name} / {specialty_name}"
            key = f"site:{site_id}:specialty:{code}"
            if code not in qualified:
                found[(FindingRule.OUT_OF_QUALIFICATION, key)] = Expected(critical, subject)
            cover = staff_cover.get(code, set())
            if site_id not in cover and None not in cover:
                found[(FindingRule.SPECIALTY_WITHOUT_STAFF, key)] = Expected(critical, subject)
            cover = signatory_cover.get(code, set())
            if site_id not in cover and None not in cover:
                found[(FindingRule.SPECIALTY_WITHOUT_SIGNATORY, key)] = Expected(critical, subject)

    # Certificate hanging (7.2.2-1).
    own_people = dict(Staff.objects.filter(agency=agency, active=True).values_list("id_number", "name"))
    if own_people:
        others: dict[str, set[str]] = defaultdict(set)
        for id_number, other_name in (
            Staff.objects.filter(id_number__in=list(own_people), active=True)
            .exclude(agency=agency)
            .values_list("id_number", "agency__name")
        ):
            others[id_number].add(other_name)
        for id_number, agencies in others.items():
            found[(FindingRule.PERSON_IN_TWO_AGENCIES, f"id:{_digest(id_number)}")] = Expected(
                critical,
                f"{own_people[id_number]}（{mask_id_number(id_number, Audience.AUTHORITY)}）",
                _("同时在职于：%(names)s") % {"names": "、".join(sorted(agencies))},
            )
    own_certs = list(
        PostCertificate.objects.filter(agency=agency, staff__active=True).values_list("number", "staff__id_number")
    )
    if own_certs:
        numbers = {number for number, _id in own_certs}
        holders: dict[str, set[str]] = defaultdict(set)
        for number, id_number in PostCertificate.objects.filter(number__in=numbers, staff__active=True).values_list(
            "number", "staff__id_number"
        ):
            holders[number].add(id_number)
        for number in sorted(numbers):
            if len(holders[number]) > 1:
                found[(FindingRule.CERTIFICATE_SHARED, f"cert:{_digest(number)}")] = Expected(
                    critical, number, _("%(n)d 人使用同一证书编号") % {"n": len(holders[number])}
                )
    return found


@transaction.atomic
def findings_recompute(agency: Agency, today: datetime.date | None = None) -> dict[str, int]:
    """Bring the stored findings of ``agency`` in line with ``evaluate``."""

    from .models import Finding

    today = today or timezone.localdate()
    now = timezone.now()
    expected = evaluate(agency, today)
    open_findings = {(f.rule, f.key): f for f in Finding.objects.filter(agency=agency, resolved_at__isnull=True)}
    created = updated = resolved = 0
    for (rule, key), exp in expected.items():
        current = open_findings.get((rule, key))
        if current is None:
            Finding.objects.create(
                agency=agency,
                rule=rule,
                key=key,
                severity=exp.severity,
                subject=exp.subject[:255],
                detail=exp.detail[:500],
                since=now,
                last_seen=now,
            )
            created += 1
        elif (current.severity, current.subject, current.detail) != (exp.severity, exp.subject[:255], exp.detail[:500]):
            current.severity, current.subject, current.detail = exp.severity, exp.subject[:255], exp.detail[:500]
            current.last_seen = now
            current.save(update_fields=["severity", "subject", "detail", "last_seen", "updated_at"])
            updated += 1
    for (rule, key), finding in open_findings.items():
        if (rule, key) not in expected:
            finding.resolved_at = now
            finding.save(update_fields=["resolved_at", "updated_at"])
            resolved += 1
    return {"created": created, "updated": updated, "resolved": resolved}


def findings_recompute_all(today: datetime.date | None = None) -> dict[str, int]:
    """Every agency (the nightly job): calibrations and certificates expire by themselves."""

    from .models import Agency

    totals = {"agencies": 0, "created": 0, "updated": 0, "resolved": 0}
    for agency in Agency.objects.order_by("pk").iterator():
        counts = findings_recompute(agency, today)
        totals["agencies"] += 1
        for name, value in counts.items():
            totals[name] += value
    return totals
