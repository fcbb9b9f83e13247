"""The platform's one counter (``core.counters``; CONTRACT §6; Nanchang 三(一)、四(四)1):
numbers per name, scope and year, taken only inside a transaction, given back by a
rollback, never reused."""

from __future__ import annotations

import pytest
from django.db import transaction

from inspecta.core.counters import sequence_last, sequence_next
from inspecta.core.models import SequenceCounter

pytestmark = pytest.mark.django_db


def test_numbers_are_continuous_per_name_scope_and_year() -> None:
    with transaction.atomic():
        assert [sequence_next("commission", "7", 2026) for _ in range(3)] == [1, 2, 3]
        assert sequence_next("commission", "8", 2026) == 1
        assert sequence_next("commission", "7", 2027) == 1
        assert sequence_next("sample_code", "7", 2026) == 1
        assert sequence_next("commission", "7", 2026, count=5) == 4
    assert sequence_last("commission", "7", 2026) == 8
    assert sequence_last("commission", "9", 2026) == 0
    assert SequenceCounter.objects.count() == 4


def test_a_rollback_gives_the_number_back() -> None:
    with transaction.atomic():
        assert sequence_next("report_serial", "440100", 2026) == 1
    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        assert sequence_next("report_serial", "440100", 2026) == 2
        raise RuntimeError("boom")
    with transaction.atomic():
        assert sequence_next("report_serial", "440100", 2026) == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        sequence_next("commission", "7", 2026)
    with pytest.raises(ValueError), transaction.atomic():
        sequence_next("commission", "7", 2026, count=0)
