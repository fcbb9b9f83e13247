"""The tables of an agency's record sections: one per kind of record. Personal numbers
are masked for the viewer's ``audience`` (``core.masking``); the querysets prefetch
what the columns read, so a page costs the same queries whatever its length."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.template.defaultfilters import date
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspecta.core.masking import Audience, mask_id_number, mask_mobile
from inspecta.core.tables import BaseTable, date_or_dash, names

ACTIONS = """{% load i18n %}
{% if kind == "site" %}<a href="{% url 'registry:capabilities' agency.pk record.pk %}">{% translate "检测能力" %}</a>{% endif %}
{% if audience == "full" %}<a href="{% url 'registry:record_history' agency.pk kind record.pk %}">{% translate "历史" %}</a>{% endif %}
{% if can_change and agency.status != "submitted" %}
<a href="{% url 'registry:record_edit' agency.pk kind record.pk %}">{% translate "编辑" %}</a>
<form method="post" action="{% url 'registry:record_delete' agency.pk kind record.pk %}" class="d-inline" onsubmit="return confirm('{% translate "确定删除？" %}')">{% csrf_token %}<button class="btn btn-link btn-sm p-0 text-danger">{% if kind == "staff" %}{% translate "离职" %}{% else %}{% translate "删除" %}{% endif %}</button></form>
{% endif %}"""


class SectionTable(BaseTable):
    """Rows of one section; ``audience`` decides the masking of personal numbers."""

    actions = tables.TemplateColumn(ACTIONS, verbose_name="", attrs={"td": {"class": "text-end text-nowrap"}})

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "records"}

    def __init__(self, data: Any, *, audience: Audience, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.audience = audience

    # Shared cells of the sections that have a kind or a validity date.
    def render_kind(self, record: Any) -> str:
        return str(record.get_kind_display())

    def render_valid_until(self, record: Any) -> str:
        return date_or_dash(record.valid_until)


def _col(label: Any) -> tables.Column:
    """A computed column: its ``render_<name>`` method reads the record."""

    return tables.Column(verbose_name=label, accessor="pk", empty_values=())


class HeadTable(SectionTable):
    role = _col(gettext_lazy("职责"))
    name = tables.Column(gettext_lazy("姓名"))
    id_number = _col(gettext_lazy("身份证号"))
    mobile = _col(gettext_lazy("移动电话"))
    position = tables.Column(gettext_lazy("职务"))
    title = tables.Column(gettext_lazy("职称"))

    def render_role(self, record: Any) -> str:
        return str(record.get_role_display())

    def render_id_number(self, record: Any) -> str:
        return mask_id_number(record.id_number, self.audience)

    def render_mobile(self, record: Any) -> str:
        return mask_mobile(record.mobile, self.audience)


class SiteTable(SectionTable):
    name = tables.Column(gettext_lazy("场所名称"))
    address = tables.Column(gettext_lazy("地址"))
    capabilities = _col(gettext_lazy("检测能力（参数数）"))

    def render_capabilities(self, record: Any) -> int:
        return int(record.capabilities.count())


class StaffTable(SectionTable):
    name = tables.Column(gettext_lazy("姓名"))
    id_number = _col(gettext_lazy("身份证号码"))
    mobile = _col(gettext_lazy("手机号码"))
    title = _col(gettext_lazy("职称"))
    site = _col(gettext_lazy("检测场所"))
    specialties = _col(gettext_lazy("从事检测专项"))
    active = _col(gettext_lazy("在职"))

    def render_id_number(self, record: Any) -> str:
        return mask_id_number(record.id_number, self.audience)

    def render_mobile(self, record: Any) -> str:
        return mask_mobile(record.mobile, self.audience)

    def render_title(self, record: Any) -> str:
        return f"{record.title} {record.get_title_level_display()}".strip()

    def render_site(self, record: Any) -> Any:
        return record.site or "—"

    def render_specialties(self, record: Any) -> str:
        return names(record.specialties)

    def render_active(self, record: Any) -> str:
        return _("是") if record.active else _("离职 %(d)s") % {"d": date_or_dash(record.left_on)}


class PostCertificateTable(SectionTable):
    staff = tables.Column(gettext_lazy("人员"), accessor="staff__name")
    number = tables.Column(gettext_lazy("证书编号"))
    category = _col(gettext_lazy("检测类别"))
    level = tables.Column(gettext_lazy("检测等级"))
    valid_until = _col(gettext_lazy("有效期至"))

    def render_category(self, record: Any) -> Any:
        return record.category


class OtherCertificateTable(SectionTable):
    staff = tables.Column(gettext_lazy("人员"), accessor="staff__name")
    kind = _col(gettext_lazy("证书类别"))
    number = tables.Column(gettext_lazy("证书编号"))
    valid_until = _col(gettext_lazy("有效期至"))


class EquipmentTable(SectionTable):
    asset_no = tables.Column(gettext_lazy("设备编号"))
    name = tables.Column(gettext_lazy("设备名称"))
    model = tables.Column(gettext_lazy("规格型号"))
    site = _col(gettext_lazy("检测场所"))
    calibration_valid_until = _col(gettext_lazy("检定/校准有效期至"))
    parameters = _col(gettext_lazy("检测参数"))
    status = _col(gettext_lazy("状态"))

    def render_site(self, record: Any) -> Any:
        return record.site or "—"

    def render_calibration_valid_until(self, record: Any) -> str:
        return date_or_dash(record.calibration_valid_until)

    def render_parameters(self, record: Any) -> str:
        return names(record.parameters)

    def render_status(self, record: Any) -> str:
        return str(record.get_status_display())


class SignatoryTable(SectionTable):
    staff = tables.Column(gettext_lazy("姓名"), accessor="staff__name")
    position = tables.Column(gettext_lazy("职务"))
    scope = _col(gettext_lazy("签字范围"))
    site = _col(gettext_lazy("检测场所"))

    def render_scope(self, record: Any) -> str:
        return names(record.scope)

    def render_site(self, record: Any) -> Any:
        return record.site or "—"


class QualificationTable(SectionTable):
    number = tables.Column(gettext_lazy("证书编号"))
    grade = tables.Column(gettext_lazy("资质类别"))
    specialties = _col(gettext_lazy("检测类别"))
    valid_until = _col(gettext_lazy("有效期至"))

    def render_specialties(self, record: Any) -> str:
        return names(record.specialties)


class AgencyCertificateTable(SectionTable):
    kind = _col(gettext_lazy("证书类别"))
    number = tables.Column(gettext_lazy("证书编号"))
    valid_until = _col(gettext_lazy("有效期至"))


class OutputValueTable(SectionTable):
    year = tables.Column(gettext_lazy("年度"))
    quarter = tables.Column(gettext_lazy("季度"))
    amount = tables.Column(gettext_lazy("产值（元）"))


SECTION_TABLES: dict[str, tuple[Any, type[SectionTable]]] = {
    "head": (gettext_lazy("机构负责人"), HeadTable),
    "site": (gettext_lazy("检测场所"), SiteTable),
    "staff": (gettext_lazy("检测人员"), StaffTable),
    "post_certificate": (gettext_lazy("上岗证"), PostCertificateTable),
    "other_certificate": (gettext_lazy("其他证书"), OtherCertificateTable),
    "equipment": (gettext_lazy("仪器设备"), EquipmentTable),
    "signatory": (gettext_lazy("报告批准人"), SignatoryTable),
    "qualification": (gettext_lazy("资质证书"), QualificationTable),
    "certificate": (gettext_lazy("CMA/CNAS 证书"), AgencyCertificateTable),
    "output_value": (gettext_lazy("产值"), OutputValueTable),
}


class AgencyTable(BaseTable):
    """The authorities' list of agencies."""

    name = tables.Column(gettext_lazy("单位名称"))
    credit_code = tables.Column(gettext_lazy("统一社会信用代码"), attrs={"td": {"class": "text-nowrap"}})
    region = tables.Column(gettext_lazy("注册地"), accessor="region__full_name")
    status = _col(gettext_lazy("审核状态"))
    open_findings = _col(gettext_lazy("资质符合性问题"))
    submitted_at = _col(gettext_lazy("提交时间"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "agencies"}
        empty_text = gettext_lazy("暂无检测机构")

    def render_name(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("registry:agency_detail", args=[record.pk]), value)

    def render_status(self, record: Any) -> str:
        return str(record.get_status_display())

    def render_open_findings(self, record: Any) -> str:
        if record.open_findings:
            return format_html('<span class="badge bg-red-lt">{}</span>', record.open_findings)
        return "—"

    def render_submitted_at(self, record: Any) -> str:
        return date(record.submitted_at, "Y-m-d H:i") or "—"


class FindingTable(BaseTable):
    agency = tables.Column(gettext_lazy("检测机构"), accessor="agency__name")
    severity = _col(gettext_lazy("严重程度"))
    rule = _col(gettext_lazy("规则"))
    subject = tables.Column(gettext_lazy("对象"))
    detail = tables.Column(gettext_lazy("说明"))
    since = _col(gettext_lazy("发现时间"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table", "data-testid": "findings"}
        empty_text = gettext_lazy("暂无问题")

    def render_agency(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("registry:agency_detail", args=[record.agency_id]), value)

    def render_severity(self, record: Any) -> str:
        colour = "bg-red-lt" if record.severity == "critical" else "bg-yellow-lt"
        return format_html('<span class="badge {}">{}</span>', colour, record.get_severity_display())

    def render_rule(self, record: Any) -> str:
        return str(record.get_rule_display())

    def render_since(self, record: Any) -> str:
        return date(record.since, "Y-m-d H:i")
