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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.choices import ParameterLevel
from inspecta.core.masking import Audience, mask_id_number
from inspecta.core.rulebook import RuleBook, Severity

from .choices import AgencyCertificateKind, CalibrationKind, EquipmentStatus, FindingRule

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


Found = tuple[tuple[str, str], Expected]
"""A finding that holds: ``((rule, key), expected)``."""


@dataclass
class Facts:
    """What the conformity rules read about one agency on one day, loaded once."""

    agency: Agency
    today: datetime.date
    qualifications: list[Any] = field(default_factory=list)
    # specialties covered by a qualification certificate valid today
    qualified: set[str] = field(default_factory=set)
    equipment: list[Any] = field(default_factory=list)
    # parameter code -> sites (None: any site) served by calibrated in-use equipment
    served: dict[str, set[int | None]] = field(default_factory=dict)
    capabilities: list[Any] = field(default_factory=list)
    # (site, specialty) offered -> (site name, specialty name)
    offered: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)
    # specialty -> sites (None: any) with certified staff / a signatory
    staff_cover: dict[str, set[int | None]] = field(default_factory=dict)
    signatory_cover: dict[str, set[int | None]] = field(default_factory=dict)

    @classmethod
    def load(cls, agency: Agency, today: datetime.date) -> Facts:
        from .models import Equipment, PostCertificate, QualificationCertificate, Signatory, SiteCapability

        facts = cls(agency=agency, today=today)
        facts.qualifications = list(
            QualificationCertificate.objects.filter(agency=agency).prefetch_related("specialties")
        )
        for cert in facts.qualifications:
            if cert.valid_until >= today:
                facts.qualified.update(s.code for s in cert.specialties.all())
        facts.equipment = list(
            Equipment.objects.filter(agency=agency, status=EquipmentStatus.IN_USE).prefetch_related("parameters")
        )
        served: dict[str, set[int | None]] = defaultdict(set)
        for item in facts.equipment:
            if item.calibration_valid_on(today) or (
                item.calibration_kind == CalibrationKind.SELF_CHECK and item.calibration_valid_until is None
            ):
                for parameter in item.parameters.all():
                    served[parameter.code].add(item.site_id)
        facts.served = dict(served)
        facts.capabilities = list(
            SiteCapability.objects.filter(agency=agency).select_related(
                "site", "item_parameter__test_item__specialty", "item_parameter__parameter"
            )
        )
        for cap in facts.capabilities:
            specialty = cap.item_parameter.test_item.specialty
            facts.offered[(cap.site_id, specialty.code)] = (cap.site.name, specialty.name)
        if facts.offered:
            staff_cover: dict[str, set[int | None]] = defaultdict(set)
            for site_id, category in PostCertificate.objects.filter(
                agency=agency, staff__active=True, valid_until__gte=today
            ).values_list("staff__site_id", "category_id"):
                staff_cover[category].add(site_id)
            signatory_cover: dict[str, set[int | None]] = defaultdict(set)
            for site_id, code in Signatory.objects.filter(agency=agency, staff__active=True).values_list(
                "site_id", "scope__code"
            ):
                if code:
                    signatory_cover[code].add(site_id)
            facts.staff_cover, facts.signatory_cover = dict(staff_cover), dict(signatory_cover)
        return facts


RULES: RuleBook[Found] = RuleBook("registry_conformity")
"""Qualification conformity (T/CECS 4.1.3, 4.1.1-8) and certificate hanging (7.2.2-1)."""

CRITICAL, WARNING = Severity.CRITICAL, Severity.WARNING


@RULES.rule(FindingRule.QUALIFICATION_MISSING, clause="T/CECS 4.1.1-8; Guangdong 附件2 二(三)")
def qualification_missing(f: Facts) -> Iterator[Found]:
    """The agency has registered a qualification certificate."""

    if not f.qualifications:
        yield (FindingRule.QUALIFICATION_MISSING, "agency"), Expected(CRITICAL, f.agency.name)


@RULES.rule(FindingRule.QUALIFICATION_EXPIRED, clause="T/CECS 4.1.1-8; Guangdong 附件2 二(三)")
def qualification_expired(f: Facts) -> Iterator[Found]:
    """Every qualification certificate is valid today."""

    for cert in f.qualifications:
        if cert.valid_until < f.today:
            detail = _("有效期至 %(d)s") % {"d": cert.valid_until.isoformat()}
            yield (
                (FindingRule.QUALIFICATION_EXPIRED, f"qualification:{cert.pk}"),
                Expected(CRITICAL, cert.number, detail),
            )


@RULES.rule(FindingRule.CMA_MISSING, clause="Guangdong 附件2 二(四)")
def cma_missing(f: Facts) -> Iterator[Found]:
    """A CMA certificate valid today."""

    from .models import AgencyCertificate

    if not AgencyCertificate.objects.filter(
        agency=f.agency, kind=AgencyCertificateKind.CMA, valid_until__gte=f.today
    ).exists():
        yield (FindingRule.CMA_MISSING, "cma"), Expected(CRITICAL, f.agency.name)


@RULES.rule(FindingRule.CALIBRATION_EXPIRED, clause="T/CECS 4.1.3")
def calibration_expired(f: Facts) -> Iterator[Found]:
    """Equipment in use has a calibration valid today (self-checked equipment excepted)."""

    for item in f.equipment:
        until = item.calibration_valid_until
        if until is None and item.calibration_kind != CalibrationKind.SELF_CHECK:
            yield (
                (FindingRule.CALIBRATION_EXPIRED, f"equipment:{item.pk}"),
                Expected(CRITICAL, str(item), _("未登记检定/校准有效期")),
            )
        elif until is not None and until < f.today:
            yield (
                (FindingRule.CALIBRATION_EXPIRED, f"equipment:{item.pk}"),
                Expected(CRITICAL, str(item), _("有效期至 %(d)s") % {"d": until.isoformat()}),
            )


