from typing import Any

from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import ApiMount, InspectaAppConfig, NavEntry, UrlMount, anonymous, signed_in


def _manages_accounts(user: Any) -> bool:
    from .permissions import may_administer_accounts

    return signed_in(user) and bool(may_administer_accounts(user))


class AccountsConfig(InspectaAppConfig):
    name = "inspecta.accounts"
    label = "accounts"
    verbose_name = _("账号与组织")

    api_routers = (ApiMount("/accounts/", "inspecta.accounts.api:router"),)
    urls = (UrlMount("accounts/", "inspecta.accounts.urls"),)
    nav = (
        NavEntry(_("账号管理"), "accounts:user_list", "users", 20, _manages_accounts),
        NavEntry(_("单位管理"), "accounts:organisation_list", "building", 30, _manages_accounts),
        NavEntry(_("登录"), "accounts:login", "login", 1030, anonymous),
    )

    def ready(self) -> None:
        super().ready()
        from . import signals  # noqa: F401
