"""Near-duplicate photos (the issue's point 12: "a photo that is a near-duplicate of any
earlier photo on the platform"; T/CECS 4.3.4-2 关键影像; Nanchang 四(一)).

Each photo's 64-bit perceptual hash (``core.imaging.photo_phash``) is stored split into
four 16-bit bands, each indexed. Two hashes within Hamming distance ``d <= 7`` differ in
at most one bit in at least one band (pigeonhole: 4 bands x 2 bits > 7), so the
candidates of a query are the rows whose band ``i`` equals the query's band ``i`` or
differs from it in one bit: 4 x 17 index probes, then the exact distance is computed on
the few candidates (multi-index hashing). ``INSPECTA_PHOTO_DUPLICATE_DISTANCE`` (default
6, at most 7) is the distance under which two photos count as the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from inspecta.core.imaging import phash_bands, phash_distance

from .models import SamplePhoto

__all__ = ["NearDuplicate", "near_duplicates", "probe_q"]

MAX_DISTANCE = 7


@dataclass(frozen=True)
class NearDuplicate:
    photo_id: int
    sample_id: int
    distance: int


def probe_q(phash: str) -> Q:
    """Rows sharing a band with ``phash`` up to one flipped bit."""

    q = Q()
    for i, band in enumerate(phash_bands(phash)):
        values = [band] + [band ^ (1 << bit) for bit in range(16)]
        q |= Q(**{f"band{i}__in": values})
    return q


def near_duplicates(phash: str, *, exclude_sample: int | None = None, limit: int = 5) -> list[NearDuplicate]:
    """Earlier photos within the configured distance of ``phash``, nearest first."""

    threshold = min(settings.INSPECTA_PHOTO_DUPLICATE_DISTANCE, MAX_DISTANCE)
    rows = SamplePhoto.objects.filter(probe_q(phash)).exclude(phash="")
    if exclude_sample is not None:
        rows = rows.exclude(sample_id=exclude_sample)
    found = [
        NearDuplicate(pk, sample_id, d)
        for pk, sample_id, other in rows.values_list("pk", "sample_id", "phash")
        if (d := phash_distance(phash, other)) <= threshold
    ]
    return sorted(found, key=lambda n: (n.distance, n.photo_id))[:limit]
