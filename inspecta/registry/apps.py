from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "inspecta.registry"
    label = "registry"
    verbose_name = _("检测机构管理")

    def ready(self) -> None:
        # The renderers of RegistryLogKind (CONTRACT §5).
        from . import kinds  # noqa: F401
