"""Every write of the chain of custody (STYLE.md 4; 57号令 第十八条、第十九条; T/CECS 2.0.5,
2.0.6, 2.0.16, 4.3.4-1/-2; Nanchang 四(一)-(二)). Keyword-only, transactional, audited;
witness records and seals are appended to the transparency log (CONTRACT §5).

The sampler records a sampling (``sample_record``) and confirms it; the witness confirms
it in turn, which seals the sample (``sample_confirm``). A confirmation is an identity
proof over the SHA-256 of exactly what is confirmed (``record_digest``,
``witness_digest``): a passkey assertion whose challenge is that digest, or the TOTP
fallback (``accounts.passkeys.identity_confirm``).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import functools
import hashlib
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import rfc8785
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.models import User
from inspecta.accounts.passkeys import identity_confirm
from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_stamp
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.files import file_read
from inspecta.core.findings import keep_after_refusal, refusal_findings
from inspecta.core.imaging import phash_bands, phash_distance, photo_phash
from inspecta.core.models import StoredFile, TestItem
from inspecta.core.regionrules import rule_value
from inspecta.ledger.services import format_time, log_append, signing_key_active
from inspecta.projects.choices import ProjectDuty
from inspecta.projects.models import Project
from inspecta.registry.models import Agency

from . import permissions
from .choices import ConfirmationStep, PhotoKind, ReceiptOutcome, SampleStatus, SamplingLogKind, SamplingRule, TagKind
from .codes import sample_code_next
from .models import (
    ConcreteBatch,
    Confirmation,
    Handover,
    HashedPhoto,
    PersonConfirmation,
    Receipt,
    Sample,
    SamplePhoto,
    SamplingFinding,
    Seal,
    Specimen,
)
from .photos import NearDuplicate, near_duplicates
from .regionrules import MAX_DISTANCE_M, RECEIPT_PHOTO_DISTANCE, SEAL_FAILURE_ACTION, WINDOW_MINUTES
from .seal import SealClaims, seal_decode, seal_encode

__all__ = [
    "HANDOVER_PREFIX",
    "SAMPLING_PHOTO_KINDS",
    "PhotoIn",
    "TagIn",
    "chained_digest",
    "confirmation_make",
    "distance_m",
    "duplicate_detail",
    "handover_challenge",
    "handover_issue",
    "photo_keep",
    "record_digest",
    "sample_confirm",
    "sample_receive",
    "sample_record",
    "sampling_photos",
    "sampling_record",
    "seal_verify",
    "witness_digest",
]

C = TypeVar("C", bound=PersonConfirmation)

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")


@dataclass(frozen=True)
class TagIn:
    tag_id: str
    kind: str = TagKind.LABEL


@dataclass(frozen=True)
class PhotoIn:
    kind: str
    file: StoredFile


def distance_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> int:
    """Great-circle distance in metres (haversine, WGS-84 mean radius)."""

    r = 6_371_008.8
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * r * math.asin(min(1.0, math.sqrt(a))))


def _coordinate(value: Any) -> str | None:
    return None if value is None else f"{decimal.Decimal(value):.6f}"


SAMPLING_PHOTO_KINDS = (PhotoKind.SPECIMEN, PhotoKind.PLACARD, PhotoKind.SLUMP, PhotoKind.OTHER)
"""The kinds of photo taken with the sampling itself; live photos of the people who
confirm and receipt photos are added later, by the steps they belong to."""


def sampling_photos(sample: Sample) -> list[SamplePhoto]:
    """The photos of the sampling record, in the order they were taken: what the sampler
    confirmed, unchanged by the confirmations and the receipt that add photos later."""

    return list(sample.photos.filter(kind__in=SAMPLING_PHOTO_KINDS).order_by("pk"))


def sampling_record(sample: Sample) -> dict[str, Any]:
    """What the sampler confirms: the sample, its tags, its photos (by SHA-256), the
    place and the server time. Ids and codes only, no names."""

    return {
        "code": sample.code,
        "project": sample.project_id,
        "agency": sample.agency_id,
        "test_item": sample.test_item.code,
        "part": sample.part,
        "batch": sample.batch,
        "count": sample.count,
        "dimensions": sample.dimensions,
        "description": sample.description,
        "tags": [[s.tag_id, s.tag_kind] for s in sample.specimens.order_by("number")],
        "photos": [[p.kind, p.sha256] for p in sampling_photos(sample)],
        "sampled_at": format_time(sample.sampled_at),
        "latitude": _coordinate(sample.latitude),
        "longitude": _coordinate(sample.longitude),
        "sampler": sample.sampler_id,
        **({"concrete_batch": sample.concrete_batch_id} if sample.concrete_batch_id else {}),
    }


def _digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def record_digest(sample: Sample) -> str:
    """SHA-256 of the canonical JSON (RFC 8785) of :func:`sampling_record`: the challenge
    of the sampler's confirmation."""

    return _digest(sampling_record(sample))


