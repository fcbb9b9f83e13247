"""Custody events between sampling and receipt (the issue's point 7; Nanchang 四(一)
"混凝土进场…坍落度检测举牌照片", 四(三) "标准养护室…入室、出室", T/CECS 4.3.4-1/-2 关键影像
and 见证记录; 57号令 第十八条).

- A concrete batch on arrival (:func:`batch_record`, :func:`batch_confirm`): the
  contractor's sampler (试验员) records the pour, the volume, the grade, the curing, the
  producer and the slump with its placard photo; the sampler and then a witness of the
  owner or the supervising firm confirm it. Samples name the batch they were taken from.
- Custody events of a sealed sample before its receipt (:func:`custody_record`,
  :func:`custody_confirm`): into the curing room, out of it at maturity, a transport
  handover from one person to another. The recorder confirms first; then a witness
  (curing) or the person taking the sample (handover).

Every confirmation is an identity proof over the SHA-256 of what is confirmed, made by
``services.confirmation_make``. When both parties have confirmed, the record is appended
to the transparency log with the SHA-256 of its photos (CONTRACT §5). Findings: the
second confirmation later than ``INSPECTA_SAMPLING_WINDOW_MINUTES`` after the event, a
place farther than ``INSPECTA_SAMPLING_MAX_DISTANCE_M`` from the project, a photo near
an earlier one, the specimens out of the curing room before their age, a sample received
while still in the curing room.

Order of a sample's events: only once it is sealed and before its receipt; one event at
a time (the previous one confirmed by both parties first); out of the curing room only
after into it; into it or handed over only when not in it.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.models import User
from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_stamp
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.findings import refusal_findings
from inspecta.core.models import StoredFile
from inspecta.core.regionrules import rule_value
from inspecta.ledger.services import format_time, log_append
from inspecta.projects.models import Project

from . import permissions
from .choices import (
    CuringCondition,
    CustodyEventKind,
    CustodyStep,
    PhotoKind,
    SampleStatus,
    SamplingLogKind,
    SamplingRule,
)
from .models import (
    ConcreteBatch,
    ConcreteBatchConfirmation,
    ConcreteBatchFinding,
    ConcreteBatchPhoto,
    CustodyConfirmation,
    CustodyEvent,
    CustodyPhoto,
    PersonConfirmation,
    Sample,
)
from .regionrules import CURING_AGE_DAYS, MAX_DISTANCE_M, WINDOW_MINUTES
from .services import (
    PhotoIn,
    _coordinate,
    _digest,
    _finding,
    _photo_of,
    confirmation_make,
    distance_m,
    duplicate_detail,
    identity_detail,
    photo_keep,
)

__all__ = [
    "batch_challenge",
    "batch_confirm",
    "batch_record",
    "batch_record_document",
    "curing_open",
    "custody_actions",
    "custody_challenge",
    "custody_confirm",
    "custody_record",
    "custody_record_document",
    "custody_refusal",
    "receipt_curing_check",
]

_Q6 = decimal.Decimal("0.000001")


def _position(latitude: Any, longitude: Any, what: str) -> tuple[decimal.Decimal, decimal.Decimal]:
    if latitude is None or longitude is None:
        raise AppError(ErrorCode.LOCATION_REQUIRED, _("请允许手机定位后再记录%(w)s，位置必须记录。") % {"w": what})
    return decimal.Decimal(str(latitude)).quantize(_Q6), decimal.Decimal(str(longitude)).quantize(_Q6)


def _distance(project: Project, latitude: decimal.Decimal, longitude: decimal.Decimal) -> int | None:
    if project.latitude is None or project.longitude is None:
        return None
    return distance_m(latitude, longitude, project.latitude, project.longitude)


def _confirmation_json(c: PersonConfirmation | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "challenge": c.challenge,
        "factor": c.factor,
        "signature": c.proof.get("signature", ""),
        "at": format_time(c.at),
    }


def _second_digest(record_sha256: str, first: PersonConfirmation, person_id: int) -> str:
    """The second party's challenge: the record and the first confirmation (its own
    challenge and signature), so the second party confirms both (as ``witness_digest``)."""

    return _digest({"record": record_sha256, "first_confirmation": _confirmation_json(first), "person": person_id})


def _window_exceeded(
    start: datetime.datetime, end: datetime.datetime, region_code: str, item_code: str | None = None
) -> dict[str, Any] | None:
    """The finding's details when both confirmations took longer than the region's window
    (the regional rule ``sampling_window_minutes``), else ``None``."""

    minutes, _rule = rule_value(WINDOW_MINUTES, region_code, item_code)
    elapsed = end - start
    if elapsed <= datetime.timedelta(minutes=minutes):
        return None
    return {
        "detail": _("记录后 %(m)s 分钟才完成双方确认，超过 %(w)s 分钟。")
        % {"m": int(elapsed.total_seconds() // 60), "w": minutes},
        "elapsed_seconds": int(elapsed.total_seconds()),
        "window_minutes": minutes,
    }


def _far(distance: int | None, region_code: str, item_code: str | None = None) -> dict[str, Any] | None:
    limit, _rule = rule_value(MAX_DISTANCE_M, region_code, item_code)
    if distance is None or distance <= limit:
        return None
    return {
        "detail": _("记录位置距项目 %(d)s 米，超过 %(l)s 米。") % {"d": distance, "l": limit},
        "distance_m": distance,
        "limit_m": limit,
    }


# ------------------------------------------------------------------ concrete batches


def _batch_finding(batch: ConcreteBatch, rule: str, detail: str, key: str = "", **details: Any) -> None:
    key = key or f"batch:{batch.pk}"
    region = batch.project.region_id
    ConcreteBatchFinding.keep(
        batch=batch, rule=rule, key=key, subject=str(batch), region=region, detail=detail, defaults={"details": details}
    )


def _batch_photo(batch: ConcreteBatch, kind: str, stored: StoredFile, actor: Any) -> ConcreteBatchPhoto:
    photo, near = photo_keep(
        ConcreteBatchPhoto(batch=batch, kind=kind), stored, actor, exclude=(ConcreteBatchPhoto, batch.pk)
    )
    if near is not None:
        _batch_finding(
            batch,
            SamplingRule.PHOTO_DUPLICATE,
            duplicate_detail(near),
            key=f"batchphoto:{photo.pk}",
            photo=photo.pk,
            earlier_photo=near.photo_id,
            earlier_table=near.table,
            earlier_owner=near.owner_id,
            distance=near.distance,
        )
    return photo


def batch_record_document(batch: ConcreteBatch) -> dict[str, Any]:
    """What the recorder confirms: the batch, its photos (by SHA-256), the place and the
    server time. Ids only, no names."""

    return {
        "concrete_batch": batch.pk,
        "project": batch.project_id,
        "part": batch.part,
        "volume_m3": f"{batch.volume_m3:.2f}",
        "strength_grade": batch.strength_grade,
        "curing": batch.curing,
        "producer": batch.producer,
        "delivery_note": batch.delivery_note,
        "produced_at": format_time(batch.produced_at) if batch.produced_at else None,
        "arrived_at": format_time(batch.arrived_at),
        "slump_mm": batch.slump_mm,
        "photos": [[p.kind, p.sha256] for p in batch.photos.exclude(kind=PhotoKind.LIVE).order_by("pk")],
        "latitude": _coordinate(batch.latitude),
        "longitude": _coordinate(batch.longitude),
        "recorded_by": batch.recorded_by_id,
    }


@transaction.atomic
def batch_record(
    *,
    actor: Any,
    project: Project,
    part: str,
    volume_m3: decimal.Decimal | str,
    strength_grade: str,
    curing: str,
    producer: str,
    photos: Sequence[PhotoIn],
    latitude: decimal.Decimal | str | float | None,
    longitude: decimal.Decimal | str | float | None,
    accuracy_m: int | None = None,
    delivery_note: str = "",
    produced_at: datetime.datetime | None = None,
    slump_mm: int | None = None,
) -> ConcreteBatch:
    """Record a concrete batch on arrival (Nanchang 四(一): 混凝土进场 with the slump test
    placard photo; T/CECS 4.3.4-1): by a sampler of a party of the project, with at least
    one slump placard photo, the phone's position and the server's time (the arrival).
    The recorder confirms it next (:func:`batch_confirm`)."""

    if not permissions.may_record_on(actor, project):
        raise PermissionDenied(_("只有本项目参建单位的取样人（试验员）可以记录混凝土进场。"))
    if curing not in CuringCondition.values:
        raise AppError(ErrorCode.INVALID_INPUT, _("养护条件须为标准养护或同条件养护。"), {"field": "curing"})
    latitude, longitude = _position(latitude, longitude, _("混凝土进场"))
    if not any(p.kind == PhotoKind.SLUMP for p in photos):
        raise AppError(ErrorCode.PHOTOS_REQUIRED, _("请拍摄坍落度检测举牌照片。"))
    if any(p.kind not in (PhotoKind.SLUMP, PhotoKind.OTHER) for p in photos):
        raise AppError(ErrorCode.INVALID_INPUT, _("混凝土进场照片只能是坍落度举牌照片或其他现场照片。"))
    for p in photos:
        _photo_of(actor, p.file)
    now = timezone.now()
    if produced_at is not None and produced_at > now:
        raise AppError(ErrorCode.INVALID_INPUT, _("生产时间不能晚于进场时间。"), {"field": "produced_at"})
    batch = ConcreteBatch(
        project=project,
        part=part.strip(),
        volume_m3=decimal.Decimal(str(volume_m3)).quantize(decimal.Decimal("0.01")),
        strength_grade=strength_grade.strip(),
        curing=curing,
        producer=producer.strip(),
        delivery_note=delivery_note.strip(),
        produced_at=produced_at,
        arrived_at=now,
        slump_mm=slump_mm,
        recorded_by=actor_of(actor).user,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        distance_m=_distance(project, latitude, longitude),
        record_sha256="",
    )
    try:
        batch.full_clean(exclude=["record_sha256"])
    except Exception as e:  # ValidationError: bad input changes nothing
        raise AppError(ErrorCode.INVALID_INPUT, _("混凝土进场记录填写有误：%(e)s") % {"e": e}) from None
    audit_stamp(batch, actor)
    batch.save()
    for p in photos:
        _batch_photo(batch, p.kind, p.file, actor)
    batch.record_sha256 = _digest(batch_record_document(batch))
    audit_stamp(batch, actor)
    batch.save(update_fields=["record_sha256"])
    if far := _far(batch.distance_m, batch.project.region_id):
        _batch_finding(batch, SamplingRule.LOCATION_FAR, far.pop("detail"), **far)
    return batch


def batch_challenge(batch: ConcreteBatch, person: User) -> tuple[str, str]:
    """The step and the challenge of ``person``'s confirmation of ``batch`` now."""

    first = batch.confirmations.filter(step=CustodyStep.RECORDER).first()
    if first is None:
        return CustodyStep.RECORDER, batch.record_sha256
    return CustodyStep.SECOND, _second_digest(batch.record_sha256, first, person.pk)


