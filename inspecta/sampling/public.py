"""The samples behind a report on its public verification page and JSON (CONTRACT §6 "the
traceability chain"; T/CECS 4.1.2 "调阅检测全过程数据"; T/CECS 1.0.1, 3.0.3): for each
sample the report names, its sampling (date, district, sampler and witness masked), its
seal re-verified with the platform's keys, and its receipt, each with its log index; and
small thumbnails of its key images (T/CECS 4.1.2 "调阅…关键影像资料", 4.3.4-2): the
specimen photos showing their tags, resized on the server with every bit of metadata
(EXIF, GPS) dropped. Photos that show people (the placard photo, the live photos of the
people who confirmed or delivered) are never shown. A thumbnail is served only for a sample that the current
version of a report in force names."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import Http404

from inspecta.core.files import file_read
from inspecta.core.imaging import photo_thumbnail
from inspecta.core.masking import Audience, mask_name
from inspecta.ledger.selectors import entries_of

from .choices import PhotoKind
from .models import Receipt, Sample, SamplePhoto, Seal
from .seal import seal_decode

__all__ = ["KEY_IMAGE_KINDS", "in_force", "public_chain", "public_thumbnail", "thumbnail_url"]

KEY_IMAGE_KINDS = (PhotoKind.SPECIMEN,)  # never the placard or live photos: they show people
"""The key images shown to the public: never ``live`` (people) nor ``receipt``."""

_THUMBNAIL_SECONDS = 86_400


def thumbnail_url(code: str, photo_id: int) -> str:
    return f"/api/v1/sampling/public/{code}/photos/{photo_id}"


def _key_images(samples: list[Sample]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {s.pk: [] for s in samples}
    codes = {s.pk: s.code for s in samples}
    photos = SamplePhoto.objects.filter(sample_id__in=codes, kind__in=KEY_IMAGE_KINDS).order_by("pk")
    for pk, sample_id, kind, sha256 in photos.values_list("pk", "sample_id", "kind", "sha256"):
        out[sample_id].append(
            {
                "kind": kind,
                "label": str(PhotoKind(kind).label),
                "url": thumbnail_url(codes[sample_id], pk),
                "sha256": sha256,
            }
        )
    return out


def in_force(code: str, sample: Sample) -> bool:
    """Whether the current version of a report in force (valid or amended, not revoked)
    names the sample ``code``."""

    from inspecta.reports.choices import ReportStatus
    from inspecta.reports.models import Report

    candidates = Report.objects.filter(
        project_id=sample.project_id,
        agency_id=sample.agency_id,
        status__in=(ReportStatus.VALID, ReportStatus.AMENDED),
        versions__data__samples__icontains=code,
    ).distinct()
    return any(code in (r.current_version().data.get("samples") or []) for r in candidates)


def public_thumbnail(code: str, photo_id: int) -> bytes:
    """The thumbnail (JPEG) of key image ``photo_id`` of sample ``code``; ``Http404`` for
    a live or receipt photo, a photo of another sample, or a sample that no report in
    force names (the answer does not say which)."""

    sample = Sample.objects.filter(code=code).first()
    photo = (
        SamplePhoto.objects.select_related("file").filter(pk=photo_id, sample=sample, kind__in=KEY_IMAGE_KINDS).first()
        if sample is not None
        else None
    )
    if sample is None or photo is None or not in_force(code, sample):
        raise Http404
    key = f"sampling:thumbnail:{photo.sha256}"
    data: bytes | None = cache.get(key)
    if data is None:
        data = photo_thumbnail(file_read(photo.file))
        if data is None:
            raise Http404
        cache.set(key, data, _THUMBNAIL_SECONDS)
    return data


def public_chain(codes: list[str]) -> list[dict[str, Any]]:
    """The chain steps of the samples named by ``codes``, in their order; unknown codes
    are left out (the report's acceptance check refuses them)."""

    if not codes:
        return []
    samples = {
        s.code: s
        for s in Sample.objects.filter(code__in=codes).select_related(
            "project__region", "sampler", "witness", "seal", "receipt"
        )
    }
    wanted: list[tuple[str, Any]] = []
    for s in samples.values():
        wanted.append(("sampling.sample", s.pk))
        if hasattr(s, "seal"):
            wanted.append(("sampling.seal", s.seal.pk))
        if hasattr(s, "receipt"):
            wanted.append(("sampling.receipt", s.receipt.pk))
    entries = entries_of(wanted)
    images = _key_images(list(samples.values()))

    def index(record_type: str, pk: Any) -> int | None:
        entry = entries.get((record_type, str(pk)))
        return entry.index if entry is not None else None

    steps: list[dict[str, Any]] = []
    for code in codes:
        sample = samples.get(code)
        if sample is None:
            continue
        steps.append(
            {
                "step": "witnessed_sampling",
                "label": "见证取样",
                "sample": code,
                "at": sample.witnessed_at.isoformat() if sample.witnessed_at else None,
                "sampled_on": sample.sampled_at.date().isoformat(),
                "district": sample.project.region.name,
                "sampler": mask_name(sample.sampler.full_name, Audience.PUBLIC),
                "witness": mask_name(sample.witness.full_name, Audience.PUBLIC) if sample.witness else None,
                "log_index": index("sampling.sample", sample.pk),
                "thumbnails": images[sample.pk],
            }
        )
        seal: Seal | None = getattr(sample, "seal", None)
        if seal is not None:
            steps.append(
                {
                    "step": "seal",
                    "label": "电子封志",
                    "sample": code,
                    "at": seal.sealed_at.isoformat(),
                    "verified": seal_decode(seal.text).valid,
                    "log_index": index("sampling.seal", seal.pk),
                }
            )
        receipt: Receipt | None = getattr(sample, "receipt", None)
        if receipt is not None:
            steps.append(
                {
                    "step": "receipt",
                    "label": "检测机构收样",
                    "sample": code,
                    "at": receipt.received_at.isoformat(),
                    "outcome": receipt.outcome,
                    "log_index": index("sampling.receipt", receipt.pk),
                }
            )
    return steps