def witness_digest(sample: Sample, witness_id: int) -> str:
    """The challenge of the witness's confirmation: the sampling record and the sampler's
    confirmation (its own challenge and signature), so the witness confirms both."""

    first = sample.confirmations.get(step=ConfirmationStep.SAMPLING)
    return chained_digest(sample.record_sha256, "sampling_confirmation", first, witness_id)


def chained_digest(record_sha256: str, name: str, first: PersonConfirmation, witness_id: int) -> str:
    """The challenge of a second confirmation (the witness's): the record and the first
    confirmation (its challenge, factor, signature and time) under ``name``, and the
    witness, so the witness confirms both (a sample, a commission)."""

    return _digest(
        {
            "record": record_sha256,
            name: {
                "challenge": first.challenge,
                "factor": first.factor,
                "signature": first.proof.get("signature", ""),
                "at": format_time(first.at),
            },
            "witness": witness_id,
        }
    )


def _finding(sample: Sample, rule: str, detail: str, key: str = "", **details: Any) -> None:
    key = key or f"sample:{sample.pk}"
    region = sample.project.region_id
    SamplingFinding.keep(
        sample=sample,
        rule=rule,
        key=key,
        subject=sample.code,
        region=region,
        detail=detail,
        defaults={"details": details},
    )


def unnamed_finding(sample: Sample, duty: str) -> None:
    """A sampling or witnessing on a project that names nobody for that duty (Nanchang
    一(二): the project names its samplers and witnesses; ``projects.ProjectPerson``)."""

    from inspecta.projects.selectors import named_people

    if named_people(sample.project_id, duty):
        return
    _finding(
        sample,
        SamplingRule.PEOPLE_NOT_NAMED,
        _("项目未指定%(duty)s，由参建单位的%(duty)s办理。") % {"duty": ProjectDuty(duty).label},
        key=f"sample:{sample.pk}:{duty}",
        duty=duty,
    )


def _photo_of(actor: Any, stored: StoredFile) -> StoredFile:
    """A photo the actor uploaded itself (through tus or the page), of an image type."""

    org = actor_of(actor).organisation
    if org is None or stored.organisation_id != org.pk:
        raise AppError(ErrorCode.UNKNOWN_FILE, _("照片文件不存在。"))
    if stored.content_type not in PHOTO_TYPES:
        raise AppError(ErrorCode.UNSUPPORTED_FILE_TYPE, _("照片只接受 JPEG、PNG、WebP 或 HEIC 图片。"))
    return stored


P = TypeVar("P", bound=HashedPhoto)


