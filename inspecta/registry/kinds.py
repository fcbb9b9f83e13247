"""The registry's logged kind (CONTRACT §5: "agency approval" is logged).

The log is public, so an approval is logged as ids, the agency's public identity and
the SHA-256 of the private snapshot of its key facts (which holds personal data and
stays in ``AgencyVersion.snapshot``): anyone holding the snapshot can prove it is the
one approved, nobody learns its content from the log.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.ledger.kinds import describe_organisation, render_organisation
from inspecta.ledger.registry import Rendered, Subject, json_value, register_kind

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


def describe_agency_version(version: Any) -> Subject:
    """An approved version of an agency, on the agency's page (the log explorer)."""
    return Subject(
        _("%(name)s 第 %(version)s 版") % {"name": version.agency.name, "version": version.number},
        reverse("registry:agency_detail", args=[version.agency_id]),
        by=version.approved_by,
    )


register_kind(RegistryLogKind.AGENCY_APPROVAL, render=render_agency_version, describe=describe_agency_version)
register_kind(RegistryLogKind.ORGANISATION_RENAME, render=render_organisation, describe=describe_organisation)
