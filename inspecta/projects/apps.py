from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import NAV_PROJECTS, ApiMount, InspectaAppConfig, NavEntry, UrlMount
from inspecta.core.permissions import is_member, is_operator
from inspecta.projects.permissions import may_view_plan_calendar


class ProjectsConfig(InspectaAppConfig):
    name = "inspecta.projects"
    label = "projects"
    verbose_name = _("工程项目")

    api_routers = (ApiMount("/projects/", "inspecta.projects.api:router"),)
    urls = (UrlMount("projects/", "inspecta.projects.urls"),)
    nav = (
        NavEntry(_("工程项目"), "projects:project_list", "building", 60, group=NAV_PROJECTS),
        NavEntry(_("检测方案"), "projects:plan_list", "list", 62, is_member | is_operator, NAV_PROJECTS),
        NavEntry(_("现场检测日历"), "projects:plan_calendar", "calendar", 63, may_view_plan_calendar, NAV_PROJECTS),
    )
    demo_loader = "inspecta.projects.demo:plans_demo"
    demo_after = ("core", "registry", "reports")
    home_figures = "inspecta.projects.queues:home_figures"
    log_kind_enum = "inspecta.projects.choices:ProjectLogKind"
    log_kinds = "inspecta.projects.kinds"
    region_rules = "inspecta.projects.regionrules:KINDS"
