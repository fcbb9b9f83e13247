from django.utils.translation import gettext_lazy as _

from inspecta.accounts.permissions import (
    administers_own_organisation,
    may_administer_accounts,
    may_administer_organisations,
)
from inspecta.core.appconfig import NAV_SYSTEM, ApiMount, InspectaAppConfig, NavEntry, UrlMount, anonymous


class AccountsConfig(InspectaAppConfig):
    name = "inspecta.accounts"
    label = "accounts"
    verbose_name = _("账号与组织")

    api_routers = (ApiMount("/accounts/", "inspecta.accounts.api:router"),)
    urls = (UrlMount("accounts/", "inspecta.accounts.urls"),)
    home_figures = "inspecta.accounts.queues:home_figures"
    nav = (
        NavEntry(_("账号管理"), "accounts:user_list", "users", 20, may_administer_accounts, NAV_SYSTEM),
        NavEntry(_("单位管理"), "accounts:organisation_list", "building", 30, may_administer_organisations, NAV_SYSTEM),
        NavEntry(
            _("人员注册确认"), "accounts:registration_list", "user-check", 25, administers_own_organisation, NAV_SYSTEM
        ),
        NavEntry(_("登录"), "accounts:login", "login", 1030, anonymous),
    )

    def ready(self) -> None:
        super().ready()
        from . import signals  # noqa: F401
