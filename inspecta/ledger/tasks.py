"""Jobs of the transparency log; they call services and hold no logic (STYLE.md 7).

Huey schedules periodic tasks by the minute, so the sequencer job loops inside its
minute (sequencing every ``INSPECTA_LOG_SEQUENCE_INTERVAL`` seconds and signing a
checkpoint every ``INSPECTA_LOG_CHECKPOINT_INTERVAL`` seconds when the tree grew).
No huey task lock: a lock left behind by a killed consumer would stop the log for
good, while two overlapping loops are harmless (the sequencer row lock serialises them).
"""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import audit, services


@db_periodic_task(crontab(minute="*"))
def ledger_sequencer() -> int:
    """Integrate pending entries into the tree and publish checkpoints."""
    return services.sequencer_run()


def _verify_schedule() -> crontab:
    hour = settings.INSPECTA_LOG_VERIFY_HOUR
    if hour < 0:
        return crontab(month="2", day="31")  # never: February has no 31st
    return crontab(minute="17", hour=str(hour))


@db_periodic_task(_verify_schedule())
def ledger_verify() -> int:
    """Daily self-audit (T/CECS 7.2.3); critical problems become findings."""
    return sum(1 for p in audit.verify_and_record() if p.critical)


@db_task()
def ledger_timestamp_one(pk: int) -> bool:
    """Fetch the RFC 3161 timestamp of one just-published checkpoint (T/CECS 4.1.2, 7.2.3).

    Enqueued after the checkpoint's transaction commits; failures stay queued for
    ``ledger_timestamp``."""
    return services.timestamp_obtain(pk).token is not None


@db_periodic_task(crontab(minute="*"))
def ledger_timestamp() -> int:
    """Retry every queued checkpoint timestamp whose back-off expired (TSA outages)."""
    return services.timestamps_due()
