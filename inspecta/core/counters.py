"""The platform's one counter (CONTRACT §6 统一流水号; T/CECS 2.0.5 样品唯一性编码; Nanchang
三(一), 四(四)1 委托单编号连续): report serial numbers per region and year, sample codes per
region and year, commission numbers per agency and year all come from
:class:`inspecta.core.models.SequenceCounter` through :func:`sequence_next`.

The counter row is locked with ``SELECT ... FOR UPDATE`` (PostgreSQL; SQLite serialises
writers) until the caller's transaction ends, so concurrent takers queue, and a rollback
gives the numbers back: no gap, no reuse. Outside a transaction it refuses.
"""

from __future__ import annotations

from django.db import transaction

from .models import SequenceCounter

__all__ = ["sequence_last", "sequence_next"]


def sequence_next(name: str, scope: str, year: int, *, count: int = 1) -> int:
    """Take ``count`` consecutive numbers of numbering ``name`` in ``scope`` and ``year``;
    returns the first. Must run inside the transaction that uses them."""

    if count < 1:
        raise ValueError("count must be positive")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} numbers must be taken inside the transaction that uses them")
    scope = str(scope)
    counter = SequenceCounter.objects.select_for_update().filter(name=name, scope=scope, year=year).first()
    if counter is None:  # the first number of this scope and year
        SequenceCounter.objects.get_or_create(name=name, scope=scope, year=year)
        counter = SequenceCounter.objects.select_for_update().get(name=name, scope=scope, year=year)
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return first


def sequence_last(name: str, scope: str, year: int) -> int:
    """The last number issued (0 before the first)."""

    row = SequenceCounter.objects.filter(name=name, scope=str(scope), year=year).values_list("last", flat=True).first()
    return row or 0
