from typing import Any

from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import NAV_PROJECTS, ApiMount, InspectaAppConfig, NavEntry, UrlMount, signed_in


def _sees_tests(user: Any) -> bool:
    from .permissions import may_view_tests  # imported late: models are not ready yet

    return signed_in(user) and bool(may_view_tests(user))


class TestingConfig(InspectaAppConfig):
    name = "inspecta.testing"
    label = "testing"
    verbose_name = _("检测数据")

    api_routers = (ApiMount("/testing/", "inspecta.testing.api:router"),)
    urls = (UrlMount("testing/", "inspecta.testing.urls"),)
    nav = (NavEntry(_("检测数据"), "testing:record_list", "chart-line", 67, _sees_tests, NAV_PROJECTS),)
    log_kind_enum = "inspecta.testing.choices:TestingLogKind"
    log_kinds = "inspecta.testing.kinds"
    region_rules = "inspecta.testing.regionrules:KINDS"
    demo_loader = "inspecta.testing.demo:testing_demo"
    demo_after = ("sampling",)
