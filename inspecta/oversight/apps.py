from typing import Any

from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import ApiMount, InspectaAppConfig, NavEntry, NavGroup, UrlMount, signed_in


def _sees_warnings(user: Any) -> bool:
    from .permissions import may_view_warnings  # imported late: models are not ready yet

    return signed_in(user) and bool(may_view_warnings(user))


def _sees_ledger(user: Any) -> bool:
    from inspecta.core.permissions import is_member, is_operator

    return signed_in(user) and bool(is_member(user) or is_operator(user))


NAV_OVERSIGHT = NavGroup("oversight", _("监督管理"))


class OversightConfig(InspectaAppConfig):
    name = "inspecta.oversight"
    label = "oversight"
    verbose_name = _("监督管理")

    api_routers = (ApiMount("/oversight/", "inspecta.oversight.api:router"),)
    urls = (UrlMount("oversight/", "inspecta.oversight.urls"),)
    nav = (
        NavEntry(_("预警"), "oversight:warning_list", "alert-triangle", 12, _sees_warnings, NAV_OVERSIGHT),
        NavEntry(_("预警规则"), "oversight:rule_list", "list", 13, _sees_warnings, NAV_OVERSIGHT),
        NavEntry(_("不合格台账"), "oversight:nonconformance_list", "alert", 14, _sees_ledger, NAV_OVERSIGHT),
    )
    region_rules = "inspecta.oversight.regionrules:KINDS"
    log_kind_enum = "inspecta.oversight.choices:OversightLogKind"
    log_kinds = "inspecta.oversight.kinds"
    demo_loader = "inspecta.oversight.demo:oversight_demo"
    demo_after = ("testing",)
    notification_kinds = "inspecta.oversight.notices:KINDS"
    work_queue = "inspecta.oversight.queues:work_queue"
    home_figures = "inspecta.oversight.queues:home_figures"

    def ready(self) -> None:
        super().ready()
        from .signals import connect

        connect()
