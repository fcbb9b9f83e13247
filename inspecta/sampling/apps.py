from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import InspectaAppConfig


class SamplingConfig(InspectaAppConfig):
    name = "inspecta.sampling"
    label = "sampling"
    verbose_name = _("取样送检")
