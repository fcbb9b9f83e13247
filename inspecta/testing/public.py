"""The test data behind a report on its public verification page and JSON (CONTRACT §6
"the traceability chain"; T/CECS 4.1.2 调阅检测全过程数据): for each sample the report
names, the reporting agency's test records of it: the times, the equipment, the tester
masked, the current revision and its SHA-256 with the log index, a small sketch of each
curve the instruments collected (at most 60 points), and thumbnails of the key images
(resized on the server, metadata dropped), served only while a report in force names
the sample."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import Http404

from inspecta.core.files import file_read
from inspecta.core.imaging import photo_thumbnail
from inspecta.core.masking import Audience, mask_name
from inspecta.ledger.selectors import entries_of
from inspecta.sampling.models import Sample
from inspecta.sampling.public import in_force

from .choices import MediaKind
from .curves import curve_points
from .models import InstrumentRecord, TestRecord, TestRecordFile

__all__ = ["SKETCH_POINTS", "image_url", "public_image", "public_test_steps"]

SKETCH_POINTS = 60
_THUMBNAIL_SECONDS = 86_400


def image_url(code: str, file_id: int) -> str:
    return f"/api/v1/testing/public/{code}/images/{file_id}"


def _sketch(points: list[list[float]], width: int = 120, height: int = 60) -> str:
    """The SVG polyline ``points`` of a curve drawn in a ``width`` × ``height`` box."""

    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, y0 = min(xs), min(ys)
    dx, dy = (max(xs) - x0) or 1.0, (max(ys) - y0) or 1.0
    return " ".join(
        f"{(x - x0) / dx * (width - 4) + 2:.1f},{height - 2 - (y - y0) / dy * (height - 4):.1f}" for x, y in points
    )


def public_test_steps(agency_id: int, codes: list[str]) -> list[dict[str, Any]]:
    """One chain step per test record of ``agency_id`` on the samples ``codes``, in the
    samples' order, then by test time."""

    if not codes:
        return []
    records = list(
        TestRecord.objects.filter(agency_id=agency_id, sample__code__in=codes)
        .select_related("sample", "tester")
        .order_by("started_at", "pk")
    )
    if not records:
        return []
    entries = entries_of(("testing.testrecord", r.pk) for r in records)
    images: dict[int, list[dict[str, Any]]] = {r.pk: [] for r in records}
    for row in TestRecordFile.objects.filter(record__in=records, kind=MediaKind.IMAGE).order_by("pk"):
        images[row.record_id].append({"id": row.pk, "sha256": row.sha256, "caption": row.caption})
    sketches: dict[str, list[dict[str, Any]]] = {}
    for reading in InstrumentRecord.objects.filter(
        agency_id=agency_id, record_number__in={r.number for r in records}, curve__isnull=False
    ).order_by("parameter", "specimen", "id")[:200]:
        sketches.setdefault(reading.record_number, []).append(
            {
                "parameter": reading.parameter,
                "specimen": reading.specimen,
                "value": reading.value,
                "unit": reading.unit,
                "points": (
                    points := curve_points(reading.curve_meta, bytes(reading.curve or b""), limit=SKETCH_POINTS)
                ),
                "sketch": _sketch(points),
            }
        )
    steps: list[dict[str, Any]] = []
    order = {code: i for i, code in enumerate(codes)}
    for record in sorted(records, key=lambda r: (order.get(r.sample.code, 0), r.started_at, r.pk)):  # type: ignore[union-attr]
        code = record.sample.code  # type: ignore[union-attr]
        entry = entries.get(("testing.testrecord", str(record.pk)))
        steps.append(
            {
                "step": "test_record",
                "label": "检测数据",
                "sample": code,
                "number": record.number,
                "at": record.started_at.isoformat(),
                "ended_at": record.ended_at.isoformat(),
                "equipment": list(record.equipment),
                "tester": mask_name(record.tester.name, Audience.PUBLIC),
                "conclusion": record.conclusion,
                "revision": record.revision,
                "sha256": record.sha256,
                "log_index": entry.index if entry is not None else None,
                "curves": sketches.get(record.number, []),
                "images": [
                    {"url": image_url(code, i["id"]), "sha256": i["sha256"], "caption": i["caption"]}
                    for i in images[record.pk]
                ],
            }
        )
    return steps


def public_image(code: str, file_row_id: int) -> bytes:
    """The thumbnail (JPEG) of key image ``file_row_id`` of a test record of sample
    ``code``; ``Http404`` for a clip, an image of another sample, or a sample that no
    report in force names (the answer does not say which)."""

    sample = Sample.objects.filter(code=code).first()
    row = (
        TestRecordFile.objects.select_related("file")
        .filter(pk=file_row_id, kind=MediaKind.IMAGE, record__sample=sample, record__agency_id=sample.agency_id)
        .first()
        if sample is not None
        else None
    )
    if sample is None or row is None or not in_force(code, sample):
        raise Http404
    key = f"testing:thumbnail:{row.sha256}"
    data: bytes | None = cache.get(key)
    if data is None:
        data = photo_thumbnail(file_read(row.file))
        if data is None:
            raise Http404
        cache.set(key, data, _THUMBNAIL_SECONDS)
    return data
