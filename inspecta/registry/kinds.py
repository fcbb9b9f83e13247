"""The registry's logged kind (CONTRACT §5: "agency approval" is logged).

The log is public, so an approval is logged as ids, the agency's public identity and
the SHA-256 of the private snapshot of its key facts (which holds personal data and
stays in ``AgencyVersion.snapshot``): anyone holding the snapshot can prove it is the
one approved, nobody learns its content from the log.
"""

from __future__ import annotations

from typing import Any

from inspecta.ledger.kinds import render_organisation
from inspecta.ledger.registry import Rendered, json_value, register_kind

from .choices import RegistryLogKind


def render_agency_version(version: Any) -> Rendered:
    agency = version.agency
    return Rendered(
        {
            "agency": version.agency_id,
            "organisation": agency.organisation_id,
            "credit_code": agency.credit_code,
            "region": agency.region_id,
            "version": version.number,
            "snapshot_sha256": version.snapshot_sha256,
            "approved_by": version.approved_by_id,
            "approved_at": json_value(version.approved_at),
        }
    )


register_kind(RegistryLogKind.AGENCY_APPROVAL, render=render_agency_version)
register_kind(RegistryLogKind.ORGANISATION_RENAME, render=render_organisation)
