"""Renderers of the foundation's logged kinds.

Account allocation and code-table changes are logged until the other apps log their
own records. The public log shows ids, roles and organisations only: never names,
mobile numbers, e-mail addresses, password hashes or second-factor secrets.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from .choices import LogKind
from .registry import Rendered, Subject, model_snapshot, register_kind


def render_user(user: Any) -> Rendered:
    """An account as allocated: organisation, roles, status, who allocated it."""
    from inspecta.accounts.models import RoleGrant

    roles = sorted(RoleGrant.objects.filter(user_id=user.pk).values_list("role", flat=True))
    return Rendered(
        {
            "organisation": user.organisation_id,
            "roles": roles,
            "is_active": bool(user.is_active),
            "created_by": user.created_by_id,
        }
    )


def render_organisation(org: Any) -> Rendered:
    """An organisation of the allocation tree (public bodies: the name is not personal data)."""
    return Rendered(
        {
            "name": org.name,
            "kind": org.kind,
            "level": org.level,
            "region": org.region_id,
            "parent": org.parent_id,
            "credit_code": org.credit_code,
        }
    )


def render_code_table_row(obj: Any) -> Rendered:
    """A region or qualification-catalog row, every column."""
    return Rendered(model_snapshot(obj))


def describe_user(user: Any) -> Subject:
    """An account by its holder's name, on its page (the log explorer)."""
    return Subject(
        _("账号 %(name)s") % {"name": user.full_name or user.username}, reverse("accounts:user_detail", args=[user.pk])
    )


def describe_allocation(user: Any) -> Subject:
    """An allocated account, by whoever allocated it."""
    subject = describe_user(user)
    return Subject(subject.title, subject.url, by=user.created_by)


def describe_organisation(org: Any) -> Subject:
    return Subject(_("单位 %(name)s") % {"name": org.name})


register_kind(LogKind.ACCOUNT_ALLOCATION, render=render_user, describe=describe_allocation)
register_kind(LogKind.ACCOUNT_STATUS_CHANGE, render=render_user, describe=describe_user)
register_kind(LogKind.ORGANISATION_CREATION, render=render_organisation, describe=describe_organisation)
register_kind(LogKind.CODE_TABLE_CHANGE, render=render_code_table_row)
