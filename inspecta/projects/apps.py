from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "inspecta.projects"
    label = "projects"
    verbose_name = _("工程项目")

    def ready(self) -> None:
        # The renderers of ProjectLogKind (CONTRACT §5).
        from . import kinds  # noqa: F401
