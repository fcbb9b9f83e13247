"""Who may do what with reports: the one set of predicates that services, views,
templates and the navigation ask (DESIGN.md "Who uses it").

Row-level questions read ``REPORT_SCOPING`` (``inspecta.reports.models``) through
:func:`inspecta.core.scoping.permits`, so a button is shown exactly when the service
would accept its request.
"""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import Role
from inspecta.core.permissions import has_role, is_authority, is_operator, is_province_level
from inspecta.core.scoping import permits
from inspecta.registry.permissions import acts_for_agency

__all__ = [
    "acts_for_agency",
    "may_change_check_rules",
    "may_decide",
    "may_view_check_rules",
]

may_view_check_rules = is_operator | (is_authority & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR))
"""Reads the acceptance check rules: authority admins and supervisors (their province's),
operators (any province's and the platform-wide ones)."""

may_change_check_rules = is_operator | (is_authority & is_province_level & has_role(Role.AUTHORITY_ADMIN))
"""Switches a check between refusing and flagging: the province authority admin for its
province, operators for any."""


def may_decide(who: Any, report: Any) -> bool:
    """Approves or rejects amendments of ``report`` and revokes it: the authority of the
    project's region (Nanchang 三(二)); operators."""

    return permits(who, report, "decide")