@refusal_findings()
@transaction.atomic
def batch_confirm(
    *,
    actor: Any,
    batch: ConcreteBatch,
    live_photo: StoredFile,
    assertion: str | dict[str, Any] | None = None,
    totp_code: str = "",
    latitude: decimal.Decimal | str | float | None = None,
    longitude: decimal.Decimal | str | float | None = None,
    accuracy_m: int | None = None,
) -> ConcreteBatchConfirmation:
    """Confirm a batch: its recorder, then a witness of the project who is not the
    recorder (57号令 第十八条; Nanchang 四(一)). The witness's confirmation appends the
    batch to the log with the SHA-256 of its photos; later than the window after the
    arrival, a finding."""

    batch = ConcreteBatch.objects.select_for_update().select_related("project").get(pk=batch.pk)
    user = actor_of(actor).user
    if user is None:
        raise PermissionDenied(_("只有本人可以确认。"))
    if batch.confirmed_at is not None:
        raise AppError(ErrorCode.CUSTODY_NOT_PENDING, _("该混凝土进场记录已完成双方确认。"))
    if not permissions.may_confirm_batch(actor, batch):
        if not batch.confirmations.exists():
            raise PermissionDenied(_("该混凝土进场记录须由记录人本人先确认。"))
        raise PermissionDenied(_("只有本项目建设或监理单位的见证人可以确认，且不能是记录人本人。"))
    step, challenge = batch_challenge(batch, user)
    confirmation = confirmation_make(
        ConcreteBatchConfirmation(batch=batch, step=step),
        actor=actor,
        challenge=challenge,
        live_photo=live_photo,
        assertion=assertion,
        totp_code=totp_code,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        on_identity_failure=lambda person, exc: _batch_finding(
            batch,
            SamplingRule.IDENTITY_FAILED,
            identity_detail(person, exc),
            key=f"identity:{batch.pk}:{person.pk}",
            code=str(exc.code),
            person=person.pk,
        ),
    )
    _batch_photo(batch, PhotoKind.LIVE, live_photo, actor)
    if step == CustodyStep.RECORDER:
        return confirmation
    batch.witness = user
    batch.confirmed_at = confirmation.at
    audit_stamp(batch, actor)
    batch.save(update_fields=["witness", "confirmed_at"])
    if late := _window_exceeded(batch.arrived_at, confirmation.at, batch.project.region_id):
        _batch_finding(batch, SamplingRule.WINDOW_EXCEEDED, late.pop("detail"), **late)
    log_append(kind=SamplingLogKind.CONCRETE_BATCH, record=batch)
    return confirmation