@RULES.rule(FindingRule.CALIBRATION_EXPIRING, clause="T/CECS 4.1.3", severity=WARNING)
def calibration_expiring(f: Facts) -> Iterator[Found]:
    """A calibration that expires within ``EXPIRY_WARNING_DAYS``."""

    for item in f.equipment:
        until = item.calibration_valid_until
        if until is not None and f.today <= until <= f.today + datetime.timedelta(days=EXPIRY_WARNING_DAYS):
            yield (
                (FindingRule.CALIBRATION_EXPIRING, f"equipment:{item.pk}"),
                Expected(WARNING, str(item), _("有效期至 %(d)s") % {"d": until.isoformat()}),
            )


@RULES.rule(FindingRule.PARAMETER_WITHOUT_EQUIPMENT, clause="T/CECS 4.1.3, 4.1.1-6")
def parameter_without_equipment(f: Facts) -> Iterator[Found]:
    """Every mandatory parameter offered at a site is served by calibrated equipment."""

    for cap in f.capabilities:
        link = cap.item_parameter
        if link.level != ParameterLevel.MANDATORY:
            continue
        sites = f.served.get(link.parameter_id, set())
        if cap.site_id not in sites and None not in sites:
            yield (
                (FindingRule.PARAMETER_WITHOUT_EQUIPMENT, f"site:{cap.site_id}:tip:{link.pk}"),
                Expected(CRITICAL, f"{cap.site.name} / {link.test_item.name} / {link.parameter.name}"),
            )


def _offered(f: Facts) -> Iterator[tuple[int, str, str, str]]:
    for (site_id, code), (site_name, specialty_name) in f.offered.items():
        yield site_id, code, f"{site_name} / {specialty_name}", f"site:{site_id}:specialty:{code}"


@RULES.rule(FindingRule.OUT_OF_QUALIFICATION, clause="T/CECS 4.1.1-8")
def out_of_qualification(f: Facts) -> Iterator[Found]:
    """Every specialty offered is covered by a valid qualification certificate."""

    for _site_id, code, subject, key in _offered(f):
        if code not in f.qualified:
            yield (FindingRule.OUT_OF_QUALIFICATION, key), Expected(CRITICAL, subject)


@RULES.rule(FindingRule.SPECIALTY_WITHOUT_STAFF, clause="T/CECS 4.1.3")
def specialty_without_staff(f: Facts) -> Iterator[Found]:
    """Every specialty offered at a site has staff with a valid post certificate."""

    for site_id, code, subject, key in _offered(f):
        cover = f.staff_cover.get(code, set())
        if site_id not in cover and None not in cover:
            yield (FindingRule.SPECIALTY_WITHOUT_STAFF, key), Expected(CRITICAL, subject)


@RULES.rule(FindingRule.SPECIALTY_WITHOUT_SIGNATORY, clause="T/CECS 4.1.3")
def specialty_without_signatory(f: Facts) -> Iterator[Found]:
    """Every specialty offered at a site has a signatory."""

    for site_id, code, subject, key in _offered(f):
        cover = f.signatory_cover.get(code, set())
        if site_id not in cover and None not in cover:
            yield (FindingRule.SPECIALTY_WITHOUT_SIGNATORY, key), Expected(CRITICAL, subject)


@RULES.rule(FindingRule.PERSON_IN_TWO_AGENCIES, clause="T/CECS 7.2.2-1")
def person_in_two_agencies(f: Facts) -> Iterator[Found]:
    """The same citizen ID active as staff of two agencies (certificate hanging)."""

    from .models import Staff

    own_people = dict(Staff.objects.filter(agency=f.agency, active=True).values_list("id_number", "name"))
    if not own_people:
        return
    others: dict[str, set[str]] = defaultdict(set)
    for id_number, other_name in (
        Staff.objects.filter(id_number__in=list(own_people), active=True)
        .exclude(agency=f.agency)
        .values_list("id_number", "agency__name")
    ):
        others[id_number].add(other_name)
    for id_number, agencies in others.items():
        yield (
            (FindingRule.PERSON_IN_TWO_AGENCIES, f"id:{_digest(id_number)}"),
            Expected(
                CRITICAL,
                f"{own_people[id_number]}（{mask_id_number(id_number, Audience.AUTHORITY)}）",
                _("同时在职于：%(names)s") % {"names": "、".join(sorted(agencies))},
            ),
        )


@RULES.rule(FindingRule.CERTIFICATE_SHARED, clause="T/CECS 7.2.2-1")
def certificate_shared(f: Facts) -> Iterator[Found]:
    """One post certificate number used by two people."""

    from .models import PostCertificate

    numbers = set(PostCertificate.objects.filter(agency=f.agency, staff__active=True).values_list("number", flat=True))
    if not numbers:
        return
    holders: dict[str, set[str]] = defaultdict(set)
    for number, id_number in PostCertificate.objects.filter(number__in=numbers, staff__active=True).values_list(
        "number", "staff__id_number"
    ):
        holders[number].add(id_number)
    for number in sorted(numbers):
        if len(holders[number]) > 1:
            yield (
                (FindingRule.CERTIFICATE_SHARED, f"cert:{_digest(number)}"),
                Expected(CRITICAL, number, _("%(n)d 人使用同一证书编号") % {"n": len(holders[number])}),
            )


def evaluate(agency: Agency, today: datetime.date) -> dict[tuple[str, str], Expected]:
    """Every finding that holds for ``agency`` on ``today``, by (rule, key)."""

    return dict(RULES.run(Facts.load(agency, today)))


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
            finding.save(update_fields=[*finding.resolve(now), "updated_at"])
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
