from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import NAV_REPORTS, ApiMount, InspectaAppConfig, NavEntry, ReceiptOperation, UrlMount
from inspecta.reports.permissions import may_view_check_rules


class ReportsConfig(InspectaAppConfig):
    name = "inspecta.reports"
    label = "reports"
    verbose_name = _("检测报告")

    api_routers = (
        ApiMount("/reports/", "inspecta.reports.api:router"),
        ApiMount("/public/reports/", "inspecta.reports.api:public_router"),
    )
    urls = (UrlMount("reports/", "inspecta.reports.urls"), UrlMount("v/", "inspecta.reports.public_urls"))
    nav = (
        NavEntry(_("检测报告"), "reports:report_list", "list", 70, group=NAV_REPORTS),
        NavEntry(_("报告接收规则"), "reports:check_rules", "alert", 80, may_view_check_rules, NAV_REPORTS),
    )
    demo_loader = "inspecta.reports.demo:reports_demo"
    demo_after = ("core", "registry")
    log_kind_enum = "inspecta.reports.choices:ReportLogKind"
    log_kinds = "inspecta.reports.kinds"
    work_queue = "inspecta.reports.queues:work_queue"
    home_figures = "inspecta.reports.queues:home_figures"
    # POST /api/v1/reports/batch with "async": true (T/CECS 6.0.6)
    receipt_operations = (ReceiptOperation("reports.batch", "inspecta.reports.api:batch_receipt_run"),)

    def ready(self) -> None:
        super().ready()
        # drops the cached verification JSON when a report or a version is saved
        from . import public  # noqa: F401
