"""The reports demo loads after the registry demo, once."""

from __future__ import annotations

import pytest

from inspecta.core.demo import demo_load
from inspecta.registry.demo import registry_demo_load
from inspecta.reports.choices import ReportStatus
from inspecta.reports.demo import reports_demo_load
from inspecta.reports.models import NonconformanceEntry, Report

pytestmark = pytest.mark.django_db


def test_reports_demo_loads_once():
    assert reports_demo_load() == {"projects": 0, "contracts": 0, "reports": 0}
    demo_load()
    registry_demo_load()
    assert reports_demo_load() == {"projects": 2, "contracts": 1, "reports": 3}
    assert reports_demo_load() == {"projects": 0, "contracts": 0, "reports": 0}
    assert Report.objects.filter(status=ReportStatus.AMENDED).count() == 1
    assert NonconformanceEntry.objects.count() == 1
    assert sorted(Report.objects.values_list("serial_no", flat=True)) == [1, 2, 3]
    # the log's self-audit re-renders contracts, versions and amendments: all match
    from inspecta.ledger.audit import verify_log
    from inspecta.ledger.choices import FindingKind
    from inspecta.ledger.services import sequence_pending

    sequence_pending()
    changed = [p for p in verify_log() if p.kind in (FindingKind.RECORD_CHANGED, FindingKind.RECORD_MISSING)]
    assert changed == []
