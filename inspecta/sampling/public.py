"""The samples behind a report on its public verification page and JSON (CONTRACT §6 "the
traceability chain"; T/CECS 4.1.2 "调阅检测全过程数据"; T/CECS 1.0.1, 3.0.3): for each
sample the report names, its sampling (date, district, sampler and witness masked), its
seal re-verified with the platform's keys, and its receipt, each with its log index."""

from __future__ import annotations

from typing import Any

from inspecta.core.masking import Audience, mask_name
from inspecta.ledger.selectors import entries_of

from .models import Receipt, Sample, Seal
from .seal import seal_decode

__all__ = ["public_chain"]


def public_chain(codes: list[str]) -> list[dict[str, Any]]:
    """The chain steps of the samples named by ``codes``, in their order; unknown codes
    are left out (the report's acceptance check refuses them)."""

    if not codes:
        return []
    samples = {
        s.code: s
        for s in Sample.objects.filter(code__in=codes).select_related(
            "project__region", "sampler", "witness", "seal", "receipt"
        )
    }
    wanted: list[tuple[str, Any]] = []
    for s in samples.values():
        wanted.append(("sampling.sample", s.pk))
        if hasattr(s, "seal"):
            wanted.append(("sampling.seal", s.seal.pk))
        if hasattr(s, "receipt"):
            wanted.append(("sampling.receipt", s.receipt.pk))
    entries = entries_of(wanted)

    def index(record_type: str, pk: Any) -> int | None:
        entry = entries.get((record_type, str(pk)))
        return entry.index if entry is not None else None

    steps: list[dict[str, Any]] = []
    for code in codes:
        sample = samples.get(code)
        if sample is None:
            continue
        steps.append(
            {
                "step": "witnessed_sampling",
                "label": "见证取样",
                "sample": code,
                "at": sample.witnessed_at.isoformat() if sample.witnessed_at else None,
                "sampled_on": sample.sampled_at.date().isoformat(),
                "district": sample.project.region.name,
                "sampler": mask_name(sample.sampler.full_name, Audience.PUBLIC),
                "witness": mask_name(sample.witness.full_name, Audience.PUBLIC) if sample.witness else None,
                "log_index": index("sampling.sample", sample.pk),
            }
        )
        seal: Seal | None = getattr(sample, "seal", None)
        if seal is not None:
            steps.append(
                {
                    "step": "seal",
                    "label": "电子封志",
                    "sample": code,
                    "at": seal.sealed_at.isoformat(),
                    "verified": seal_decode(seal.text).valid,
                    "log_index": index("sampling.seal", seal.pk),
                }
            )
        receipt: Receipt | None = getattr(sample, "receipt", None)
        if receipt is not None:
            steps.append(
                {
                    "step": "receipt",
                    "label": "检测机构收样",
                    "sample": code,
                    "at": receipt.received_at.isoformat(),
                    "outcome": receipt.outcome,
                    "log_index": index("sampling.receipt", receipt.pk),
                }
            )
    return steps
