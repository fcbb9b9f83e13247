from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "inspecta.ledger"
    label = "ledger"
    verbose_name = _("存证日志")

    def ready(self) -> None:
        # The foundation's logged kinds and how the self-audit re-renders them.
        from . import kinds  # noqa: F401
