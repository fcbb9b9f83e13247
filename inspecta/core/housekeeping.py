"""Housekeeping services run by jobs."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone


@transaction.atomic
def sessions_purge_expired() -> int:
    from inspecta.accounts.models import ActiveSession

    expired = Session.objects.filter(expire_date__lt=timezone.now())
    keys = list(expired.values_list("session_key", flat=True))
    ActiveSession.objects.filter(session_key__in=keys).delete()
    count, _ignored = expired.delete()
    # Registry rows whose session vanished by other means (logout elsewhere, flush).
    ActiveSession.objects.exclude(session_key__in=Session.objects.values("session_key")).delete()
    return count


def files_orphans_remove() -> int:
    """Bytes of files a rolled-back transaction left without their row: removed once
    past the grace period (``inspecta.core.files.files_orphans_remove``)."""
    from .files import files_orphans_remove as remove

    return remove()
