"""Commissions (检测委托单; 57号令 第二十条、第二十六条; T/CECS 4.3.4-3; Nanchang 四(四)1).

The deliverer (送样人, a person of a project party) fills the commission for sealed
samples of one project sent to one agency, with the items and parameters requested; the
deliverer confirms it, then a witness of the project (见证人, not the deliverer). Each
confirmation is the shared shape (``models.PersonConfirmation``, made by
``services.confirmation_make``): an identity proof over the SHA-256 of the commission
record, a live photo and the position. When both have confirmed, the commission is a
transparency-log entry (kind ``commission``) with the SHA-256 of the live photos.

Numbers are continuous per agency and year (``core.counters``, name ``commission``,
scope the agency id): a rolled-back filling gives its number back. The agency's LIMS
reads the commissions from a feed and acknowledges each with its own number
(:func:`commission_acknowledge`), or pushes those it creates (:func:`commission_fill`
with ``source=lims``); the confirmations then happen on the platform.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.models import User
from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_stamp
from inspecta.core.counters import sequence_next
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.findings import refusal_findings
from inspecta.core.models import StoredFile, TestItemParameter
from inspecta.core.regionrules import rule_value
from inspecta.ledger.services import format_time, log_append
from inspecta.projects.models import Project
from inspecta.registry.models import Agency

from . import permissions
from .choices import CommissionSource, CommissionStatus, CommissionStep, SampleStatus, SamplingLogKind, SamplingRule
from .models import Commission, CommissionConfirmation, CommissionSample, Sample, SamplingFinding
from .regionrules import COMMISSION_WINDOW_MINUTES
from .services import chained_digest, confirmation_make, identity_detail

__all__ = [
    "COUNTER",
    "LineIn",
    "commission_acknowledge",
    "commission_challenge",
    "commission_confirm",
    "commission_digest",
    "commission_fill",
    "commission_record",
    "eligible_samples",
]

COUNTER = "commission"
"""The numbering's name in ``core.SequenceCounter`` (scope: the agency id)."""

COMMISSIONABLE = (SampleStatus.SEALED, SampleStatus.RECEIVED)
"""A sample goes into a commission once witnessed and sealed (and until refused)."""


@dataclass(frozen=True)
class LineIn:
    """One sample of a commission and the parameters requested (catalog codes of the
    sample's test item; none: the item as a whole)."""

    sample: Sample
    parameters: Sequence[str] = field(default_factory=tuple)


def eligible_samples(*, project: Project, agency: Agency) -> Any:
    """The samples a commission of ``project`` to ``agency`` may cover: sent to that agency,
    sealed (or received), in no commission yet."""

    return Sample.objects.filter(
        project=project, agency=agency, status__in=COMMISSIONABLE, commission_line__isnull=True
    ).order_by("sampled_at", "pk")


def commission_record(commission: Commission) -> dict[str, Any]:
    """What the deliverer and the witness confirm: the number, the agency, the project,
    each sample (code, item, parameters), the deliverer, the notes and the time of
    filling. Ids and codes only, no names; the LIMS's own number is not part of it."""

    return {
        "number": commission.number,
        "agency": commission.agency_id,
        "project": commission.project_id,
        "samples": [
            [line.sample.code, line.test_item_id, sorted(line.parameters)]
            for line in commission.lines.select_related("sample").order_by("pk")
        ],
        "deliverer": commission.deliverer_id,
        "notes": commission.notes,
        "created_at": format_time(commission.created_at),
    }


def _digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def commission_digest(commission: Commission) -> str:
    """SHA-256 of the canonical JSON (RFC 8785) of :func:`commission_record`: the
    challenge of the deliverer's confirmation."""

    return _digest(commission_record(commission))


def commission_challenge(commission: Commission, person_id: int) -> tuple[str, str]:
    """The step waiting and its challenge for ``person_id``: the record's SHA-256 for the
    deliverer; for the witness that digest chained with the deliverer's confirmation."""

    if commission.status == CommissionStatus.FILLED:
        return CommissionStep.DELIVERER, commission.record_sha256
    first = commission.confirmations.get(step=CommissionStep.DELIVERER)
    return CommissionStep.WITNESS, chained_digest(commission.record_sha256, "deliverer_confirmation", first, person_id)


