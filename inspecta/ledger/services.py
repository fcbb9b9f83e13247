"""Every write to the transparency log (STYLE.md 4; T/CECS 2.0.15, 4.1.2, 7.2.3).

* ``log_append`` queues an entry in the caller's transaction: the record exists if and
  only if its entry does. It is one INSERT, so appending does not serialise the ingest
  path.
* ``sequence_pending`` (the sequencer, run by a job every few seconds) gives queued
  entries consecutive indexes under a lock and integrates them into the stored tree
  in batches, as Trillian does.
* ``checkpoint_publish`` signs a C2SP checkpoint when the tree grew (Ed25519, and a
  second SM2-with-SM3 line when ``INSPECTA_LOG_SM2_SIGNATURE`` is on, GB/T 39786) and
  queues its RFC 3161 timestamp when ``INSPECTA_LOG_TSA_URL`` is set.
* ``signing_key_active`` / ``sm2_key_active`` / ``signing_key_rotate`` manage the
  encrypted keys.
* ``timestamp_obtain`` / ``timestamps_due`` fetch the queued timestamps (job
  ``ledger_timestamp``); a TSA outage never blocks publication.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

import rfc8785
from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from . import merkle, store, tsa
from .choices import FindingSeverity, KeyAlgorithm
from .keys import open_private_key, seal_private_key
from .models import AuditFinding, Checkpoint, CheckpointTimestamp, Entry, SequencerState, SigningKey
from .note import ED25519, SignatureAlgorithm, Signer, Verifier, is_valid_name, sign_checkpoint
from .note import Checkpoint as CheckpointBody
from .registry import FileRef, file_sha256, get_kind
from .sm2 import SM2

logger = logging.getLogger(__name__)

ALGORITHMS: dict[str, SignatureAlgorithm] = {KeyAlgorithm.ED25519: ED25519, KeyAlgorithm.SM2: SM2}

__all__ = [
    "ENTRY_FORMAT_VERSION",
    "LogError",
    "LogOriginChanged",
    "checkpoint_publish",
    "configured_origin",
    "entry_bytes",
    "finding_record",
    "log_append",
    "log_append_many",
    "log_origin",
    "log_origin_fix",
    "sequence_pending",
    "sequencer_run",
    "signing_key_active",
    "signing_key_rotate",
    "sm2_key_active",
    "timestamp_obtain",
    "timestamps_due",
    "verifiers",
]

ENTRY_FORMAT_VERSION = 1


class LogError(Exception):
    """The log cannot accept this entry (unknown kind, misuse, bad input)."""


# --------------------------------------------------------------------- entries


def format_time(value: datetime.datetime) -> str:
    """RFC 3339 UTC with microseconds, the form used inside entries."""
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_bytes(
    *,
    kind: str,
    record_type: str,
    record_id: str,
    logged_at: str,
    data: Mapping[str, Any],
    files: Iterable[Mapping[str, str]],
) -> bytes:
    """The entry: RFC 8785 (JCS) canonical JSON of the record envelope (CONTRACT §5).

    ``{"v", "kind", "type", "id", "logged_at", "data", "files": [{"name", "sha256"}]}``.
    """
    document: Any = {
        "v": ENTRY_FORMAT_VERSION,
        "kind": kind,
        "type": record_type,
        "id": record_id,
        "logged_at": logged_at,
        "data": dict(data),
        "files": [{"name": str(f["name"]), "sha256": str(f["sha256"])} for f in files],
    }
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LogError(f"record is not canonicalisable JSON: {exc}") from exc


def hash_files(files: Iterable[FileRef]) -> list[dict[str, str]]:
    """``[{"name", "sha256"}]`` of the referenced files, in the given order."""
    return [{"name": str(name), "sha256": file_sha256(content)} for name, content in files]


def _build_entry(
    kind: str, record: models.Model | Mapping[str, Any], files: Iterable[FileRef], now: datetime.datetime
) -> Entry:
    kind = str(getattr(kind, "value", kind))
    if not kind or len(kind) > 64:
        raise LogError("kind must be 1-64 characters")
    if isinstance(record, models.Model):
        spec = get_kind(kind)
        if spec is None:
            raise LogError(f"no renderer registered for kind {kind!r}")
        if tuple(files):
            raise LogError("files of a model record come from its renderer")
        if record.pk is None:
            raise LogError("save the record before logging it")
        rendered = spec.render(record)
        record_type, record_id = spec.record_type or record._meta.label_lower, str(record.pk)
        data, file_list = rendered.data, hash_files(rendered.files)
    else:
        if "type" not in record or "id" not in record:
            raise LogError('a record mapping needs "type" and "id"')
        record_type, record_id = str(record["type"]), str(record["id"])
        data = {k: v for k, v in record.items() if k not in ("type", "id")}
        file_list = hash_files(files)
    if not record_type or len(record_type) > 100 or not record_id or len(record_id) > 64:
        raise LogError("record type must be 1-100 and id 1-64 characters")
    raw = entry_bytes(
        kind=kind, record_type=record_type, record_id=record_id, logged_at=format_time(now), data=data, files=file_list
    )
    return Entry(
        kind=kind,
        record_type=record_type,
        record_id=record_id,
        entry=raw,
        leaf_hash=merkle.leaf_hash(raw),
        created_at=now,
    )


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise LogError("log_append must run inside the transaction that writes the record")


def log_append(*, kind: str, record: models.Model | Mapping[str, Any], files: Iterable[FileRef] = ()) -> Entry:
    """Queue one log entry for ``record`` in the caller's transaction.

    ``record`` is either a model instance of a registered kind (rendered by the kind's
    renderer, which also names its files; this is what the self-audit can re-check),
    or a mapping with ``"type"`` and ``"id"`` keys plus the data to log, with
    ``files`` as ``(name, content)`` pairs. The entry gets its ``index`` from the
    sequencer within seconds; until then it is pending.
    """
    _require_transaction()
    entry = _build_entry(kind, record, files, timezone.now())
    entry.save(force_insert=True)
    return entry


def log_append_many(*, kind: str, records: Iterable[models.Model | Mapping[str, Any]]) -> list[Entry]:
    """``log_append`` for a batch of records of one kind (bulk imports), in one INSERT per
    500 entries; each record as in ``log_append`` (files only through renderers)."""
    _require_transaction()
    now = timezone.now()
    entries = [_build_entry(kind, record, (), now) for record in records]
    return Entry.objects.bulk_create(entries, batch_size=500)


# ------------------------------------------------------------------- sequencer


def _lock_state() -> SequencerState:
    """Lock the sequencer row (PostgreSQL row lock; SQLite holds the write lock)."""
    state = SequencerState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        SequencerState.objects.get_or_create(pk=1)
        state = SequencerState.objects.select_for_update().get(pk=1)
    return state


def _contiguous_runs(pks: list[int]) -> list[tuple[int, int, int]]:
    """``(first_pk, last_pk, position_of_first)`` for each run of consecutive pks."""
    runs: list[tuple[int, int, int]] = []
    for pos, pk in enumerate(pks):
        if runs and pk == runs[-1][1] + 1:
            first, _last, start = runs[-1]
            runs[-1] = (first, pk, start)
        else:
            runs.append((pk, pk, pos))
    return runs


@transaction.atomic
def _sequence_batch(batch_size: int) -> int:
    state = _lock_state()
    pending = list(Entry.objects.pending().order_by("pk").values_list("pk", "leaf_hash")[:batch_size])
    if not pending:
        return 0
    size = state.size
    nodes = store.fetch_nodes(merkle.perfect_subtrees(0, size))
    new_nodes: list[tuple[int, int, bytes]] = []
    for offset, (_pk, leaf) in enumerate(pending):
        for level, index, h in merkle.append_nodes(size + offset, bytes(leaf), lambda lv, ix: nodes[(lv, ix)]):
            nodes[(level, index)] = h
            new_nodes.append((level, index, h))
    store.insert_nodes(new_nodes)
    now = timezone.now()
    pks = [pk for pk, _leaf in pending]
    for first, last, position in _contiguous_runs(pks):
        Entry.objects.filter(pk__gte=first, pk__lte=last, index__isnull=True).update(
            index=F("pk") + (size + position - first), sequenced_at=now
        )
    state.size = size + len(pending)
    state.updated_at = now
    state.save(update_fields=["size", "updated_at"])
    return len(pending)


def sequence_pending(*, batch_size: int | None = None, limit: int | None = None) -> int:
    """Integrate every committed pending entry into the tree; return how many.

    Runs batch after batch (each its own transaction) until nothing is pending or
    ``limit`` entries were sequenced. Safe to run from several processes at once.
    """
    batch = batch_size or settings.INSPECTA_LOG_SEQUENCE_BATCH
    total = 0
    while limit is None or total < limit:
        step = batch if limit is None else min(batch, limit - total)
        done = _sequence_batch(step)
        total += done
        if done < step:
            break
    return total


def sequencer_run(*, seconds: float | None = None) -> int:
    """The sequencer loop of the minutely job: sequence every few seconds and sign a
    checkpoint when due, for about ``seconds`` (``INSPECTA_LOG_LOOP_SECONDS``).

    ``seconds=0`` runs one round (what tests and ``inspecta log sequence`` do).
    """
    duration = settings.INSPECTA_LOG_LOOP_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + duration
    last_checkpoint = -math.inf
    total = 0
    while True:
        total += sequence_pending()
        if time.monotonic() - last_checkpoint >= settings.INSPECTA_LOG_CHECKPOINT_INTERVAL:
            checkpoint_publish()
            last_checkpoint = time.monotonic()
        if time.monotonic() + settings.INSPECTA_LOG_SEQUENCE_INTERVAL > deadline:
            return total
        time.sleep(settings.INSPECTA_LOG_SEQUENCE_INTERVAL)


# ---------------------------------------------------------------- signing keys


def configured_origin() -> str:
    """The origin this configuration names: ``INSPECTA_LOG_ORIGIN``, or else
    ``<host:port of PUBLIC_BASE_URL>/log``."""
    origin = settings.INSPECTA_LOG_ORIGIN or f"{urlparse(settings.PUBLIC_BASE_URL).netloc}/log"
    if not is_valid_name(origin):
        raise LogError(f"INSPECTA_LOG_ORIGIN {origin!r} is not a valid key name (no spaces, no '+')")
    return origin


class LogOriginChanged(LogError):
    """The configured origin differs from the one the log has signed checkpoints with."""


def _origin_refused(fixed: str) -> LogOriginChanged:
    return LogOriginChanged(
        f"the log origin is fixed at {fixed!r}: it was stored at this node's first start and "
        f"checkpoints are signed with it. INSPECTA_LOG_ORIGIN={settings.INSPECTA_LOG_ORIGIN!r} "
        f"differs and is refused: remove the setting or set it back to {fixed!r} "
        "(see docs/ledger.md, 'Origin')."
    )


def log_origin() -> str:
    """The log's origin line and key name (T/CECS 2.0.15; CONTRACT §5), as fixed at the
    node's first start (``log_origin_fix``): never the per-start configuration, so a
    node served at another address keeps signing under the name its checkpoints carry.
    An explicit ``INSPECTA_LOG_ORIGIN`` naming another origin raises ``LogOriginChanged``."""
    fixed = SequencerState.objects.filter(pk=1).values_list("origin", flat=True).first()
    if not fixed:
        return log_origin_fix()
    if settings.INSPECTA_LOG_ORIGIN and fixed != settings.INSPECTA_LOG_ORIGIN:
        if Checkpoint.objects.exists():
            raise _origin_refused(fixed)
        return log_origin_fix()
    return fixed


@transaction.atomic
def log_origin_fix() -> str:
    """Fix the log's origin at the node's first start (``inspecta serve`` calls it before
    serving) and return it; later calls return the stored origin.

    First time: the name of a signing key the log already used (a node that signed
    checkpoints before the origin was stored keeps it), else ``configured_origin()``.
    Later: an explicit ``INSPECTA_LOG_ORIGIN`` that differs replaces the stored origin
    only while no checkpoint has been signed; afterwards it raises ``LogOriginChanged``
    (a log's origin never changes once it has signed a checkpoint). A derived default
    (from ``PUBLIC_BASE_URL``) never replaces it."""
    state = _lock_state()
    explicit = settings.INSPECTA_LOG_ORIGIN
    if not state.origin:
        key = SigningKey.objects.filter(algorithm=KeyAlgorithm.ED25519).order_by("-is_active", "-pk").first()
        state.origin = key.name if key is not None else configured_origin()
        if explicit and explicit != state.origin and Checkpoint.objects.exists():
            raise _origin_refused(state.origin)
        state.origin = configured_origin() if explicit else state.origin
        state.save(update_fields=["origin"])
    elif explicit and explicit != state.origin:
        if Checkpoint.objects.exists():
            raise _origin_refused(state.origin)
        state.origin = configured_origin()
        state.save(update_fields=["origin"])
    return state.origin


def _key_create(algorithm: str, now: datetime.datetime) -> SigningKey:
    """Retire the active key of ``algorithm`` and create a new encrypted one."""
    SigningKey.objects.filter(is_active=True, algorithm=algorithm).update(is_active=False, retired_at=now)
    signer = Signer.generate(log_origin(), ALGORITHMS[algorithm])
    verifier = signer.verifier()
    return SigningKey.objects.create(
        name=signer.name,
        algorithm=algorithm,
        key_hash=verifier.key_hash.hex(),
        verifier_key=verifier.key_string,
        encrypted_private_key=seal_private_key(signer.private_key),
        is_active=True,
        created_at=now,
    )


@transaction.atomic
def signing_key_rotate() -> SigningKey:
    """Retire the active key (kept, public) and generate a new encrypted one.

    Rotates the Ed25519 key and, when ``INSPECTA_LOG_SM2_SIGNATURE`` is on, the SM2
    key too (GB/T 39786); returns the new Ed25519 key.
    """
    _lock_state()
    now = timezone.now()
    key = _key_create(KeyAlgorithm.ED25519, now)
    if settings.INSPECTA_LOG_SM2_SIGNATURE:
        _key_create(KeyAlgorithm.SM2, now)
    return key


def _active(algorithm: str) -> SigningKey:
    key = SigningKey.objects.filter(is_active=True, algorithm=algorithm).first()
    if key is None or key.name != log_origin():
        with transaction.atomic():
            _lock_state()
            key = SigningKey.objects.filter(is_active=True, algorithm=algorithm).first()
            if key is None or key.name != log_origin():
                key = _key_create(algorithm, timezone.now())
    return key


def signing_key_active() -> SigningKey:
    """The Ed25519 key that signs checkpoints; generated at first use (first start)."""
    return _active(KeyAlgorithm.ED25519)


def sm2_key_active() -> SigningKey | None:
    """The SM2-with-SM3 key of the second signature line (GB/T 39786), generated at
    first use; ``None`` unless ``INSPECTA_LOG_SM2_SIGNATURE`` is on."""
    if not settings.INSPECTA_LOG_SM2_SIGNATURE:
        return None
    return _active(KeyAlgorithm.SM2)


def signer_for(key: SigningKey) -> Signer:
    return Signer(key.name, open_private_key(key.encrypted_private_key), ALGORITHMS[key.algorithm])


def verifiers() -> list[Verifier]:
    """Every verifier key the log ever used (the public key history, both algorithms)."""
    return [Verifier.from_key_string(k) for k in SigningKey.objects.values_list("verifier_key", flat=True)]


# ----------------------------------------------------------------- checkpoints


def checkpoint_publish(*, force: bool = False) -> Checkpoint | None:
    """Sign and keep a checkpoint of the current tree if it grew (or a key changed).

    The note carries the Ed25519 line and, when ``INSPECTA_LOG_SM2_SIGNATURE`` is on,
    a second SM2-with-SM3 line (GB/T 39786). When ``INSPECTA_LOG_TSA_URL`` is set, an
    RFC 3161 timestamp is queued in the same transaction and fetched by a job after
    the commit, so a TSA outage never delays publication (T/CECS 4.1.2, 7.2.3).
    Returns the new checkpoint, or ``None`` when the latest one is still current.
    """
    key = signing_key_active()
    sm2_key = sm2_key_active()
    with transaction.atomic():
        state = _lock_state()
        size = state.size
        last = Checkpoint.objects.order_by("-pk").first()
        current = (
            last is not None
            and last.size == size
            and last.key_id == key.pk
            and last.sm2_key_id == (sm2_key.pk if sm2_key else None)
        )
        if current and not force:
            return None
        root = store.root(size)
        signers = [signer_for(key)] + ([signer_for(sm2_key)] if sm2_key else [])
        body = CheckpointBody(key.name, size, root)
        note = sign_checkpoint(body, signers)
        checkpoint = Checkpoint.objects.create(size=size, root=root, note=note, key=key, sm2_key=sm2_key)
        url = settings.INSPECTA_LOG_TSA_URL
        if url:
            stamp = CheckpointTimestamp.objects.create(
                checkpoint=checkpoint, imprint=hashlib.sha256(body.body().encode("utf-8")).digest(), tsa_url=url
            )
            transaction.on_commit(lambda: _enqueue_timestamp(stamp.pk))
        return checkpoint


def _enqueue_timestamp(pk: int) -> None:
    from .tasks import ledger_timestamp_one

    try:
        ledger_timestamp_one(pk)
    except Exception:  # the periodic job retries; publication must not fail
        logger.exception("could not enqueue the timestamp of checkpoint timestamp %s", pk)


# ------------------------------------------------------------------ timestamps

RETRY_BASE = 30
RETRY_MAX = 3600


def timestamp_obtain(pk: int) -> CheckpointTimestamp:
    """Ask the TSA for the queued timestamp ``pk`` and keep the token (T/CECS 4.1.2, 7.2.3).

    The request is over SHA-256 of the checkpoint body, with a nonce; the answer must
    be granted and its token's message imprint must equal ours (``tsa.check_token``).
    A failure (TSA down, refusal, wrong imprint) is recorded on the row
    (``attempts``, ``last_error``) and retried later with exponential back-off;
    nothing is raised. A row that already has its token is returned unchanged.
    """
    stamp = CheckpointTimestamp.objects.select_related("checkpoint").get(pk=pk)
    if stamp.token is not None:
        return stamp
    now = timezone.now()
    try:
        token = asyncio.run(
            tsa.request_token(stamp.tsa_url, bytes(stamp.imprint), timeout=settings.INSPECTA_LOG_TSA_TIMEOUT)
        )
        info = tsa.check_token(token, bytes(stamp.imprint))
    except tsa.TimestampError as exc:
        with transaction.atomic():
            locked = CheckpointTimestamp.objects.select_for_update().get(pk=pk)
            if locked.token is not None:
                return locked
            locked.attempts += 1
            locked.last_error = str(exc)[:500]
            locked.last_attempt_at = now
            delay = min(RETRY_MAX, RETRY_BASE * 2 ** min(locked.attempts - 1, 16))
            locked.next_attempt_at = now + datetime.timedelta(seconds=delay)
            locked.save(update_fields=["attempts", "last_error", "last_attempt_at", "next_attempt_at"])
        logger.warning("RFC 3161 timestamp of checkpoint %s failed: %s", stamp.checkpoint_id, exc)
        return locked
    with transaction.atomic():
        locked = CheckpointTimestamp.objects.select_for_update().get(pk=pk)
        if locked.token is not None:
            return locked
        locked.token = token
        locked.tsa_name = info.tsa_name[:500]
        locked.gen_time = info.gen_time
        locked.serial_number = str(info.serial_number)[:100]
        locked.attempts += 1
        locked.last_error = ""
        locked.last_attempt_at = now
        locked.save()
    return locked


def timestamps_due(*, limit: int = 50) -> int:
    """Fetch the queued timestamps whose (re)try is due, newest first; return how many
    were obtained. Run every minute by the ``ledger_timestamp`` job."""
    if not settings.INSPECTA_LOG_TSA_URL:
        return 0
    due = list(
        CheckpointTimestamp.objects.filter(token__isnull=True, next_attempt_at__lte=timezone.now())
        .order_by("-pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if timestamp_obtain(pk).token is not None)


# -------------------------------------------------------------------- findings


def finding_record(*, severity: str, kind: str, summary: str, details: dict[str, Any] | None = None) -> AuditFinding:
    """Keep one self-audit or witness finding (T/CECS 7.2.3)."""
    if severity not in FindingSeverity.values:
        raise LogError(f"unknown severity {severity!r}")
    return AuditFinding.objects.create(severity=severity, rule=kind, detail=summary[:500], details=details or {})