def photo_keep(
    photo: P,
    stored: StoredFile,
    actor: Any,
    *,
    exclude_sample: int | None = None,
    exclude: tuple[type[HashedPhoto], int] | None = None,
) -> tuple[P, NearDuplicate | None]:
    """Save ``photo`` (any :class:`HashedPhoto`, its owner and kind set) for ``stored``
    with its SHA-256 and perceptual hash; return it and the nearest earlier photo on the
    platform within the duplicate distance, if any (``sampling.photos``). The caller
    records the finding: a photo of a sample, a batch, a custody event."""

    phash = photo_phash(file_read(stored)) or ""
    photo.file = stored
    photo.sha256 = stored.sha256
    photo.phash = phash
    photo.band0, photo.band1, photo.band2, photo.band3 = phash_bands(phash) if phash else (None, None, None, None)
    audit_stamp(photo, actor)
    photo.save()
    if not phash or getattr(photo, "kind", "") == PhotoKind.LIVE:
        return photo, None
    near = near_duplicates(phash, exclude_sample=exclude_sample, exclude=exclude, limit=1)
    return photo, (near[0] if near else None)


def duplicate_detail(near: NearDuplicate) -> str:
    return _("照片与平台上已有的照片近似重复（差异 %(d)s 位）。") % {"d": near.distance}


def _photo_add(sample: Sample, kind: str, stored: StoredFile, actor: Any) -> SamplePhoto:
    photo, near = photo_keep(SamplePhoto(sample=sample, kind=kind), stored, actor, exclude_sample=sample.pk)
    if near is not None:
        _finding(
            sample,
            SamplingRule.PHOTO_DUPLICATE,
            duplicate_detail(near),
            key=f"photo:{photo.pk}",
            photo=photo.pk,
            earlier_photo=near.photo_id,
            earlier_sample=near.sample_id,
            distance=near.distance,
        )
    return photo


@transaction.atomic
def sample_record(
    *,
    actor: Any,
    project: Project,
    agency: Agency,
    test_item: TestItem,
    part: str,
    count: int,
    tags: Sequence[TagIn],
    photos: Sequence[PhotoIn],
    latitude: decimal.Decimal | str | float | None,
    longitude: decimal.Decimal | str | float | None,
    accuracy_m: int | None = None,
    batch: str = "",
    dimensions: str = "",
    description: str = "",
    concrete_batch: ConcreteBatch | None = None,
) -> Sample:
    """Record a sampling on site (57号令 第十八条; T/CECS 4.3.4-1/-2; Nanchang 四(一)): the
    specimens with their tags, the photos of the specimens showing their tags and the
    placard photo (举牌验证照片), the phone's position and the server's time. The sample
    gets its unique code; the sampler confirms it next (:func:`sample_confirm`). A sample
    of concrete names the batch it was taken from (``concrete_batch``, of this project;
    ``sampling.custody``)."""

    if not permissions.may_record_on(actor, project):
        raise PermissionDenied(_("只有本项目参建单位的取样人可以记录取样。"))
    if agency.pk not in project.agency_ids():
        raise AppError(ErrorCode.AGENCY_NOT_PARTY, _("所选检测机构不是本项目的检测单位。"))
    if latitude is None or longitude is None:
        raise AppError(ErrorCode.LOCATION_REQUIRED, _("请允许手机定位后再记录取样，取样位置必须记录。"))
    tag_ids = [t.tag_id.strip() for t in tags]
    if len(tag_ids) != count or len(set(tag_ids)) != len(tag_ids) or not all(tag_ids):
        raise AppError(
            ErrorCode.TAGS_MISMATCH,
            _("每个试件须扫描一个不同的样品标识：试件 %(n)s 个，标识 %(t)s 个。")
            % {"n": count, "t": len(set(tag_ids))},
        )
    taken = list(Specimen.objects.filter(tag_id__in=tag_ids).values_list("tag_id", flat=True))
    if taken:
        raise AppError(ErrorCode.TAG_TAKEN, _("样品标识已被使用：%(t)s。") % {"t": "、".join(taken)})
    kinds = {p.kind for p in photos}
    if PhotoKind.SPECIMEN not in kinds or PhotoKind.PLACARD not in kinds:
        raise AppError(ErrorCode.PHOTOS_REQUIRED, _("请至少拍摄一张试件照片（含标识）和一张举牌验证照片。"))
    for p in photos:
        _photo_of(actor, p.file)
    if concrete_batch is not None and concrete_batch.project_id != project.pk:
        raise AppError(ErrorCode.INVALID_INPUT, _("所选混凝土批次不属于本项目。"), {"field": "concrete_batch_id"})

    now = timezone.now()
    user = actor_of(actor).user
    sample = Sample(
        code=sample_code_next(project.region_id, timezone.localtime(now).year),
        project=project,
        agency=agency,
        test_item=test_item,
        part=part,
        batch=batch,
        count=count,
        dimensions=dimensions,
        description=description,
        concrete_batch=concrete_batch,
        sampler=user,
        sampled_at=now,
        latitude=decimal.Decimal(str(latitude)).quantize(decimal.Decimal("0.000001")),
        longitude=decimal.Decimal(str(longitude)).quantize(decimal.Decimal("0.000001")),
        accuracy_m=accuracy_m,
        record_sha256="",
        updated_at=now,
    )
    if project.latitude is not None and project.longitude is not None:
        sample.distance_m = distance_m(sample.latitude, sample.longitude, project.latitude, project.longitude)
    sample.full_clean(exclude=["record_sha256"])
    audit_stamp(sample, actor)
    sample.save()
    for number, tag in enumerate(tags, 1):
        specimen = Specimen(sample=sample, number=number, tag_id=tag.tag_id.strip(), tag_kind=tag.kind)
        audit_stamp(specimen, actor)
        specimen.save()
    for p in photos:
        _photo_add(sample, p.kind, p.file, actor)
    sample.record_sha256 = record_digest(sample)
    audit_stamp(sample, actor)
    sample.save(update_fields=["record_sha256"])

    limit, _rule = rule_value(MAX_DISTANCE_M, project.region_id, test_item.code)
    if sample.distance_m is not None and sample.distance_m > limit:
        _finding(
            sample,
            SamplingRule.LOCATION_FAR,
            _("取样位置距项目 %(d)s 米，超过 %(l)s 米。") % {"d": sample.distance_m, "l": limit},
            distance_m=sample.distance_m,
            limit_m=limit,
        )
    unnamed_finding(sample, ProjectDuty.SAMPLER)
    return sample


