"""Public verification of a report by its code (CONTRACT §6; T/CECS 4.1.2; Guangdong 附件2
二(十四); Nanchang 三(一)): what the QR page and its JSON twin show, the file check, the
traceability chain and the log inclusion proof, and the per-IP rate limit.

Personal data is masked (names of the approval trail show their first character only);
a mistyped code is recognised by its check character and an unknown code says only that.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from inspecta.core.limits import ip_rate_limited
from inspecta.core.masking import Audience, mask_name
from inspecta.ledger import store
from inspecta.ledger.models import Entry
from inspecta.ledger.selectors import checkpoint_latest, entries_of
from inspecta.projects.models import Contract

from . import codes
from .models import Report, ReportVersion


def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


def rate_limited(request: HttpRequest, bucket: str = "verify") -> bool:
    """True when this client IP exceeded ``INSPECTA_VERIFY_RATE_PER_MINUTE`` in its
    one-minute window (``core.limits.ip_rate_limited``; the cached fast path in
    middleware.py asks before the view does, the request is counted once)."""

    return ip_rate_limited(request, f"reports.{bucket}", settings.INSPECTA_VERIFY_RATE_PER_MINUTE)


def lookup(code: str) -> tuple[str, Report | None]:
    """``("ok", report)``, ``("mistyped", None)`` or ``("unknown", None)``."""

    code = codes.normalise(code)
    if not codes.is_well_formed(code):
        return "mistyped", None
    report = (
        Report.objects.select_related("agency", "project__region", "test_item").filter(verification_code=code).first()
    )
    return ("ok", report) if report is not None else ("unknown", None)


def _entry_of(record_type: str, record_id: Any) -> Entry | None:
    return Entry.objects.filter(record_type=record_type, record_id=str(record_id)).order_by("-pk").first()


def inclusion(entry: Entry | None) -> dict[str, Any] | None:
    """The RFC 9162 inclusion proof of ``entry`` in the latest signed checkpoint, with
    everything a browser needs to recompute leaf hash and root (CONTRACT §5)."""

    if entry is None or entry.index is None:
        return None
    checkpoint = checkpoint_latest()
    if checkpoint is None or checkpoint.size <= entry.index:
        return {"index": entry.index, "size": None, "pending_checkpoint": True}
    hashes = store.inclusion_proof(entry.index, checkpoint.size)
    return {
        "index": entry.index,
        "size": checkpoint.size,
        "entry": _b64(bytes(entry.entry)),
        "leaf_hash": _b64(bytes(entry.leaf_hash)),
        "hashes": [_b64(h) for h in hashes],
        "root": _b64(bytes(checkpoint.root)),
        "checkpoint": checkpoint.note,
    }


def _version_json(v: ReportVersion, entries: dict[tuple[str, str], Entry] | None = None) -> dict[str, Any]:
    if entries is None:
        entry = _entry_of("reports.reportversion", v.pk)
    else:
        entry = entries.get(("reports.reportversion", str(v.pk)))
    return {
        "number": v.number,
        "pdf_sha256": v.pdf_sha256,
        "stamped_sha256": v.stamped_sha256 or None,
        "created_at": v.created_at.isoformat(),
        "superseded_at": v.superseded_at.isoformat() if v.superseded_at else None,
        "log_index": entry.index if entry is not None else None,
        "signatures": [
            {k: s.get(k) for k in ("signer", "signed_at", "intact", "valid", "trusted", "ok")} for s in v.signatures
        ],
        "amended": v.amendment_id is not None,
    }


def verification_json(report: Report) -> dict[str, Any]:
    """The public view of a report (CONTRACT §6), personal data masked."""

    return _verification(report)[0]


def _verification(report: Report) -> tuple[dict[str, Any], bool]:
    """``verification_json`` and whether one of its log entries still awaits its index
    (such a body is not cached). The log entries of the versions, contracts and
    revocation are read in one query."""

    versions = list(report.versions.select_related("tester", "reviewer", "signatory").order_by("number"))
    current = versions[-1]
    contracts = list(Contract.objects.filter(project=report.project, agency=report.agency, test_items=report.test_item))
    wanted: list[tuple[str, Any]] = [("reports.reportversion", v.pk) for v in versions]
    wanted += [("projects.contract", c.pk) for c in contracts]
    if report.revoked_at:
        wanted.append(("reports.revocation", report.pk))
    entries = entries_of(wanted)
    pending = any(e.index is None for e in entries.values() if e.record_type != "projects.contract")
    current_entry = entries.get(("reports.reportversion", str(current.pk)))
    chain: list[dict[str, Any]] = []
    approval = (
        Entry.objects.filter(
            kind="agency_approval",
            record_type="registry.agencyversion",
            record_id__in=report.agency.versions.values("pk")
            .annotate(as_text=Cast("pk", CharField()))
            .values("as_text"),
        )
        .order_by("-pk")
        .first()
    )
    chain.append(
        {
            "step": "agency_approval",
            "label": "检测机构审核通过",
            "at": report.agency.approved_at.isoformat() if report.agency.approved_at else None,
            "log_index": approval.index if approval is not None else None,
        }
    )
    for contract in contracts:
        entry = entries.get(("projects.contract", str(contract.pk)))
        chain.append(
            {
                "step": "contract",
                "label": "检测合同",
                "number": contract.number,
                "at": contract.created_at.isoformat(),
                "log_index": entry.index if entry is not None else None,
                "sha256": contract.scan_sha256,
            }
        )
    from inspecta.sampling.public import public_chain
    from inspecta.testing.public import public_test_steps

    codes = list(current.data.get("samples") or [])
    sample_steps = public_chain(codes) + public_test_steps(report.agency_id, codes)
    pending = pending or any(step["log_index"] is None for step in sample_steps)
    chain.extend(sample_steps)
    for v in versions:
        entry = entries.get(("reports.reportversion", str(v.pk)))
        chain.append(
            {
                "step": "report_version",
                "label": f"报告第 {v.number} 版",
                "at": v.created_at.isoformat(),
                "log_index": entry.index if entry is not None else None,
                "sha256": v.pdf_sha256,
            }
        )
    if report.revoked_at:
        entry = entries.get(("reports.revocation", str(report.pk)))
        chain.append(
            {
                "step": "revocation",
                "label": "报告撤销",
                "at": report.revoked_at.isoformat(),
                "log_index": entry.index if entry is not None else None,
            }
        )
    return {
        "status": report.status,
        "serial_number": report.serial_number,
        "report_number": report.report_number,
        "agency": report.agency.name,
        "agency_credit_code": report.agency.credit_code,
        "project": {"code": report.project.code, "name": report.project.name, "region": report.project.region_id},
        "test_item": {"code": report.test_item_id, "name": report.test_item.name},
        "conclusion": report.conclusion,
        "tested_on": report.tested_on.isoformat(),
        "reported_on": report.reported_on.isoformat(),
        "issued_at": report.issued_at.isoformat(),
        "printed_at": report.printed_at.isoformat() if report.printed_at else None,
        "revoked_at": report.revoked_at.isoformat() if report.revoked_at else None,
        "pdf_sha256": current.pdf_sha256,
        "version": current.number,
        "log_index": current_entry.index if current_entry is not None else None,
        "trail": {
            "tester": mask_name(current.tester.name, Audience.PUBLIC),
            "tested_at": current.tested_at.isoformat(),
            "reviewer": mask_name(current.reviewer.name, Audience.PUBLIC),
            "reviewed_at": current.reviewed_at.isoformat(),
            "signatory": mask_name(current.signatory.name, Audience.PUBLIC),
            "approved_at": current.approved_at.isoformat(),
        },
        "versions": [_version_json(v, entries) for v in versions],
        "chain": chain,
        "proof": inclusion(current_entry),
    }, pending


# ------------------------------------------------------------------ cache
# The public JSON is cached per code (Redis in production) as the encoded body, for
# ``INSPECTA_VERIFY_CACHE_SECONDS`` (default 300). Any save of the report (amendment
# approved, revocation, printed date) or a new version drops the entry, at once and
# again after commit (a reader racing the transaction could otherwise keep the old body;
# a reader that read before the commit and writes after it still can, for at most the
# timeout). A body whose log entry still awaits its index or checkpoint is not cached.


def _cache_key(code: str) -> str:
    return f"reports:verify:json:{code}"


def _cache_seconds() -> int:
    return settings.INSPECTA_VERIFY_CACHE_SECONDS


def verification_body_cached(code: str) -> bytes | None:
    """The cached JSON body for ``code`` (normalised here), or ``None``."""

    if _cache_seconds() <= 0:
        return None
    code = codes.normalise(code)
    if not codes.is_well_formed(code):  # never cached; spares the cache a junk key
        return None
    body: bytes | None = cache.get(_cache_key(code))
    return body


def verification_body(report: Report) -> bytes:
    """``verification_json`` encoded, stored in the cache when it is final."""

    data, unsequenced = _verification(report)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).encode("utf-8")
    pending = unsequenced or bool((data["proof"] or {}).get("pending_checkpoint"))
    if _cache_seconds() > 0 and not pending:
        cache.set(_cache_key(report.verification_code), body, timeout=_cache_seconds())
    return body


def verification_cache_drop(code: str) -> None:
    key = _cache_key(code)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


@receiver(post_save, sender=Report, dispatch_uid="reports_public_cache_report")
def _report_saved(sender: Any, instance: Report, **kwargs: Any) -> None:
    if instance.verification_code:
        verification_cache_drop(instance.verification_code)


@receiver(post_save, sender=ReportVersion, dispatch_uid="reports_public_cache_version")
def _version_saved(sender: Any, instance: ReportVersion, **kwargs: Any) -> None:
    verification_cache_drop(instance.report.verification_code)


def file_match(report: Report, content: bytes) -> dict[str, Any]:
    """Whether ``content`` is byte-identical to a registered version, as submitted or
    as the platform stamped it (serial number and QR, ``services.stamped_copies``), and
    which (CONTRACT §6)."""

    from django.db.models import Q

    digest = hashlib.sha256(content).hexdigest()
    version = report.versions.filter(Q(pdf_sha256=digest) | Q(stamped_sha256=digest)).order_by("-number").first()
    current = report.versions.order_by("-number").first()
    stamped = version is not None and version.pdf_sha256 != digest
    if version is None:
        rendition, message = None, _("与任何登记版本都不一致。")
    elif stamped:
        rendition, message = "stamped", _("与平台加盖的第 %(n)d 版副本完全一致。") % {"n": version.number}
    else:
        rendition, message = "original", _("与登记的第 %(n)d 版完全一致。") % {"n": version.number}
    return {
        "sha256": digest,
        "matches": version is not None,
        "version": version.number if version is not None else None,
        "rendition": rendition,
        "message": message,
        "is_current": version is not None and current is not None and version.pk == current.pk,
        "status": report.status,
    }
