"""Scheduled housekeeping; tasks call services and hold no logic (STYLE.md 7)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import housekeeping


@db_periodic_task(crontab(minute="*/15"))
def purge_expired_sessions() -> int:
    """Server-side idle timeout: expired sessions and their registry rows go."""

    return housekeeping.sessions_purge_expired()