def _seal(sample: Sample, confirmation: Confirmation) -> Seal:
    key = signing_key_active()
    claims = SealClaims(
        code=sample.code,
        tags=tuple(sample.specimens.order_by("number").values_list("tag_id", flat=True)),
        photo_hashes=tuple(
            sample.photos.filter(kind=PhotoKind.SPECIMEN)
            .exclude(phash="")
            .order_by("pk")
            .values_list("phash", flat=True)
        ),
        count=sample.count,
        dimensions=sample.dimensions,
        sealed_at=confirmation.at,
        latitude=_coordinate(confirmation.latitude if confirmation.latitude is not None else sample.latitude),
        longitude=_coordinate(confirmation.longitude if confirmation.longitude is not None else sample.longitude),
        region=sample.project.region_id,
        witness_assertion_sha256=hashlib.sha256(rfc8785.dumps(confirmation.proof)).hexdigest(),
    )
    text = seal_encode(claims)
    return Seal.objects.create(
        sample=sample,
        text=text,
        kid=key.key_hash,
        claims={**dataclasses.asdict(claims), "sealed_at": format_time(claims.sealed_at)},
        sealed_by=confirmation.person,
        sealed_at=confirmation.at,
    )


IDENTITY_FAILURES = frozenset(
    {
        ErrorCode.PASSKEY_INVALID,
        ErrorCode.PASSKEY_UNKNOWN,
        ErrorCode.PASSKEY_SIGN_COUNT_REGRESSED,
        ErrorCode.TOTP_INVALID,
    }
)
"""Identity proofs that were given and failed (a missing one is not a finding)."""


def identity_detail(user: User, exc: AppError) -> str:
    return _("%(name)s 的身份核验未通过：%(message)s") % {"name": user.full_name, "message": exc.message}


