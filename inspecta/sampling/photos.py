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

from .models import ConcreteBatchPhoto, CustodyPhoto, HashedPhoto, SamplePhoto

__all__ = ["PHOTO_TABLES", "NearDuplicate", "near_duplicates", "probe_q"]

MAX_DISTANCE = 7

PHOTO_TABLES: tuple[type[HashedPhoto], ...] = (SamplePhoto, ConcreteBatchPhoto, CustodyPhoto)
"""Every table of chain photos (a :class:`~sampling.models.HashedPhoto`): a
near-duplicate is searched in all of them."""


@dataclass(frozen=True)
class NearDuplicate:
    photo_id: int
    sample_id: int | None
    distance: int
    table: str = "samplephoto"
    """The photo's table (model name): ``samplephoto``, ``concretebatchphoto``,
    ``custodyphoto``."""
    owner_id: int | None = None
    """What the photo belongs to (its ``owner_field``: sample, batch)."""


def probe_q(phash: str) -> Q:
    """Rows sharing a band with ``phash`` up to one flipped bit."""

    q = Q()
    for i, band in enumerate(phash_bands(phash)):
        values = [band] + [band ^ (1 << bit) for bit in range(16)]
        q |= Q(**{f"band{i}__in": values})
    return q


def _sample_of(table: type[HashedPhoto]) -> str | None:
    if table is SamplePhoto:
        return "sample_id"
    if table is CustodyPhoto:
        return "event__sample_id"
    return None


def near_duplicates(
    phash: str,
    *,
    exclude_sample: int | None = None,
    exclude: tuple[type[HashedPhoto], int] | None = None,
    limit: int = 5,
) -> list[NearDuplicate]:
    """Earlier photos of every chain table within the configured distance of ``phash``,
    nearest first; not those of sample ``exclude_sample`` (its photos and its custody
    events' photos) nor those of ``exclude`` (a table and an owner id)."""

    threshold = min(settings.INSPECTA_PHOTO_DUPLICATE_DISTANCE, MAX_DISTANCE)
    found = []
    for table in PHOTO_TABLES:
        rows = table.objects.filter(probe_q(phash)).exclude(phash="")  # type: ignore[attr-defined]
        sample_path = _sample_of(table)
        if exclude_sample is not None and sample_path is not None:
            rows = rows.exclude(**{sample_path: exclude_sample})
        if exclude is not None and exclude[0] is table:
            rows = rows.exclude(**{table.owner_field: exclude[1]})
        extra = [sample_path] if sample_path and sample_path != table.owner_field else []
        for pk, other, owner, *more in rows.values_list("pk", "phash", table.owner_field, *extra):
            if (d := phash_distance(phash, other)) <= threshold:
                sample_id = more[0] if more else (owner if sample_path else None)
                found.append(NearDuplicate(pk, sample_id, d, table._meta.model_name or "", owner))
    return sorted(found, key=lambda n: (n.distance, n.photo_id))[:limit]
