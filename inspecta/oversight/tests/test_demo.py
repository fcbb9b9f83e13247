"""The oversight demo loads after the others, once: the demo's findings as warnings, one
signed for and one answered by 广州建科, and a handling of the nonconforming report waiting
for the station; the log still verifies."""

from __future__ import annotations

import pytest

from inspecta.core.demo import demo_load
from inspecta.ledger.audit import verify_log
from inspecta.ledger.choices import FindingKind
from inspecta.ledger.services import sequence_pending
from inspecta.oversight import demo
from inspecta.oversight.choices import ClosureStatus, WarningStatus
from inspecta.oversight.models import NonconformanceClosure, Warning
from inspecta.projects.demo import plans_demo
from inspecta.registry.demo import registry_demo_load
from inspecta.reports.demo import reports_demo_load
from inspecta.sampling.demo import sampling_demo
from inspecta.testing.demo import testing_demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_warnings_answered_and_a_closure_waiting() -> None:
    demo_load()
    registry_demo_load()
    reports_demo_load()
    plans_demo()
    sampling_demo()
    testing_demo()
    added, _logins = demo.oversight_demo()
    assert added == 3
    assert Warning.objects.filter(status=WarningStatus.ACKNOWLEDGED).count() == 1
    assert Warning.objects.filter(status=WarningStatus.HANDLED).count() == 1
    assert NonconformanceClosure.objects.filter(status=ClosureStatus.PENDING).count() == 1
    sequence_pending()
    assert [p for p in verify_log() if p.kind in (FindingKind.RECORD_CHANGED, FindingKind.RECORD_MISSING)] == []
    # a second run adds nothing
    assert demo.oversight_demo() == (0, [])
    assert Warning.objects.filter(status=WarningStatus.HANDLED).count() == 1