# ------------------------------------------------------------------ custody events


def curing_open(sample: Sample) -> CustodyEvent | None:
    """The sample's curing-room entry not yet followed by an exit, if any."""

    last = sample.custody_events.filter(kind__in=(CustodyEventKind.CURING_IN, CustodyEventKind.CURING_OUT)).last()
    return last if last is not None and last.kind == CustodyEventKind.CURING_IN else None


def custody_refusal(who: Any, sample: Sample, kind: str) -> AppError | PermissionDenied | None:
    """Why ``who`` may not record a ``kind`` event on ``sample`` now, or ``None``: the one
    check the service, the API and the pages share."""

    if kind not in CustodyEventKind.values:
        return AppError(ErrorCode.INVALID_INPUT, _("未知的流转事件。"), {"field": "kind"})
    if sample.status != SampleStatus.SEALED:
        return AppError(ErrorCode.CUSTODY_ORDER, _("样品须在见证封样之后、收样之前记录养护和运输交接。"))
    if not permissions.may_record_custody(who, sample, kind):
        if kind == CustodyEventKind.TRANSPORT:
            return PermissionDenied(_("只有本项目参建单位的送样人员可以记录运输交接。"))
        return PermissionDenied(_("只有本项目参建单位的取样人（试验员）可以记录养护入室、出室。"))
    if sample.custody_events.filter(confirmed_at__isnull=True).exists():
        return AppError(ErrorCode.CUSTODY_ORDER, _("该样品上一流转事件尚未完成双方确认。"))
    curing = curing_open(sample)
    if kind == CustodyEventKind.CURING_OUT and curing is None:
        return AppError(ErrorCode.CUSTODY_ORDER, _("样品尚未入养护室，不能出室。"))
    if kind == CustodyEventKind.CURING_IN and curing is not None:
        return AppError(ErrorCode.CUSTODY_ORDER, _("样品已在养护室中。"))
    if kind == CustodyEventKind.TRANSPORT and curing is not None:
        return AppError(ErrorCode.CUSTODY_ORDER, _("样品仍在养护室中，须先出室再运输交接。"))
    return None


