from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import ApiMount, InspectaAppConfig, UrlMount


class LedgerConfig(InspectaAppConfig):
    name = "inspecta.ledger"
    label = "ledger"
    verbose_name = _("存证日志")

    api_routers = (ApiMount("/log/", "inspecta.ledger.api:router"),)
    urls = (UrlMount("log/", "inspecta.ledger.urls"),)
    # The foundation's logged kinds (accounts, code tables) and their renderers.
    log_kind_enum = "inspecta.ledger.choices:LogKind"
    log_kinds = "inspecta.ledger.kinds"
