"""The log kind of oversight (CONTRACT §5; ids, codes and hashes only: the log is public).

``nonconformance_closure`` (Guangdong 附件2 二(十二); T/CECS 4.3.4-6): appended when the
station confirms a closure, rendered from the closure as stored: the ledger entry, its
report, agency, project and test item, whom the agency told and when, what it did, the
re-test report and its conclusion, the SHA-256 of its words and of each evidence file, and
the decision's time. A later change of any of these behind the services is caught by the
self-audit.
"""

from __future__ import annotations

import hashlib

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.ledger.registry import Rendered, Subject, register_kind
from inspecta.ledger.services import format_time

from .choices import OversightLogKind
from .models import NonconformanceClosure


def render_closure(closure: NonconformanceClosure) -> Rendered:
    entry = closure.entry
    files = list(closure.files.order_by("pk"))
    retest = closure.retest_report
    return Rendered(
        {
            "closure": closure.pk,
            "entry": entry.pk,
            "report": entry.report_id,
            "agency": entry.agency_id,
            "project": entry.project_id,
            "test_item": entry.test_item_id,
            "number": closure.number,
            "parties": sorted(closure.parties),
            "notified_at": format_time(closure.notified_at),
            "action": closure.action,
            "retest_report": closure.retest_report_id,
            "retest_conclusion": retest.conclusion if retest is not None else None,
            "description_sha256": hashlib.sha256(closure.description.encode("utf-8")).hexdigest(),
            "status": closure.status,
            "decided_at": format_time(closure.decided_at) if closure.decided_at else None,
        },
        files=tuple((f"evidence-{i + 1}", {"sha256": f.sha256}) for i, f in enumerate(files)),
    )


def describe_closure(closure: NonconformanceClosure) -> Subject:
    return Subject(
        _("不合格闭环：报告 %(serial)s（第 %(n)s 次报送）")
        % {"serial": closure.entry.report.serial_number, "n": closure.number},
        reverse("oversight:nonconformance_detail", args=[closure.entry_id]),
    )


register_kind(OversightLogKind.NONCONFORMANCE_CLOSURE, render=render_closure, describe=describe_closure)
