"""Witnessing another node's log, first step.

Fetch the node's checkpoint, verify its signature with the pinned verifier key, check
that it is consistent with the last checkpoint seen from that node, keep it; two
different roots for one size, or an inconsistent pair, is a fork and raises a critical
finding. The federation wave turns this into C2SP cosignatures.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.db import transaction

from .choices import FindingKind, FindingSeverity
from .logcheck import CheckError, Fetcher, LogClient, SignedCheckpoint, VerifierKey, check_consistency, http_fetch
from .logcheck import open_signed_checkpoint as open_cp
from .models import WitnessedCheckpoint
from .services import finding_record

__all__ = ["WitnessAlarm", "WitnessResult", "witness_observe"]


class WitnessAlarm(Exception):
    """The witnessed log failed verification or forked (a finding was recorded)."""


@dataclass(frozen=True)
class WitnessResult:
    source: str
    origin: str
    size: int
    root: str
    previous_size: int | None
    stored: bool


def _as_checkpoint(row: WitnessedCheckpoint) -> SignedCheckpoint:
    return SignedCheckpoint(row.origin, row.size, bytes(row.root), "", row.note)


def witness_observe(*, source: str, verifier_key: str = "", fetch: Fetcher = http_fetch) -> WitnessResult:
    """Fetch, verify and keep ``source``'s checkpoint; :class:`WitnessAlarm` on failure or fork.

    The verifier key is the one given, else the one pinned at the first observation
    of ``source``, else (first time only) the node's own ``/api/v1/log/key``.
    """
    source = source.rstrip("/")
    client = LogClient(source, fetch)
    last = WitnessedCheckpoint.objects.filter(source=source).order_by("-pk").first()
    key_text = verifier_key or (last.verifier_key if last else "") or client.key()
    details = {"source": source}
    try:
        key = VerifierKey.parse(key_text)
        new = open_cp(client.checkpoint(), key)
    except CheckError as exc:
        finding_record(
            severity=FindingSeverity.CRITICAL,
            kind=FindingKind.WITNESS_INVALID,
            summary=f"{source}: {exc}",
            details=details,
        )
        raise WitnessAlarm(str(exc)) from exc
    same_size = WitnessedCheckpoint.objects.filter(source=source, size=new.size).exclude(root=new.root).first()
    try:
        if same_size is not None:
            raise CheckError(f"fork: another root was seen for size {new.size}")
        if last is not None:
            check_consistency(client, _as_checkpoint(last), new)
    except CheckError as exc:
        finding_record(
            severity=FindingSeverity.CRITICAL,
            kind=FindingKind.WITNESS_FORK,
            summary=f"{source}: {exc}",
            details={**details, "size": new.size, "root": base64.b64encode(new.root).decode(), "note": new.note},
        )
        raise WitnessAlarm(str(exc)) from exc
    stored = last is None or last.size != new.size or bytes(last.root) != new.root
    if stored:
        with transaction.atomic():
            WitnessedCheckpoint.objects.create(
                source=source,
                origin=new.origin,
                verifier_key=key_text.strip(),
                size=new.size,
                root=new.root,
                note=new.note,
            )
    return WitnessResult(
        source=source,
        origin=new.origin,
        size=new.size,
        root=base64.b64encode(new.root).decode(),
        previous_size=last.size if last else None,
        stored=stored,
    )
