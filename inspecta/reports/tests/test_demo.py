"""The reports demo loads after the registry demo, once."""

from __future__ import annotations

import pytest

from inspecta.accounts.models import User
from inspecta.core.demo import demo_load
from inspecta.registry.demo import registry_demo_load
from inspecta.reports.choices import ReportStatus
from inspecta.reports.demo import reports_demo_load
from inspecta.reports.models import NonconformanceEntry, Report

pytestmark = pytest.mark.django_db


def test_reports_demo_loads_once():
    nothing = {"projects": 0, "contracts": 0, "reports": 0, "signers": 0, "drafts": 0, "amendments": 0}
    assert reports_demo_load() == nothing
    demo_load()
    registry_demo_load()
    assert reports_demo_load() == {
        "projects": 2,
        "contracts": 1,
        "reports": 3,
        "signers": 3,
        "drafts": 1,
        "amendments": 1,
    }
    assert reports_demo_load() == nothing
    # one web-prepared report waits for the demo tester's sign-off (Nanchang 三(一))
    from inspecta.reports.models import ReportDraft
    from inspecta.reports.selectors import drafts_awaiting

    tester = User.objects.get(username="gz_tester")
    assert [d.report_number for d in drafts_awaiting(actor=tester)] == ["GZJK-2026-SN-0004"]
    assert not ReportDraft.objects.exclude(status="testing").exists()
    assert Report.objects.filter(status=ReportStatus.AMENDED).count() == 1
    assert NonconformanceEntry.objects.count() == 1
    # the 广州 supervisor's home offers the waiting amendment (and nothing of 深圳's)
    from inspecta.core.appconfig import work_items

    queue = {str(item.label): item.count for item in work_items(User.objects.get(username="gz_supervisor"))}
    assert queue.get("待审批的报告变更") == 1
    assert "待审批的报告变更" not in {str(i.label) for i in work_items(User.objects.get(username="sz_supervisor"))}
    assert sorted(Report.objects.values_list("serial_no", flat=True)) == [1, 2, 3]
    # the log's self-audit re-renders contracts, versions and amendments: all match
    from inspecta.ledger.audit import verify_log
    from inspecta.ledger.choices import FindingKind
    from inspecta.ledger.services import sequence_pending

    sequence_pending()
    changed = [p for p in verify_log() if p.kind in (FindingKind.RECORD_CHANGED, FindingKind.RECORD_MISSING)]
    assert changed == []
