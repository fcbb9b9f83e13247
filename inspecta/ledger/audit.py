"""Self-audit of the transparency log (T/CECS 7.2.3).

``verify_log`` recomputes, from the database as it is now:

1. every entry's leaf hash from its bytes, and that indexes run 0..n-1 without gaps;
2. every stored perfect-subtree hash of the tree from those leaves;
3. every stored checkpoint: its signatures (key history: Ed25519 and, when present,
   the SM2-with-SM3 line, GB/T 39786), its root against the recomputed tree, its
   consistency with the previous checkpoint, and that its RFC 3161 timestamp token
   (if any) stamps exactly this checkpoint (message imprint = SHA-256 of its body);
4. the latest entry of every logged record against a re-rendering of the record
   (``inspecta.ledger.registry``) with the current database row and the current
   content of its files: a direct SQL UPDATE or a replaced file shows up here.

Each problem is a :class:`Problem` naming the record and the entry. The command
``inspecta log verify`` prints them and exits non-zero; the daily job stores them
as critical :class:`~inspecta.ledger.models.AuditFinding` rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db.models import Max

from . import merkle, store, tsa
from .choices import FindingKind, FindingSeverity
from .models import Checkpoint, CheckpointTimestamp, Entry, SequencerState, TreeNode
from .note import NoteError, open_checkpoint
from .registry import get_kind, record_model
from .services import entry_bytes, finding_record, hash_files, verifiers

__all__ = ["Problem", "verify_and_record", "verify_log"]

CHUNK = 2000


@dataclass
class Problem:
    """One thing the self-audit found."""

    severity: str
    kind: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def critical(self) -> bool:
        return self.severity == FindingSeverity.CRITICAL


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...

    def close(self) -> Any: ...


ProgressFactory = Callable[..., Progress]


class _NoProgress:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _critical(kind: str, summary: str, /, **details: Any) -> Problem:
    return Problem(FindingSeverity.CRITICAL, kind, summary, details)


# ------------------------------------------------------------------ tree and entries


def _getter(nodes: dict[tuple[int, int], bytes]) -> Callable[[int, int], bytes]:
    return lambda level, index: nodes[(level, index)]


def _check_tree(size: int, checkpoint_sizes: set[int], progress: Progress) -> tuple[list[Problem], dict[int, bytes]]:
    """Steps 1-2: recompute leaves and every perfect subtree; return roots at ``checkpoint_sizes``."""
    problems: list[Problem] = []
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in checkpoint_sizes else {}
    frontier: dict[tuple[int, int], bytes] = {}
    expected_index = 0
    for start in range(0, size, CHUNK):
        end = min(start + CHUNK, size)
        rows = list(
            Entry.objects.filter(index__gte=start, index__lt=end)
            .order_by("index")
            .values_list("index", "entry", "leaf_hash", "kind", "record_type", "record_id")
        )
        expected: dict[tuple[int, int], bytes] = {}
        for index, raw, stored_leaf, kind, record_type, record_id in rows:
            if index != expected_index:
                problems.append(
                    _critical(
                        FindingKind.TREE_MISMATCH,
                        f"log index {expected_index} is missing (next entry has index {index})",
                        index=expected_index,
                    )
                )
                return problems, roots
            leaf = merkle.leaf_hash(bytes(raw))
            if bytes(stored_leaf) != leaf:
                problems.append(
                    _critical(
                        FindingKind.ENTRY_CORRUPT,
                        f"entry {index} ({record_type}:{record_id}) does not hash to its stored leaf hash",
                        index=index,
                        record_type=record_type,
                        record_id=record_id,
                        kind=kind,
                    )
                )
            for level, node_index, h in merkle.append_nodes(index, leaf, _getter(frontier)):
                frontier[(level, node_index)] = h
                expected[(level, node_index)] = h
            expected_index += 1
            n = index + 1
            if n in checkpoint_sizes:
                parts = merkle.perfect_subtrees(0, n)
                h = frontier[parts[-1]]
                for part in reversed(parts[:-1]):
                    h = merkle.node_hash(frontier[part], h)
                roots[n] = h
            progress.update(1)
        # Keep only what later appends can still need: the perfect subtrees of [0, end).
        needed = set(merkle.perfect_subtrees(0, expected_index))
        frontier = {k: v for k, v in frontier.items() if k in needed}
        stored = store.fetch_nodes(expected)
        for key, h in expected.items():
            got = stored.get(key)
            if got != h:
                level, node_index = key
                problems.append(
                    _critical(
                        FindingKind.TREE_MISMATCH,
                        f"stored tree node (level {level}, index {node_index}) is {'missing' if got is None else 'wrong'}",
                        level=level,
                        index=node_index,
                        leaves=[node_index << level, (node_index + 1) << level],
                    )
                )
    if expected_index != size:
        problems.append(
            _critical(
                FindingKind.TREE_MISMATCH,
                f"the tree has {size} leaves but only {expected_index} sequenced entries",
                tree_size=size,
                entries=expected_index,
            )
        )
    extra = TreeNode.objects.count() - (2 * size - bin(size).count("1"))
    if extra:
        problems.append(_critical(FindingKind.TREE_MISMATCH, f"{extra:+d} tree nodes beyond the tree", extra=extra))
    beyond = Entry.objects.filter(index__gte=size).count()
    if beyond:
        problems.append(
            _critical(FindingKind.TREE_MISMATCH, f"{beyond} entries have an index beyond the tree", count=beyond)
        )
    return problems, roots


def _check_checkpoints(checkpoints: list[Checkpoint], roots: dict[int, bytes], size: int) -> list[Problem]:
    """Step 3: signatures, roots and consistency of every stored checkpoint."""
    problems: list[Problem] = []
    keys = verifiers()
    previous: tuple[int, bytes] | None = None
    for cp in checkpoints:
        where = {"checkpoint": cp.pk, "size": cp.size, "created_at": cp.created_at.isoformat()}
        try:
            body, _signers = open_checkpoint(cp.note, keys)
        except NoteError as exc:
            problems.append(_critical(FindingKind.CHECKPOINT_INVALID, f"checkpoint {cp.pk}: {exc}", **where))
            continue
        if body.size != cp.size or body.root != bytes(cp.root):
            problems.append(
                _critical(FindingKind.CHECKPOINT_INVALID, f"checkpoint {cp.pk}: note and columns differ", **where)
            )
        if body.size > size:
            problems.append(
                _critical(FindingKind.CHECKPOINT_INVALID, f"checkpoint {cp.pk} is beyond the tree ({size})", **where)
            )
            continue
        if roots.get(body.size) != body.root:
            problems.append(
                _critical(
                    FindingKind.CHECKPOINT_INVALID,
                    f"checkpoint {cp.pk} (size {body.size}) does not match the recomputed root",
                    **where,
                )
            )
            continue
        if previous is not None and 0 < previous[0] <= body.size:
            try:
                proof = store.consistency_proof(previous[0], body.size)
                merkle.verify_consistency(previous[0], body.size, proof, previous[1], body.root)
            except (merkle.ProofError, store.StoreError) as exc:
                problems.append(
                    _critical(FindingKind.CHECKPOINT_INVALID, f"checkpoint {cp.pk} inconsistent: {exc}", **where)
                )
        elif previous is not None and previous[0] > body.size:
            problems.append(
                _critical(
                    FindingKind.CHECKPOINT_INVALID, f"checkpoint {cp.pk} is smaller than its predecessor", **where
                )
            )
        previous = (body.size, body.root)
    return problems


def _check_timestamps() -> list[Problem]:
    """Step 3b: each obtained RFC 3161 token stamps SHA-256 of its checkpoint's body."""
    problems: list[Problem] = []
    stamps = CheckpointTimestamp.objects.filter(token__isnull=False).select_related("checkpoint").order_by("pk")
    for stamp in stamps.iterator(chunk_size=CHUNK):
        cp = stamp.checkpoint
        where = {"checkpoint": cp.pk, "size": cp.size, "timestamp": stamp.pk}
        split = cp.note.rfind("\n\n")
        body = cp.note[: split + 1] if split >= 0 else cp.note
        expected = hashlib.sha256(body.encode("utf-8")).digest()
        if bytes(stamp.imprint) != expected:
            problems.append(
                _critical(
                    FindingKind.TIMESTAMP_INVALID,
                    f"timestamp of checkpoint {cp.pk} (size {cp.size}): stored imprint is not SHA-256 of the checkpoint",
                    **where,
                )
            )
            continue
        try:
            tsa.check_token(bytes(stamp.token or b""), expected)
        except tsa.TimestampError as exc:
            problems.append(
                _critical(
                    FindingKind.TIMESTAMP_INVALID,
                    f"timestamp of checkpoint {cp.pk} (size {cp.size}): {exc}",
                    **where,
                )
            )
    return problems


