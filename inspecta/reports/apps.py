from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "inspecta.reports"
    label = "reports"
    verbose_name = _("检测报告")

    def ready(self) -> None:
        # The report_version / report_amendment / report_revocation log kinds (CONTRACT §5).
        from . import kinds  # noqa: F401
