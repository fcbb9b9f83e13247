"""What the home page shows an account administrator of the accounts app: the active
accounts and organisations of their scope (T/CECS 8.3 account management)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.core.appconfig import HomeFigure

from .models import Organisation, User
from .permissions import may_administer_accounts, may_administer_organisations


def home_figures(actor: Any) -> list[HomeFigure]:
    figures: list[HomeFigure] = []
    if may_administer_accounts(actor):
        figures.append(
            HomeFigure(
                "users",
                _("管理范围内的账号"),
                User.objects.restrict(actor).filter(is_active=True).count(),
                reverse("accounts:user_list"),
            )
        )
    if may_administer_organisations(actor):
        figures.append(
            HomeFigure(
                "organisations",
                _("管理范围内的单位"),
                Organisation.objects.restrict(actor).filter(is_active=True).count(),
                reverse("accounts:organisation_list"),
            )
        )
    return figures