def confirmation_make(
    confirmation: C,
    *,
    actor: Any,
    challenge: str,
    live_photo: StoredFile,
    assertion: str | dict[str, Any] | None = None,
    totp_code: str = "",
    latitude: decimal.Decimal | str | float | None = None,
    longitude: decimal.Decimal | str | float | None = None,
    accuracy_m: int | None = None,
    on_identity_failure: Callable[[User, AppError], None] | None = None,
) -> C:
    """Complete and save ``confirmation`` (any :class:`PersonConfirmation`: of a sample, a
    commission, a custody event) for the acting person (T/CECS 4.3.4-2): their identity
    proof over ``challenge`` (the SHA-256 of the record confirmed; a passkey assertion or
    the TOTP fallback), the live photo they uploaded, the phone's position and the server
    time. Refuses without a position or a proof; the caller holds the transaction. A proof
    that fails (not a missing one) is refused and, through ``on_identity_failure``, kept
    as a finding once the refusal has rolled back (``core.findings.keep_after_refusal``;
    the caller runs inside ``refusal_findings``)."""

    user = actor_of(actor).user
    if user is None:
        raise PermissionDenied(_("只有本人可以确认。"))
    if latitude is None or longitude is None:
        raise AppError(ErrorCode.LOCATION_REQUIRED, _("请允许手机定位后再确认，确认位置必须记录。"))
    _photo_of(actor, live_photo)
    try:
        proof = identity_confirm(
            user=user, challenge=bytes.fromhex(challenge), assertion=assertion, totp_code=totp_code
        )
    except AppError as exc:
        if on_identity_failure is not None and exc.code in IDENTITY_FAILURES:
            keep_after_refusal(functools.partial(on_identity_failure, user, exc))
        raise
    confirmation.person = user
    confirmation.factor = proof.factor
    confirmation.challenge = challenge
    confirmation.proof = proof.as_record()
    confirmation.live_photo = live_photo
    confirmation.live_photo_sha256 = live_photo.sha256
    confirmation.latitude = decimal.Decimal(str(latitude)).quantize(decimal.Decimal("0.000001"))
    confirmation.longitude = decimal.Decimal(str(longitude)).quantize(decimal.Decimal("0.000001"))
    confirmation.accuracy_m = accuracy_m
    confirmation.at = timezone.now()
    audit_stamp(confirmation, actor)
    confirmation.save()
    return confirmation


