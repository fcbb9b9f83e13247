"""Housekeeping of the exchange app, run by jobs."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import SignatureNonce


@transaction.atomic
def nonces_purge() -> int:
    """Nonces whose signatures have expired can no longer be replayed: forget them."""
    return SignatureNonce.objects.filter(expires_at__lt=timezone.now()).delete()[0]


def uploads_expire() -> int:
    """Abandoned uploads past ``expires_at``: partial data removed, row marked expired."""
    from .uploads import uploads_expire as expire

    return expire()


def uploads_recover() -> int:
    """Uploads left at their length without a file by a crash: finished now."""
    from .uploads import uploads_recover as recover

    return recover()


def uploads_orphans_remove() -> int:
    """Partial files no upload still receives, left by a crash: removed past the grace period."""
    from .uploads import uploads_orphans_remove as remove

    return remove()
