"""The database-backed Merkle tree: roots and proofs from stored perfect subtrees.

Every root and proof of any tree size is computed from O(log n) ``TreeNode`` rows
read in one query (``inspecta.ledger.merkle``: ranges -> perfect subtrees -> fold).
T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Q

from . import merkle
from .models import SequencerState, TreeNode

__all__ = ["StoreError", "consistency_proof", "fetch_nodes", "inclusion_proof", "root", "tree_size"]


class StoreError(LookupError):
    """A node the tree should hold is missing (the store is corrupt or behind)."""


def tree_size() -> int:
    """Number of leaves integrated in the stored tree."""
    size = SequencerState.objects.filter(pk=1).values_list("size", flat=True).first()
    return int(size or 0)


def fetch_nodes(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Read the perfect subtree hashes ``(level, index)`` in one query."""
    by_level: dict[int, set[int]] = {}
    for level, index in pairs:
        by_level.setdefault(level, set()).add(index)
    if not by_level:
        return {}
    condition = reduce(or_, (Q(level=lv, index__in=sorted(ix)) for lv, ix in by_level.items()))
    rows = TreeNode.objects.filter(condition).values_list("level", "index", "hash")
    return {(lv, ix): bytes(h) for lv, ix, h in rows}


def _getter(ranges: list[tuple[int, int]]) -> merkle.SubtreeGetter:
    needed = {p for start, end in ranges for p in merkle.perfect_subtrees(start, end)}
    nodes = fetch_nodes(needed)

    def get_perfect(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise StoreError(f"tree node ({level}, {index}) is missing") from None

    return merkle.range_hasher(get_perfect)


def root(size: int) -> bytes:
    """Root hash of the tree of ``size`` leaves (``size`` <= stored size)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _getter([(0, size)])(0, size)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    ranges = merkle.inclusion_proof_ranges(index, size)
    get = _getter(ranges)
    return [get(a, b) for a, b in ranges]


def consistency_proof(size1: int, size2: int) -> list[bytes]:
    """RFC 9162 consistency proof from ``size1`` to ``size2`` leaves."""
    ranges = merkle.consistency_proof_ranges(size1, size2)
    get = _getter(ranges)
    return [get(a, b) for a, b in ranges]
