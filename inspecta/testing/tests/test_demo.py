"""The test-data demo loads after the sampling demo, once: the received cement sample's
record with its six curves and a revision with its reason, and the log verifies it."""

from __future__ import annotations

import pytest

from inspecta.core.demo import demo_load
from inspecta.ledger.audit import verify_log
from inspecta.ledger.choices import FindingKind
from inspecta.ledger.services import sequence_pending
from inspecta.registry.demo import registry_demo_load
from inspecta.reports.demo import reports_demo_load
from inspecta.sampling.demo import sampling_demo
from inspecta.testing import demo
from inspecta.testing.models import InstrumentRecord, TestRecord

pytestmark = pytest.mark.django_db


def test_the_demo_record_has_curves_a_revision_and_verifies() -> None:
    demo_load()
    registry_demo_load()
    reports_demo_load()
    sampling_demo()
    added, _logins = demo.testing_demo()
    assert added == 1
    record = TestRecord.objects.get(number=demo.NUMBER)
    assert record.revision == 2 and record.revisions.last().reason  # type: ignore[union-attr]
    assert record.parameters[2]["values"][2] == "49.1" and record.files.count() == 1
    assert InstrumentRecord.objects.filter(record_number=demo.NUMBER, agency=record.agency).count() == 6
    sequence_pending()
    assert [p for p in verify_log() if p.kind in (FindingKind.RECORD_CHANGED, FindingKind.RECORD_MISSING)] == []
    assert demo.testing_demo() == (0, [])
