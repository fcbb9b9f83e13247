from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import NAV_REFERENCE, ApiMount, InspectaAppConfig, NavEntry, UrlMount
from inspecta.core.permissions import may_manage_region_rules


class CoreConfig(InspectaAppConfig):
    name = "inspecta.core"
    label = "core"
    verbose_name = _("基础数据")

    api_routers = (ApiMount("/core/", "inspecta.core.api:router"),)
    urls = (UrlMount("", "inspecta.core.urls"),)
    nav = (
        NavEntry(_("首页"), "core:home", "home", 10),
        NavEntry(_("行政区划"), "core:region_list", "map", 90, group=NAV_REFERENCE),
        NavEntry(_("资质目录"), "core:catalog", "list", 100, group=NAV_REFERENCE),
        NavEntry(_("地区规则"), "core:region_rules", "alert", 105, may_manage_region_rules, NAV_REFERENCE),
    )
    demo_loader = "inspecta.core.demo:demo_load"

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_migrate, pre_migrate

        from . import immutability, signals  # noqa: F401

        # audit rows immutable in the database: triggers lifted for a migration run only
        pre_migrate.connect(immutability.before_migrate, sender=self, dispatch_uid="inspecta_immutable_pre")
        post_migrate.connect(immutability.after_migrate, sender=self, dispatch_uid="inspecta_immutable_post")