def custody_actions(who: Any, sample: Sample) -> list[str]:
    """The events ``who`` may record on ``sample`` now (what the sample's page offers)."""

    if sample.status != SampleStatus.SEALED:
        return []
    return [k for k in CustodyEventKind.values if custody_refusal(who, sample, k) is None]


def _custody_finding(event: CustodyEvent, rule: str, detail: str, key: str = "", **details: Any) -> None:
    _finding(event.sample, rule, detail, key=key or f"custody:{event.pk}", event=event.pk, **details)


def custody_record_document(event: CustodyEvent) -> dict[str, Any]:
    """What the recorder confirms: the event, its photos (by SHA-256), the place and the
    server time. Ids and codes only, no names."""

    return {
        "sample": event.sample.code,
        "kind": event.kind,
        "recorded_by": event.recorded_by_id,
        "to_person": event.to_person_id,
        "room": event.room,
        "age_days": event.age_days,
        "note": event.note,
        "at": format_time(event.at),
        "photos": [[p.kind, p.sha256] for p in event.photos.exclude(kind=PhotoKind.LIVE).order_by("pk")],
        "latitude": _coordinate(event.latitude),
        "longitude": _coordinate(event.longitude),
    }


@transaction.atomic
def custody_record(
    *,
    actor: Any,
    sample: Sample,
    kind: str,
    photos: Sequence[StoredFile],
    latitude: decimal.Decimal | str | float | None,
    longitude: decimal.Decimal | str | float | None,
    accuracy_m: int | None = None,
    to_person: User | None = None,
    room: str = "",
    age_days: int | None = None,
    note: str = "",
) -> CustodyEvent:
    """Record a custody event of a sealed sample (Nanchang 四(三); T/CECS 4.3.4-2): into
    the curing room (``room``), out of it at ``age_days`` (default
    ``INSPECTA_CURING_AGE_DAYS``; before that age since the sampling, a finding), or a
    transport handover to ``to_person`` (a person of a party of the project who delivers
    samples). With at least one photo, the position and the server time. The recorder
    confirms it next (:func:`custody_confirm`)."""

    sample = Sample.objects.select_for_update().select_related("project").get(pk=sample.pk)
    refusal = custody_refusal(actor, sample, kind)
    if refusal is not None:
        raise refusal
    user = actor_of(actor).user
    latitude, longitude = _position(latitude, longitude, _("流转事件"))
    if not photos:
        raise AppError(ErrorCode.PHOTOS_REQUIRED, _("请至少拍摄一张现场照片。"))
    for p in photos:
        _photo_of(actor, p)
    if kind == CustodyEventKind.TRANSPORT:
        if to_person is None:
            raise AppError(ErrorCode.CUSTODY_PERSON_INVALID, _("请选择接收样品的人员。"), {"field": "to_person_id"})
        if (
            user is None
            or to_person.pk == user.pk
            or not permissions.may_record_custody(to_person, sample, CustodyEventKind.TRANSPORT)
        ):
            raise AppError(
                ErrorCode.CUSTODY_PERSON_INVALID,
                _("接收人须是本项目参建单位的送样人员，且不能是交出人本人。"),
                {"field": "to_person_id"},
            )
    else:
        to_person = None
    if kind == CustodyEventKind.CURING_OUT:
        age_days = age_days or rule_value(CURING_AGE_DAYS, sample.project.region_id, sample.test_item_id)[0]
        if not 1 <= age_days <= 365:
            raise AppError(ErrorCode.INVALID_INPUT, _("龄期须在 1 至 365 天之间。"), {"field": "age_days"})
    else:
        age_days = None
    now = timezone.now()
    event = CustodyEvent(
        sample=sample,
        kind=kind,
        recorded_by=user,
        to_person=to_person,
        room=room.strip()[:200],
        age_days=age_days,
        note=note.strip()[:255],
        at=now,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        distance_m=_distance(sample.project, latitude, longitude),
        record_sha256="",
    )
    audit_stamp(event, actor)
    event.save()
    for p in photos:
        _custody_photo(event, PhotoKind.CUSTODY, p, actor)
    event.record_sha256 = _digest(custody_record_document(event))
    audit_stamp(event, actor)
    event.save(update_fields=["record_sha256"])
    if far := _far(event.distance_m, sample.project.region_id, sample.test_item_id):
        _custody_finding(event, SamplingRule.CUSTODY_LOCATION_FAR, far.pop("detail"), **far)
    if kind == CustodyEventKind.CURING_OUT and age_days is not None:
        age = now - sample.sampled_at
        if age < datetime.timedelta(days=age_days):
            _custody_finding(
                event,
                SamplingRule.CURING_OUT_EARLY,
                _("试件龄期 %(a)s 天即出养护室，未到 %(d)s 天。") % {"a": age.days, "d": age_days},
                age_seconds=int(age.total_seconds()),
                age_days=age_days,
            )
    return event


