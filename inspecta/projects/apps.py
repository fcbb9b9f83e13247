from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import ApiMount, InspectaAppConfig, NavEntry, UrlMount


class ProjectsConfig(InspectaAppConfig):
    name = "inspecta.projects"
    label = "projects"
    verbose_name = _("工程项目")

    api_routers = (ApiMount("/projects/", "inspecta.projects.api:router"),)
    urls = (UrlMount("projects/", "inspecta.projects.urls"),)
    nav = (NavEntry(_("工程项目"), "projects:project_list", "building", 60),)
    home_figures = "inspecta.projects.queues:home_figures"
    log_kind_enum = "inspecta.projects.choices:ProjectLogKind"
    log_kinds = "inspecta.projects.kinds"
