"""Log explorer pages, public and without login (T/CECS 4.1.2).

Shows the current checkpoint, the recent checkpoints with their RFC 3161 timestamps
(TSA, time; T/CECS 7.2.3), the latest entries, a search by index, and each entry
with its inclusion proof verified against the latest checkpoint. Entries carry ids,
roles and hashes only, so nothing here is personal data. Each entry is shown as the
record it logs (``present.entry_view``: kind, the record named and linked, who and
when), with its raw JSON folded; what names the record is shown only to those who
may view it, so a page seen signed in is never kept by a shared cache.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

from . import merkle, selectors, store
from .forms import IndexSearchForm
from .models import Checkpoint, CheckpointTimestamp, Entry
from .present import entry_view as present_entry
from .present import entry_views


def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


def _timestamp_of(checkpoint: Checkpoint) -> CheckpointTimestamp | None:
    try:
        return checkpoint.timestamp  # type: ignore[no-any-return]
    except CheckpointTimestamp.DoesNotExist:
        return None


def _cached(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Anonymous pages may be cached 5 s by anyone; a signed-in viewer's only privately."""

    if request.user.is_authenticated:
        patch_cache_control(response, private=True, no_store=True)
    else:
        patch_cache_control(response, public=True, max_age=5)
    patch_vary_headers(response, ["Cookie"])
    return response


def log_home_view(request: HttpRequest) -> HttpResponse:
    """The log's home page with the search by index; a bad index re-renders the page with
    the error next to the search box (400)."""

    form = IndexSearchForm(request.GET if request.GET.get("index", "").strip() else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            return redirect("ledger:entry", index=form.cleaned_data["index"])
        status = 400
    checkpoint = selectors.checkpoint_latest()
    latest = entry_views(selectors.entries_latest(20), request.user)
    context = {
        "form": form,
        "checkpoint": checkpoint,
        "root": _b64(checkpoint.root) if checkpoint else "",
        "tree_size": store.tree_size(),
        "pending": Entry.objects.pending().count(),
        "latest": latest,
        "keys": list(selectors.signing_keys()),
        "recent": [{"checkpoint": cp, "stamp": _timestamp_of(cp)} for cp in selectors.checkpoints_recent(10)],
    }
    return _cached(request, render(request, "ledger/log_home.html", context, status=status))


def entry_view(request: HttpRequest, index: int) -> HttpResponse:
    entry = selectors.entry_at(index)
    if entry is None:
        raise Http404(_("日志中没有该序号的条目。"))
    document: Any
    try:
        document = json.dumps(json.loads(bytes(entry.entry)), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        document = bytes(entry.entry).decode("utf-8", "replace")
    checkpoint = selectors.checkpoint_latest()
    proof: list[str] = []
    verified = None
    if checkpoint is not None and entry.index is not None and entry.index < checkpoint.size:
        try:
            hashes = store.inclusion_proof(entry.index, checkpoint.size)
            merkle.verify_inclusion(
                merkle.leaf_hash(bytes(entry.entry)), entry.index, checkpoint.size, hashes, bytes(checkpoint.root)
            )
            verified = True
        except (merkle.ProofError, store.StoreError):
            hashes, verified = [], False
        proof = [_b64(h) for h in hashes]
    context = {
        "entry": entry,
        "view": present_entry(entry, request.user),
        "document": document,
        "leaf_hash": _b64(entry.leaf_hash),
        "checkpoint": checkpoint,
        "root": _b64(checkpoint.root) if checkpoint else "",
        "proof": proof,
        "verified": verified,
    }
    return _cached(request, render(request, "ledger/entry_detail.html", context))


def record_view(request: HttpRequest, record_type: str, record_id: str) -> HttpResponse:
    """Where a record's page links to: its latest entry, or "pending" until sequenced."""
    entry = Entry.objects.filter(record_type=record_type[:100], record_id=record_id[:64]).order_by("-pk").first()
    if entry is None:
        raise Http404(_("该记录没有存证。"))
    if entry.index is not None:
        return redirect("ledger:entry", index=entry.index)
    return render(request, "ledger/entry_pending.html", {"entry": entry, "view": present_entry(entry, request.user)})
