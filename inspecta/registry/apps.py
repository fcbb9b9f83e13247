from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import NAV_AGENCIES, ApiMount, InspectaAppConfig, NavEntry, UrlMount, anonymous
from inspecta.core.permissions import is_operator, is_regulator


class RegistryConfig(InspectaAppConfig):
    name = "inspecta.registry"
    label = "registry"
    verbose_name = _("检测机构管理")

    api_routers = (
        ApiMount("/registry/", "inspecta.registry.api:router"),
        ApiMount("/public/agencies", "inspecta.registry.api:public_router"),
    )
    urls = (UrlMount("registry/", "inspecta.registry.urls"), UrlMount("", "inspecta.registry.public_urls"))
    nav = (
        NavEntry(_("检测机构"), "registry:agency_list", "building", 40, group=NAV_AGENCIES),
        NavEntry(_("资质符合性"), "registry:findings", "alert", 50, is_operator | is_regulator, NAV_AGENCIES),
        NavEntry(_("检测机构名录"), "registry_public:agency_list", "building", 1010, anonymous),
        NavEntry(_("机构注册"), "registry_public:register", "plus", 1020, anonymous),
    )
    demo_loader = "inspecta.registry.demo:registry_demo_load"
    demo_after = ("core",)
    log_kind_enum = "inspecta.registry.choices:RegistryLogKind"
    log_kinds = "inspecta.registry.kinds"
    work_queue = "inspecta.registry.queues:work_queue"
    home_figures = "inspecta.registry.queues:home_figures"
