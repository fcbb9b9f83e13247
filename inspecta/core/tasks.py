"""Scheduled housekeeping; tasks call services and hold no logic (STYLE.md 7)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, lock_task

from . import housekeeping
from .health import jobs_heartbeat


@HUEY.on_startup()
def consumer_started() -> None:
    """The consumer shows it is alive as soon as it starts (``/readyz``)."""

    jobs_heartbeat()


@db_periodic_task(crontab(minute="*"))
def consumer_heartbeat() -> None:
    """Every minute: the consumer is alive and runs jobs (``/readyz``)."""

    jobs_heartbeat()


@db_periodic_task(crontab(minute="*/15"))
def purge_expired_sessions() -> int:
    """Server-side idle timeout: expired sessions and their registry rows go."""

    return housekeeping.sessions_purge_expired()


@db_periodic_task(crontab(minute="40"))
@lock_task("files-orphans")
def remove_orphaned_files() -> dict[str, int]:
    """Every hour: bytes of files whose transaction rolled back, past the grace period."""

    return {"files_orphaned_removed": housekeeping.files_orphans_remove()}