def _lines_checked(project: Project, agency: Agency, lines: Sequence[LineIn]) -> list[LineIn]:
    if not lines:
        raise AppError(ErrorCode.COMMISSION_SAMPLE_INVALID, _("委托单至少须有一个样品。"), {"samples": []})
    codes = [line.sample.code for line in lines]
    if len(set(codes)) != len(codes):
        raise AppError(ErrorCode.COMMISSION_SAMPLE_INVALID, _("同一样品不能重复列入委托单。"), {"samples": codes})
    wrong = [
        line.sample.code
        for line in lines
        if line.sample.project_id != project.pk
        or line.sample.agency_id != agency.pk
        or line.sample.status not in COMMISSIONABLE
    ]
    if wrong:
        raise AppError(
            ErrorCode.COMMISSION_SAMPLE_INVALID,
            _("以下样品不属于本项目、不是送往本检测机构或尚未见证封样：%(s)s。") % {"s": "、".join(wrong)},
            {"samples": wrong},
        )
    taken = list(
        CommissionSample.objects.filter(sample__in=[line.sample for line in lines]).values_list(
            "sample__code", flat=True
        )
    )
    if taken:
        raise AppError(
            ErrorCode.SAMPLE_IN_COMMISSION,
            _("以下样品已列入其他委托单：%(s)s。") % {"s": "、".join(taken)},
            {"samples": taken},
        )
    for line in lines:
        wanted = set(line.parameters)
        known = set(
            TestItemParameter.objects.filter(
                test_item_id=line.sample.test_item_id, parameter_id__in=wanted
            ).values_list("parameter_id", flat=True)
        )
        if wanted - known:
            raise AppError(
                ErrorCode.COMMISSION_SAMPLE_INVALID,
                _("检测参数不属于样品的检测项目：%(p)s。") % {"p": "、".join(sorted(wanted - known))},
                {"samples": [line.sample.code], "parameters": sorted(wanted - known)},
            )
    return list(lines)


@transaction.atomic
def commission_fill(
    *,
    actor: Any,
    project: Project,
    agency: Agency,
    lines: Sequence[LineIn],
    notes: str = "",
    deliverer: User | None = None,
    lims_number: str = "",
) -> Commission:
    """Fill a commission (57号令 第二十条; Nanchang 四(四)1). A person fills it as its
    deliverer (a deliverer of a party of the project). The agency's LIMS pushes one it
    created (``source = lims``): it names the deliverer (a person of a party of the
    project) and its own number, and the commission counts as acknowledged. Either way
    the platform number is assigned here, continuous per agency and year."""

    who = actor_of(actor)
    lims = who.user is None
    if lims:
        if who.organisation_id is None or agency.organisation_id != who.organisation_id:
            raise PermissionDenied(_("检测机构系统只能推送本机构的委托单。"))
        if deliverer is None:
            raise AppError(ErrorCode.INVALID_INPUT, _("须指明送样人（deliverer_id）。"), {"field": "deliverer_id"})
        if not permissions.may_fill_commission_on(deliverer, project):
            raise AppError(
                ErrorCode.INVALID_INPUT,
                _("送样人须是本项目参建单位的取样人、见证人或项目人员。"),
                {"field": "deliverer_id"},
            )
        lims_number = lims_number.strip()
        if not lims_number:
            raise AppError(ErrorCode.INVALID_INPUT, _("须提供检测机构系统编号。"), {"field": "lims_number"})
    else:
        if not permissions.may_fill_commission_on(who, project):
            raise PermissionDenied(_("只有本项目参建单位的送样人可以填写委托单。"))
        deliverer = who.user
        lims_number = ""
    assert deliverer is not None
    if agency.pk not in project.agency_ids():
        raise AppError(ErrorCode.AGENCY_NOT_PARTY, _("所选检测机构不是本项目的检测单位。"))
    if lims_number and Commission.objects.filter(agency=agency, lims_number=lims_number).exists():
        raise AppError(
            ErrorCode.LIMS_NUMBER_TAKEN,
            _("检测机构系统编号 %(n)s 已用于本机构的其他委托单。") % {"n": lims_number},
            {"lims_number": lims_number},
        )
    locked = list(Sample.objects.select_for_update().filter(pk__in=[line.sample.pk for line in lines]))
    fresh = {s.pk: s for s in locked}
    lines = [LineIn(fresh.get(line.sample.pk, line.sample), tuple(line.parameters)) for line in lines]
    lines = _lines_checked(project, agency, lines)

    now = timezone.now()
    year = timezone.localtime(now).year
    commission = Commission(
        agency=agency,
        project=project,
        year=year,
        sequence=sequence_next(COUNTER, str(agency.pk), year),
        deliverer=deliverer,
        notes=notes.strip(),
        source=CommissionSource.LIMS if lims else CommissionSource.PLATFORM,
        record_sha256="",
        lims_number=lims_number,
        acknowledged_at=now if lims else None,
        created_at=now,
        updated_at=now,
    )
    audit_stamp(commission, actor)
    commission.save()
    for line in lines:
        row = CommissionSample(
            commission=commission,
            sample=line.sample,
            test_item_id=line.sample.test_item_id,
            parameters=sorted(set(line.parameters)),
        )
        audit_stamp(row, actor)
        row.save()
    commission.record_sha256 = commission_digest(commission)
    audit_stamp(commission, actor)
    commission.save(update_fields=["record_sha256"])
    return commission


def _finding(commission: Commission, rule: str, detail: str, **details: Any) -> None:
    key, region = f"commission:{commission.pk}", commission.project.region_id
    for line in commission.lines.select_related("sample"):
        SamplingFinding.keep(
            sample=line.sample,
            rule=rule,
            key=key,
            subject=commission.number,
            region=region,
            detail=detail,
            defaults={"details": {"commission": commission.pk, **details}},
        )


