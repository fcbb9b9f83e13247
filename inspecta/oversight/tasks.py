"""Scheduled work of oversight (huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import warnings_escalate, warnings_sync


@db_periodic_task(crontab(minute="5-59/15"))
@lock_task("oversight-warnings")
def oversight_warnings() -> dict[str, int]:
    """Warnings for the findings of every app (T/CECS 4.3.4-6), then the escalation of
    those that waited too long; a few minutes after the scans that write findings in bulk."""

    result = warnings_sync()
    return {
        "raised": result.raised,
        "resolved": result.resolved,
        "recurred": result.recurred,
        "escalated": warnings_escalate(),
    }
