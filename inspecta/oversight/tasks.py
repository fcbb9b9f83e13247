"""Scheduled work of oversight (huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import closures_overdue_scan, warnings_escalate, warnings_sync


@db_periodic_task(crontab(minute="5-59/15"))
@lock_task("oversight-warnings")
def oversight_warnings() -> dict[str, int]:
    """Nonconforming results not closed in time (Guangdong 附件2 二(十二)), warnings for
    the findings of every app (T/CECS 4.3.4-6), then the escalation of those that waited
    too long; a few minutes after the scans that write findings in bulk."""

    overdue = closures_overdue_scan()
    result = warnings_sync()
    return {
        "nonconformance_overdue": overdue,
        "raised": result.raised,
        "resolved": result.resolved,
        "recurred": result.recurred,
        "escalated": warnings_escalate(),
    }