# ------------------------------------------------------------------------- records


def _latest_entry_pks() -> Iterator[list[int]]:
    pks = sorted(
        Entry.objects.values("record_type", "record_id").annotate(last=Max("pk")).values_list("last", flat=True)
    )
    for i in range(0, len(pks), CHUNK):
        yield pks[i : i + CHUNK]


def _rerender(entry: Entry, obj: Any) -> tuple[bytes, dict[str, Any]]:
    spec = get_kind(entry.kind)
    assert spec is not None
    stored = json.loads(bytes(entry.entry))
    rendered = spec.render(obj)
    files = hash_files(rendered.files)
    raw = entry_bytes(
        kind=entry.kind,
        record_type=entry.record_type,
        record_id=entry.record_id,
        logged_at=stored["logged_at"],
        data=rendered.data,
        files=files,
    )
    changed = sorted(
        k
        for k in set(stored.get("data", {})) | set(rendered.data)
        if stored.get("data", {}).get(k) != rendered.data.get(k)
    )
    old_files = {f["name"]: f["sha256"] for f in stored.get("files", [])}
    new_files = {f["name"]: f["sha256"] for f in files}
    changed_files = sorted(n for n in set(old_files) | set(new_files) if old_files.get(n) != new_files.get(n))
    return raw, {"fields": changed, "files": changed_files}


