from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "inspecta.reports"
    label = "reports"
    verbose_name = _("检测报告")

    def ready(self) -> None:
        # kinds: the renderers of ReportLogKind
        # (CONTRACT §5); public: drops the cached verification JSON when a report or a
        # version is saved.
        from . import (
            kinds,  # noqa: F401
            public,  # noqa: F401
        )