def _custody_photo(event: CustodyEvent, kind: str, stored: StoredFile, actor: Any) -> CustodyPhoto:
    photo, near = photo_keep(CustodyPhoto(event=event, kind=kind), stored, actor, exclude_sample=event.sample_id)
    if near is not None:
        _finding(
            event.sample,
            SamplingRule.PHOTO_DUPLICATE,
            duplicate_detail(near),
            key=f"custodyphoto:{photo.pk}",
            event=event.pk,
            photo=photo.pk,
            earlier_photo=near.photo_id,
            earlier_table=near.table,
            earlier_sample=near.sample_id,
            distance=near.distance,
        )
    return photo


def custody_challenge(event: CustodyEvent, person: User) -> tuple[str, str]:
    """The step and the challenge of ``person``'s confirmation of ``event`` now."""

    first = event.confirmations.filter(step=CustodyStep.RECORDER).first()
    if first is None:
        return CustodyStep.RECORDER, event.record_sha256
    return CustodyStep.SECOND, _second_digest(event.record_sha256, first, person.pk)


@refusal_findings()
@transaction.atomic
def custody_confirm(
    *,
    actor: Any,
    event: CustodyEvent,
    live_photo: StoredFile,
    assertion: str | dict[str, Any] | None = None,
    totp_code: str = "",
    latitude: decimal.Decimal | str | float | None = None,
    longitude: decimal.Decimal | str | float | None = None,
    accuracy_m: int | None = None,
) -> CustodyConfirmation:
    """Confirm a custody event: its recorder, then the second party (a witness for the
    curing room, the person taking the sample for a handover; 57号令 第十八条; Nanchang
    四(三)). The second confirmation appends the event to the log with the SHA-256 of its
    photos; later than the window after the event, a finding."""

    event = CustodyEvent.objects.select_for_update().select_related("sample__project").get(pk=event.pk)
    user = actor_of(actor).user
    if user is None:
        raise PermissionDenied(_("只有本人可以确认。"))
    if event.confirmed_at is not None:
        raise AppError(ErrorCode.CUSTODY_NOT_PENDING, _("该流转事件已完成双方确认。"))
    if not permissions.may_confirm_custody(actor, event):
        if not event.confirmations.exists():
            raise PermissionDenied(_("该流转事件须由记录人本人先确认。"))
        if event.kind == CustodyEventKind.TRANSPORT:
            raise PermissionDenied(_("只有交接记录中指定的接收人可以确认。"))
        raise PermissionDenied(_("只有本项目建设或监理单位的见证人可以确认，且不能是记录人本人。"))
    step, challenge = custody_challenge(event, user)
    confirmation = confirmation_make(
        CustodyConfirmation(event=event, step=step),
        actor=actor,
        challenge=challenge,
        live_photo=live_photo,
        assertion=assertion,
        totp_code=totp_code,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        on_identity_failure=lambda person, exc: _custody_finding(
            event,
            SamplingRule.IDENTITY_FAILED,
            identity_detail(person, exc),
            key=f"identity:custody:{event.pk}:{person.pk}",
            code=str(exc.code),
            person=person.pk,
        ),
    )
    _custody_photo(event, PhotoKind.LIVE, live_photo, actor)
    if step == CustodyStep.RECORDER:
        return confirmation
    event.confirmed_at = confirmation.at
    audit_stamp(event, actor)
    event.save(update_fields=["confirmed_at"])
    if late := _window_exceeded(event.at, confirmation.at, event.sample.project.region_id, event.sample.test_item_id):
        _custody_finding(event, SamplingRule.CUSTODY_WINDOW_EXCEEDED, late.pop("detail"), **late)
    log_append(kind=SamplingLogKind.CUSTODY_EVENT, record=event)
    return confirmation


def receipt_curing_check(sample: Sample) -> None:
    """At receipt: a sample still in the curing room (in without out) is a finding
    (Nanchang 四(三))."""

    curing = curing_open(sample)
    if curing is not None:
        _finding(
            sample,
            SamplingRule.CURING_AT_RECEIPT,
            _("收样时样品仍在养护室中（%(t)s 入室，未记录出室）。")
            % {"t": timezone.localtime(curing.at).strftime("%Y-%m-%d %H:%M")},
            key=f"custody:{curing.pk}:receipt",
            event=curing.pk,
        )
