"""Who may do what with test data: the predicates that services, views, templates and
the navigation share (Guangxi 第七条, 第十三条)."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import Role
from inspecta.core.permissions import has_role, is_agency, is_client, is_operator, is_party, is_regulator, signed_in
from inspecta.core.scoping import permits

__all__ = ["may_revise", "may_upload_tests", "may_view_tests"]

may_view_tests = signed_in & (is_operator | is_regulator | is_agency | is_party)
"""Has a test-data list at all (the navigation)."""

may_upload_tests = is_agency & (is_client | has_role(Role.TESTER, Role.AGENCY_ADMIN))
"""Uploads its agency's test records: a tester or the agency admin, or the agency's LIMS
(a signed client; the operation's scope ``tests:submit`` is checked where it is called)."""


def may_revise(who: Any, record: Any) -> bool:
    """Revises ``record``: one who uploads test records for the agency that tested."""

    return bool(may_upload_tests(who)) and permits(who, record, "change")
