"""The ``witness_record``, ``seal``, ``receipt`` and ``commission`` log kinds (CONTRACT §5; T/CECS 2.0.16, 4.3.4-2):
ids, codes, times, places and the SHA-256 of every photo; people by id only (the log is
public)."""

from __future__ import annotations

import hashlib

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.ledger.registry import Rendered, Subject, register_kind
from inspecta.ledger.services import format_time

from .choices import SamplingLogKind
from .custody import batch_record_document, custody_record_document
from .models import Commission, ConcreteBatch, CustodyEvent, Receipt, Sample, Seal
from .services import sampling_photos, sampling_record


def render_witness_record(sample: Sample) -> Rendered:
    """The sampling record and both confirmations (step, person id, factor, challenge,
    the proof's signature, live photo hash, place, time)."""

    confirmations = [
        {
            "step": c.step,
            "person": c.person_id,
            "factor": c.factor,
            "challenge": c.challenge,
            "signature": c.proof.get("signature", ""),
            "live_photo": c.live_photo_sha256,
            "latitude": None if c.latitude is None else f"{c.latitude:.6f}",
            "longitude": None if c.longitude is None else f"{c.longitude:.6f}",
            "at": format_time(c.at),
        }
        for c in sample.confirmations.order_by("at", "pk")
    ]
    # the sampling's own photos; each confirmation's live photo is in its entry above
    photos = [(f"photo_{p.kind}_{i}", {"sha256": p.sha256}) for i, p in enumerate(sampling_photos(sample), 1)]
    return Rendered(
        {
            "sample": sample.pk,
            "record": sampling_record(sample),
            "record_sha256": sample.record_sha256,
            "confirmations": confirmations,
        },
        files=tuple(photos),
    )


def render_seal(seal: Seal) -> Rendered:
    return Rendered(
        {
            "sample": seal.sample_id,
            "kid": seal.kid,
            "seal_sha256": hashlib.sha256(seal.text.encode("ascii")).hexdigest(),
            "sealed_at": format_time(seal.sealed_at),
        }
    )


def render_receipt(receipt: Receipt) -> Rendered:
    """The receipt's outcome and checks, the deliverer's proof (factor, challenge,
    signature) and the SHA-256 of the deliverer's photo."""

    return Rendered(
        {
            "sample": receipt.sample_id,
            "outcome": receipt.outcome,
            "receiver": receipt.receiver_id,
            "deliverer": receipt.deliverer_id,
            "deliverer_factor": receipt.handover.factor,
            "deliverer_challenge": receipt.handover.challenge,
            "deliverer_signature": receipt.handover.proof.get("signature", ""),
            "tags_scanned": receipt.tags_scanned,
            "tags_ok": receipt.tags_ok,
            "seal_ok": receipt.seal_ok,
            "photo_distances": receipt.photo_distances,
            "received_at": format_time(receipt.received_at),
        },
        files=(("deliverer_photo", {"sha256": receipt.deliverer_photo.sha256}),),
    )


def render_commission(commission: Commission) -> Rendered:
    """The commission record (57号令 第二十条; Nanchang 四(四)1) and both confirmations
    (step, person id, factor, challenge, signature, place, time) with the SHA-256 of
    each live photo."""

    from .commissions import commission_record

    confirmations = list(commission.confirmations.order_by("at", "pk"))
    return Rendered(
        {
            "commission": commission.pk,
            "record": commission_record(commission),
            "record_sha256": commission.record_sha256,
            "confirmations": [
                {
                    "step": c.step,
                    "person": c.person_id,
                    "factor": c.factor,
                    "challenge": c.challenge,
                    "signature": c.proof.get("signature", ""),
                    "live_photo": c.live_photo_sha256,
                    "latitude": None if c.latitude is None else f"{c.latitude:.6f}",
                    "longitude": None if c.longitude is None else f"{c.longitude:.6f}",
                    "at": format_time(c.at),
                }
                for c in confirmations
            ],
        },
        files=tuple((f"live_photo_{c.step}", {"sha256": c.live_photo_sha256}) for c in confirmations),
    )


