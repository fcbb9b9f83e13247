"""Scheduled work of test data (huey)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .overdue import overdue_scan
from .partitions import partitions_ensure


@db_periodic_task(crontab(minute="*/15"))
@lock_task("testing-overdue")
def testing_overdue() -> dict[str, int]:
    """Overdue test data (Guangdong 附件2 二(十一); T/CECS 4.3.4-4/-5): findings for
    received samples and on-site plans without data in time, resolved when it arrives."""

    result = overdue_scan()
    return {"found": result.found, "resolved": result.resolved}


@db_periodic_task(crontab(minute="7", hour="1"))
@lock_task("testing-partitions")
def testing_partitions() -> list[str]:
    """The monthly partitions of instrument data, created ahead (PostgreSQL)."""

    return partitions_ensure()