@refusal_findings()
@transaction.atomic
def sample_confirm(
    *,
    actor: Any,
    sample: Sample,
    live_photo: StoredFile,
    assertion: str | dict[str, Any] | None = None,
    totp_code: str = "",
    latitude: decimal.Decimal | str | float | None = None,
    longitude: decimal.Decimal | str | float | None = None,
    accuracy_m: int | None = None,
) -> Confirmation:
    """Confirm a sample: first its sampler, then a witness of the project (57号令 第十八条;
    T/CECS 4.3.4-2; Nanchang 四(一)). The identity proof's challenge is the SHA-256 of
    what is confirmed; a live photo is taken with it. The witness's confirmation writes
    the witness record to the log and seals the sample (T/CECS 2.0.16). Both confirmations
    later than the region's window after the sampling is a finding."""

    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    user = actor_of(actor).user
    if user is None:
        raise PermissionDenied(_("只有本人可以确认。"))
    if sample.status not in (SampleStatus.RECORDED, SampleStatus.CONFIRMED):
        raise AppError(ErrorCode.SAMPLE_NOT_PENDING, _("该样品已完成见证封样，不能再次确认。"))
    if not permissions.may_confirm(actor, sample):
        if sample.status == SampleStatus.RECORDED:
            raise PermissionDenied(_("该样品须由取样人本人先确认。"))
        raise PermissionDenied(_("只有本项目建设或监理单位的见证人可以见证，且见证人不能是取样人本人。"))
    if latitude is None or longitude is None:
        raise AppError(ErrorCode.LOCATION_REQUIRED, _("请允许手机定位后再确认，确认位置必须记录。"))
    step = ConfirmationStep.SAMPLING if sample.status == SampleStatus.RECORDED else ConfirmationStep.WITNESS
    challenge = sample.record_sha256 if step == ConfirmationStep.SAMPLING else witness_digest(sample, user.pk)
    confirmation = confirmation_make(
        Confirmation(sample=sample, step=step),
        actor=actor,
        challenge=challenge,
        live_photo=live_photo,
        assertion=assertion,
        totp_code=totp_code,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        on_identity_failure=lambda person, exc: _finding(
            sample,
            SamplingRule.IDENTITY_FAILED,
            identity_detail(person, exc),
            key=f"identity:{sample.pk}:{person.pk}",
            code=str(exc.code),
            person=person.pk,
            step=step,
        ),
    )
    _photo_add(sample, PhotoKind.LIVE, live_photo, actor)

    if step == ConfirmationStep.SAMPLING:
        sample.status = SampleStatus.CONFIRMED
        sample.updated_at = confirmation.at
        audit_stamp(sample, actor)
        sample.save(update_fields=["status", "updated_at"])
        return confirmation

    sample.status = SampleStatus.SEALED
    sample.witness = user
    sample.witnessed_at = confirmation.at
    sample.updated_at = confirmation.at
    audit_stamp(sample, actor)
    sample.save(update_fields=["status", "witness", "witnessed_at", "updated_at"])
    minutes, _rule = rule_value(WINDOW_MINUTES, sample.project.region_id, sample.test_item_id)
    elapsed = confirmation.at - sample.sampled_at
    if elapsed > datetime.timedelta(minutes=minutes):
        _finding(
            sample,
            SamplingRule.WINDOW_EXCEEDED,
            _("取样后 %(m)s 分钟才完成双方确认，超过 %(w)s 分钟。")
            % {"m": int(elapsed.total_seconds() // 60), "w": minutes},
            elapsed_seconds=int(elapsed.total_seconds()),
            window_minutes=minutes,
        )
    unnamed_finding(sample, ProjectDuty.WITNESS)
    seal = _seal(sample, confirmation)
    log_append(kind=SamplingLogKind.WITNESS_RECORD, record=sample)
    log_append(kind=SamplingLogKind.SEAL, record=seal)
    return confirmation


# ------------------------------------------------------------------- handover and receipt

_HANDOVER_SALT = "inspecta.sampling.handover"
HANDOVER_PREFIX = "HANDOVER1:"


def handover_challenge(*, actor: Any) -> tuple[str, str]:
    """A fresh nonce for the deliverer's identity proof and the challenge it gives: the
    SHA-256 of ``{"handover": <person>, "nonce": <nonce>}``. The nonce is signed by the
    platform (valid for ``INSPECTA_HANDOVER_SECONDS``) and used once."""

    user = actor_of(actor).user
    if user is None or not permissions.may_deliver(actor_of(actor)):
        raise PermissionDenied(_("只有参建单位的人员可以送样。"))
    nonce = secrets.token_urlsafe(18)
    signed = signing.TimestampSigner(salt=_HANDOVER_SALT).sign(f"{user.pk}:{nonce}")
    return signed, _digest({"handover": user.pk, "nonce": nonce})


@transaction.atomic
def handover_issue(
    *, actor: Any, nonce: str, assertion: str | dict[str, Any] | None = None, totp_code: str = ""
) -> tuple[Handover, str]:
    """The deliverer's one-time code after their identity proof over the challenge of
    ``nonce`` (Nanchang 四(四)2). Returns the record and the code (``HANDOVER1:...``),
    shown once as a QR on the deliverer's phone."""

    user = actor_of(actor).user
    if user is None or not permissions.may_deliver(actor_of(actor)):
        raise PermissionDenied(_("只有参建单位的人员可以送样。"))
    try:
        value = signing.TimestampSigner(salt=_HANDOVER_SALT).unsign(nonce, max_age=settings.INSPECTA_HANDOVER_SECONDS)
    except signing.BadSignature:
        raise AppError(ErrorCode.INVALID_INPUT, _("身份核验已过期，请重新核验。")) from None
    person_id, _sep, raw = value.partition(":")
    if person_id != str(user.pk):
        raise AppError(ErrorCode.INVALID_INPUT, _("身份核验已过期，请重新核验。"))
    challenge = _digest({"handover": user.pk, "nonce": raw})
    if Handover.objects.filter(challenge=challenge).exists():
        raise AppError(ErrorCode.INVALID_INPUT, _("身份核验已使用，请重新核验。"))
    proof = identity_confirm(user=user, challenge=bytes.fromhex(challenge), assertion=assertion, totp_code=totp_code)
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    handover = Handover(
        person=user,
        token_sha256=hashlib.sha256(token.encode("ascii")).hexdigest(),
        factor=proof.factor,
        challenge=challenge,
        proof=proof.as_record(),
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.INSPECTA_HANDOVER_SECONDS),
    )
    audit_stamp(handover, actor)
    handover.save()
    return handover, HANDOVER_PREFIX + token


def _handover_take(code: str, sample: Sample) -> Handover:
    token = code.strip().removeprefix(HANDOVER_PREFIX)
    digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    handover = Handover.objects.select_for_update().select_related("person").filter(token_sha256=digest).first()
    if handover is None or handover.used_at is not None or handover.expires_at <= timezone.now():
        raise AppError(ErrorCode.HANDOVER_INVALID, _("送样人身份码无效、已使用或已过期，请送样人重新生成。"))
    person = handover.person
    if (
        person.organisation_id is None
        or not sample.project.parties.filter(organisation_id=person.organisation_id).exists()
    ):
        raise AppError(ErrorCode.HANDOVER_INVALID, _("送样人不是该样品所属项目参建单位的人员。"))
    return handover


def seal_verify(sample: Sample, text: str) -> dict[str, Any]:
    """The seal scanned at receipt checked against the sample (T/CECS 2.0.16): signature
    and key, then the code, the tags and the count it binds. ``ok`` and, when not, the
    reason code and a plain message."""

    if not text.strip():
        return {"ok": False, "reason": "seal_missing", "message": _("未扫描到电子封志。")}
    check = seal_decode(text.strip())
    if not check.valid or check.claims is None:
        return {"ok": False, "reason": str(check.reason), "message": str(check.message)}
    claims = check.claims
    tags = tuple(sample.specimens.order_by("number").values_list("tag_id", flat=True))
    if claims.code != sample.code:
        return {
            "ok": False,
            "reason": "seal_other_sample",
            "message": _("电子封志属于另一样品：%(c)s。") % {"c": claims.code},
        }
    if claims.tags != tags or claims.count != sample.count:
        return {"ok": False, "reason": "seal_tags", "message": _("电子封志记载的标识或数量与样品不符。")}
    return {"ok": True, "reason": "", "message": _("电子封志核验通过。"), "kid": check.kid}


@transaction.atomic
def sample_receive(
    *,
    actor: Any,
    sample: Sample,
    accept: bool,
    tags: Sequence[str],
    seal_text: str,
    handover_code: str,
    deliverer_photo: StoredFile,
    photos: Sequence[StoredFile] = (),
    appearance: str = "",
    reasons: str = "",
) -> Receipt:
    """Receive a sample at the agency (Nanchang 四(四)2; T/CECS 2.0.16, 4.3.4-3): every tag
    scanned, the seal verified, the receipt photos compared with the sealed ones, the
    deliverer identified by their one-time code and photographed; then accepted, or
    refused with reasons. Wrong tags cannot be accepted; a failed seal check refuses the
    acceptance or is a finding (the regional rule ``seal_failure_action``); photos that do not
    resemble the sealed ones are a finding. Logged."""

    sample = Sample.objects.select_for_update().select_related("agency", "project").get(pk=sample.pk)
    if sample.status != SampleStatus.SEALED:
        raise AppError(ErrorCode.SAMPLE_NOT_PENDING, _("该样品尚未见证封样，或已收样。"))
    if not permissions.may_receive(actor, sample):
        raise PermissionDenied(_("只有送检机构的收样人可以收样。"))
    reasons = reasons.strip()
    if not accept and not reasons:
        raise AppError(ErrorCode.REASON_REQUIRED, _("拒收须填写理由。"))
    _photo_of(actor, deliverer_photo)
    for p in photos:
        _photo_of(actor, p)
    handover = _handover_take(handover_code, sample)

    expected = list(sample.specimens.order_by("number").values_list("tag_id", flat=True))
    scanned = [t.strip() for t in tags if t.strip()]
    tags_ok = sorted(set(scanned)) == sorted(expected) and len(scanned) == len(expected)
    seal = seal_verify(sample, seal_text)
    sealed = [
        h for h in sample.photos.filter(kind=PhotoKind.SPECIMEN).exclude(phash="").values_list("phash", flat=True)
    ]
    distances = []
    for p in photos:
        h = photo_phash(file_read(p))
        distances.append(min((phash_distance(h, s) for s in sealed), default=None) if h else None)
    limit, _rule = rule_value(RECEIPT_PHOTO_DISTANCE, sample.project.region_id, sample.test_item_id)
    photos_ok = all(d is not None and d <= limit for d in distances)

    if accept and not tags_ok:
        missing = sorted(set(expected) - set(scanned))
        extra = sorted(set(scanned) - set(expected))
        raise AppError(
            ErrorCode.TAGS_MISMATCH,
            _("扫描的标识与样品不符（缺少：%(m)s；多出：%(e)s），不能收样。")
            % {"m": "、".join(missing) or "无", "e": "、".join(extra) or "无"},
        )
    seal_action, _rule = rule_value(SEAL_FAILURE_ACTION, sample.project.region_id, sample.test_item_id)
    if accept and not seal["ok"] and seal_action == "reject":
        raise AppError(ErrorCode.SEAL_INVALID, _("电子封志核验未通过，不能收样：%(m)s") % {"m": seal["message"]})

    now = timezone.now()
    receipt = Receipt(
        sample=sample,
        outcome=ReceiptOutcome.ACCEPTED if accept else ReceiptOutcome.REFUSED,
        reasons=reasons,
        appearance=appearance.strip(),
        receiver=actor_of(actor).user,
        deliverer=handover.person,
        handover=handover,
        deliverer_photo=deliverer_photo,
        tags_scanned=scanned,
        tags_ok=tags_ok,
        seal_ok=seal["ok"],
        seal_check={k: str(v) for k, v in seal.items() if k != "ok"},
        photo_distances=distances,
        photos_ok=photos_ok,
        received_at=now,
    )
    audit_stamp(receipt, actor)
    receipt.save()
    handover.used_at = now
    audit_stamp(handover, actor)
    handover.save(update_fields=["used_at"])
    for p in photos:
        _photo_add(sample, PhotoKind.RECEIPT, p, actor)
    _photo_add(sample, PhotoKind.LIVE, deliverer_photo, actor)
    from .custody import receipt_curing_check

    receipt_curing_check(sample)
    if accept and not seal["ok"]:
        _finding(sample, SamplingRule.SEAL_FAILED, seal["message"], reason=seal["reason"])
    if accept and photos and not photos_ok:
        _finding(
            sample,
            SamplingRule.RECEIPT_PHOTO_MISMATCH,
            _("收样照片与封样时的试件照片差异过大（阈值 %(l)s）。") % {"l": limit},
            distances=distances,
        )
    sample.status = SampleStatus.RECEIVED if accept else SampleStatus.REFUSED
    sample.updated_at = now
    audit_stamp(sample, actor)
    sample.save(update_fields=["status", "updated_at"])
    log_append(kind=SamplingLogKind.RECEIPT, record=receipt)
    return receipt
