"""Who may do what with notifications: the predicates the scoping, views, templates and
the inbox badge share."""

from __future__ import annotations

from inspecta.core.permissions import is_operator, is_person, signed_in

__all__ = ["has_inbox", "may_view_deliveries"]

has_inbox = signed_in & is_person
"""A person signed in has an inbox and preferences (an exchange client has neither)."""

may_view_deliveries = signed_in & is_operator
"""Sees every delivery with its errors: the operators, who keep the gateways working
(T/CECS 8.2.2, 8.2.4)."""
