from typing import Any

from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import NAV_PROJECTS, ApiMount, InspectaAppConfig, NavEntry, UrlMount, signed_in


def _sees_samples(user: Any) -> bool:
    from .permissions import may_view_samples  # imported late: models are not ready yet

    return signed_in(user) and bool(may_view_samples(user))


class SamplingConfig(InspectaAppConfig):
    name = "inspecta.sampling"
    label = "sampling"
    verbose_name = _("取样送检")

    api_routers = (ApiMount("/sampling/", "inspecta.sampling.api:router"),)
    urls = (UrlMount("sampling/", "inspecta.sampling.urls"),)
    nav = (
        NavEntry(_("取样送检"), "sampling:sample_list", "flask", 65, _sees_samples, NAV_PROJECTS),
        NavEntry(_("检测委托单"), "sampling:commission_list", "file-text", 66, _sees_samples, NAV_PROJECTS),
    )
    log_kind_enum = "inspecta.sampling.choices:SamplingLogKind"
    log_kinds = "inspecta.sampling.kinds"
    work_queue = "inspecta.sampling.queues:work_queue"
    home_figures = "inspecta.sampling.queues:home_figures"
    region_rules = "inspecta.sampling.regionrules:KINDS"
    demo_loader = "inspecta.sampling.demo:sampling_demo"
    demo_after = ("registry", "reports")