def _check_records(progress: Progress) -> list[Problem]:
    """Step 4: the latest entry of each record equals a re-rendering of the record now."""
    problems: list[Problem] = []
    unverifiable: dict[str, int] = {}
    for pks in _latest_entry_pks():
        # Count the kinds nobody can re-render without loading their entries.
        heads = Entry.objects.filter(pk__in=pks).values_list("pk", "kind")
        wanted = []
        for pk, kind in heads:
            if get_kind(kind) is None:
                unverifiable[kind] = unverifiable.get(kind, 0) + 1
                progress.update(1)
            else:
                wanted.append(pk)
        entries = list(Entry.objects.filter(pk__in=wanted).order_by("pk"))
        by_type: dict[str, list[Entry]] = {}
        for entry in entries:
            by_type.setdefault(entry.record_type, []).append(entry)
        for record_type, group in by_type.items():
            model = record_model(record_type)
            objects = {}
            if model is not None:
                ids = [e.record_id for e in group]
                pk_field = model._meta.pk
                assert pk_field is not None
                try:
                    objects = {
                        str(k): v for k, v in model._base_manager.in_bulk([pk_field.to_python(i) for i in ids]).items()
                    }
                except (ValueError, TypeError, ValidationError):  # an id that is not a valid key: missing below
                    objects = {}
            for entry in group:
                progress.update(1)
                where = {
                    "record_type": entry.record_type,
                    "record_id": entry.record_id,
                    "kind": entry.kind,
                    "index": entry.index,
                    "entry_pk": entry.pk,
                }
                if model is None or get_kind(entry.kind) is None:
                    unverifiable[entry.kind] = unverifiable.get(entry.kind, 0) + 1
                    continue
                obj = objects.get(entry.record_id)
                if obj is None:
                    problems.append(
                        _critical(
                            FindingKind.RECORD_MISSING,
                            f"{entry.record_type}:{entry.record_id} (log index {entry.index}) no longer exists",
                            **where,
                        )
                    )
                    continue
                try:
                    raw, diff = _rerender(entry, obj)
                except (OSError, ValueError, KeyError) as exc:
                    problems.append(
                        _critical(
                            FindingKind.RECORD_CHANGED,
                            f"{entry.record_type}:{entry.record_id} (log index {entry.index}) cannot be re-rendered: {exc}",
                            **where,
                        )
                    )
                    continue
                if raw != bytes(entry.entry):
                    what = ", ".join([*diff["fields"], *(f"file {n}" for n in diff["files"])]) or "encoding"
                    problems.append(
                        _critical(
                            FindingKind.RECORD_CHANGED,
                            f"{entry.record_type}:{entry.record_id} differs from log index {entry.index} ({what})",
                            **where,
                            **diff,
                        )
                    )
    for kind, count in sorted(unverifiable.items()):
        problems.append(
            Problem(
                FindingSeverity.WARNING,
                FindingKind.UNVERIFIABLE_KIND,
                f"{count} records of kind {kind!r} have no registered renderer and were not re-checked",
                {"kind": kind, "count": count},
            )
        )
    return problems


# ---------------------------------------------------------------------- entry point


def verify_log(*, progress: ProgressFactory | None = None) -> list[Problem]:
    """Run the whole self-audit; return every problem found (empty: all is well)."""
    factory: ProgressFactory = progress or _NoProgress
    state = SequencerState.objects.filter(pk=1).first()
    size = state.size if state else 0
    checkpoints = list(Checkpoint.objects.order_by("pk"))
    bar = factory(total=size, desc="tree", unit="entry")
    try:
        problems, roots = _check_tree(size, {cp.size for cp in checkpoints}, bar)
    finally:
        bar.close()
    problems += _check_checkpoints(checkpoints, roots, size)
    problems += _check_timestamps()
    records = Entry.objects.values("record_type", "record_id").distinct().count()
    bar = factory(total=records, desc="records", unit="record")
    try:
        problems += _check_records(bar)
    finally:
        bar.close()
    return problems


MAX_STORED = 200


def verify_and_record() -> list[Problem]:
    """The job: run the self-audit and keep every critical problem as a finding."""
    problems = verify_log()
    critical = [p for p in problems if p.critical]
    for problem in critical[:MAX_STORED]:
        finding_record(severity=problem.severity, kind=problem.kind, summary=problem.summary, details=problem.details)
    if len(critical) > MAX_STORED:
        finding_record(
            severity=FindingSeverity.CRITICAL,
            kind=FindingKind.TREE_MISMATCH,
            summary=f"{len(critical) - MAX_STORED} further critical problems not stored; run `inspecta log verify`",
        )
    return problems