def describe_commission(commission: Commission) -> Subject:
    return Subject(
        _("检测委托单 %(n)s") % {"n": commission.number},
        reverse("sampling:commission_detail", args=[commission.pk]),
    )


def describe_receipt(receipt: Receipt) -> Subject:
    return Subject(
        _("样品 %(code)s 的收样记录") % {"code": receipt.sample.code},
        reverse("sampling:sample_detail", args=[receipt.sample_id]),
    )


def describe_sample(sample: Sample) -> Subject:
    return Subject(_("样品 %(code)s") % {"code": sample.code}, reverse("sampling:sample_detail", args=[sample.pk]))


def describe_seal(seal: Seal) -> Subject:
    return Subject(
        _("样品 %(code)s 的电子封志") % {"code": seal.sample.code},
        reverse("sampling:sample_detail", args=[seal.sample_id]),
    )


register_kind(SamplingLogKind.WITNESS_RECORD, render=render_witness_record, describe=describe_sample)
register_kind(SamplingLogKind.SEAL, render=render_seal, describe=describe_seal)
register_kind(SamplingLogKind.RECEIPT, render=render_receipt, describe=describe_receipt)
register_kind(SamplingLogKind.COMMISSION, render=render_commission, describe=describe_commission)


def _confirmations(rows: object) -> list[dict[str, object]]:
    return [
        {
            "step": c.step,
            "person": c.person_id,
            "factor": c.factor,
            "challenge": c.challenge,
            "signature": c.proof.get("signature", ""),
            "live_photo": c.live_photo_sha256,
            "latitude": None if c.latitude is None else f"{c.latitude:.6f}",
            "longitude": None if c.longitude is None else f"{c.longitude:.6f}",
            "at": format_time(c.at),
        }
        for c in rows.order_by("at", "pk")  # type: ignore[attr-defined]
    ]


def render_concrete_batch(batch: ConcreteBatch) -> Rendered:
    """A concrete batch on arrival (Nanchang 四(一)): the record, both confirmations and
    the SHA-256 of every photo (the slump placard first)."""

    photos = [(f"photo_{p.kind}_{i}", {"sha256": p.sha256}) for i, p in enumerate(batch.photos.order_by("pk"), 1)]
    return Rendered(
        {
            "concrete_batch": batch.pk,
            "record": batch_record_document(batch),
            "record_sha256": batch.record_sha256,
            "confirmations": _confirmations(batch.confirmations),
        },
        files=tuple(photos),
    )


def render_custody_event(event: CustodyEvent) -> Rendered:
    """A custody event (Nanchang 四(三)): the record, both confirmations and the SHA-256
    of every photo."""

    photos = [(f"photo_{p.kind}_{i}", {"sha256": p.sha256}) for i, p in enumerate(event.photos.order_by("pk"), 1)]
    return Rendered(
        {
            "sample": event.sample_id,
            "custody_event": event.pk,
            "record": custody_record_document(event),
            "record_sha256": event.record_sha256,
            "confirmations": _confirmations(event.confirmations),
        },
        files=tuple(photos),
    )


def describe_concrete_batch(batch: ConcreteBatch) -> Subject:
    return Subject(_("混凝土进场 %(b)s") % {"b": batch}, reverse("sampling:batch_detail", args=[batch.pk]))


def describe_custody_event(event: CustodyEvent) -> Subject:
    return Subject(
        _("样品 %(code)s 的%(kind)s") % {"code": event.sample.code, "kind": event.get_kind_display()},
        reverse("sampling:sample_detail", args=[event.sample_id]),
    )


register_kind(SamplingLogKind.CONCRETE_BATCH, render=render_concrete_batch, describe=describe_concrete_batch)
register_kind(SamplingLogKind.CUSTODY_EVENT, render=render_custody_event, describe=describe_custody_event)
