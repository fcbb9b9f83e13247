"""The ``contract`` log kind (CONTRACT §5; T/CECS 4.3.3-2): ids, dates, amount, items and
the scan's SHA-256; no names of people (the log is public)."""

from __future__ import annotations

from inspecta.ledger.registry import Rendered, register_kind

from .choices import ProjectLogKind
from .models import Contract


def render_contract(contract: Contract) -> Rendered:
    return Rendered(
        {
            "project": contract.project_id,
            "agency": contract.agency_id,
            "number": contract.number,
            "amount": str(contract.amount),
            "signed_on": contract.signed_on.isoformat(),
            "valid_from": contract.valid_from.isoformat(),
            "valid_until": contract.valid_until.isoformat(),
            "test_items": sorted(contract.test_items.values_list("code", flat=True)),
            "allows_additional_agency": contract.allows_additional_agency,
            "scan": str(contract.scan_id),
        },
        files=(("contract_scan", {"sha256": contract.scan_sha256}),),
    )


register_kind(ProjectLogKind.CONTRACT, render=render_contract)