@refusal_findings()
@transaction.atomic
def commission_confirm(
    *,
    actor: Any,
    commission: Commission,
    live_photo: StoredFile,
    assertion: str | dict[str, Any] | None = None,
    totp_code: str = "",
    latitude: decimal.Decimal | str | float | None = None,
    longitude: decimal.Decimal | str | float | None = None,
    accuracy_m: int | None = None,
) -> CommissionConfirmation:
    """Confirm a commission: first its deliverer, then a witness of the project who is
    not the deliverer (Nanchang 四(四)1). When both have confirmed it is appended to the
    transparency log with the SHA-256 of both live photos; a witness confirmation later
    than ``INSPECTA_COMMISSION_WINDOW_MINUTES`` after the filling is a finding."""

    commission = Commission.objects.select_for_update().select_related("project").get(pk=commission.pk)
    user = actor_of(actor).user
    if user is None:
        raise PermissionDenied(_("只有本人可以确认。"))
    if commission.status == CommissionStatus.CONFIRMED:
        raise AppError(ErrorCode.COMMISSION_NOT_PENDING, _("该委托单已由送样人和见证人确认，不能再次确认。"))
    if not permissions.may_confirm_commission(actor, commission):
        if commission.status == CommissionStatus.FILLED:
            raise PermissionDenied(_("该委托单须由送样人本人先确认。"))
        raise PermissionDenied(_("只有本项目建设或监理单位的见证人可以确认委托单，且见证人不能是送样人本人。"))
    if latitude is None or longitude is None:
        raise AppError(ErrorCode.LOCATION_REQUIRED, _("请允许手机定位后再确认，确认位置必须记录。"))
    step, challenge = commission_challenge(commission, user.pk)
    confirmation = confirmation_make(
        CommissionConfirmation(commission=commission, step=step),
        actor=actor,
        challenge=challenge,
        live_photo=live_photo,
        assertion=assertion,
        totp_code=totp_code,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        on_identity_failure=lambda person, exc: _finding(
            commission, SamplingRule.IDENTITY_FAILED, identity_detail(person, exc), code=str(exc.code), person=person.pk
        ),
    )
    if step == CommissionStep.DELIVERER:
        commission.status = CommissionStatus.DELIVERER_CONFIRMED
        commission.updated_at = confirmation.at
        audit_stamp(commission, actor)
        commission.save(update_fields=["status", "updated_at"])
        return confirmation

    commission.status = CommissionStatus.CONFIRMED
    commission.witness = user
    commission.updated_at = confirmation.at
    audit_stamp(commission, actor)
    commission.save(update_fields=["status", "witness", "updated_at"])
    minutes, _rule = rule_value(COMMISSION_WINDOW_MINUTES, commission.project.region_id)
    elapsed = confirmation.at - commission.created_at
    if elapsed > datetime.timedelta(minutes=minutes):
        _finding(
            commission,
            SamplingRule.COMMISSION_WINDOW_EXCEEDED,
            _("委托单填写后 %(m)s 分钟才完成送样人和见证人确认，超过 %(w)s 分钟。")
            % {"m": int(elapsed.total_seconds() // 60), "w": minutes},
            elapsed_seconds=int(elapsed.total_seconds()),
            window_minutes=minutes,
        )
    log_append(kind=SamplingLogKind.COMMISSION, record=commission)
    return confirmation


@transaction.atomic
def commission_acknowledge(*, actor: Any, commission: Commission, lims_number: str) -> Commission:
    """The agency's LIMS acknowledges a commission it read from the feed and gives its own
    number. Again with the same number changes nothing; another number, or a number of
    another commission of the agency, is refused."""

    who = actor_of(actor)
    commission = Commission.objects.select_for_update().get(pk=commission.pk)
    if who.organisation_id is None or commission.agency.organisation_id != who.organisation_id:
        raise PermissionDenied(_("只有委托单的检测机构可以确认接收。"))
    lims_number = lims_number.strip()
    if not lims_number:
        raise AppError(ErrorCode.INVALID_INPUT, _("须提供检测机构系统编号。"), {"field": "lims_number"})
    if commission.lims_number == lims_number:
        return commission
    if commission.lims_number:
        raise AppError(
            ErrorCode.LIMS_NUMBER_TAKEN,
            _("该委托单已确认接收，检测机构系统编号为 %(n)s。") % {"n": commission.lims_number},
            {"lims_number": commission.lims_number},
        )
    if Commission.objects.filter(agency_id=commission.agency_id, lims_number=lims_number).exists():
        raise AppError(
            ErrorCode.LIMS_NUMBER_TAKEN,
            _("检测机构系统编号 %(n)s 已用于本机构的其他委托单。") % {"n": lims_number},
            {"lims_number": lims_number},
        )
    now = timezone.now()
    commission.lims_number = lims_number
    commission.acknowledged_at = now
    commission.updated_at = now
    audit_stamp(commission, actor)
    commission.save(update_fields=["lims_number", "acknowledged_at", "updated_at"])
    return commission
