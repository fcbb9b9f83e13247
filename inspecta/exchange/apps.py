from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import NAV_SYSTEM, ApiMount, InspectaAppConfig, NavEntry, UrlMount
from inspecta.exchange.permissions import may_apply, may_monitor


class ExchangeConfig(InspectaAppConfig):
    name = "inspecta.exchange"
    label = "exchange"
    verbose_name = _("数据交换")

    api_routers = (
        ApiMount("/exchange/", "inspecta.exchange.api:router"),
        ApiMount("/uploads/", "inspecta.exchange.api:uploads_router"),
    )
    # tus uploads are plain Django views under the API's path (CONTRACT §4)
    urls = (
        UrlMount("api/v1/uploads/", "inspecta.exchange.upload_urls"),
        UrlMount("exchange/", "inspecta.exchange.urls"),
    )
    nav = (NavEntry(_("数据交换"), "exchange:client_list", "exchange", 110, may_monitor | may_apply, NAV_SYSTEM),)
    work_queue = "inspecta.exchange.queues:work_queue"
