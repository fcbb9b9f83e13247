"""Web forms of reports (issue 5 points 3, 7, 11)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Conclusion, ReportStatus


class ReportFilterForm(forms.Form):
    """The filters of the report list and its Excel export (issue 5 point 11): choices
    limited to what the user may see — the regions below the user's own, the agencies
    that have reported on the user's projects, the catalog's test items."""

    q = forms.CharField(label=_("报告编号/流水号"), required=False)
    region = forms.ChoiceField(label=_("行政区划"), required=False)
    agency = forms.TypedChoiceField(label=_("检测机构"), required=False, coerce=int, empty_value=None)
    project_q = forms.CharField(label=_("项目编号/名称"), required=False, max_length=100)
    project = forms.IntegerField(required=False, widget=forms.HiddenInput)
    test_item = forms.ChoiceField(label=_("检测项目"), required=False)
    conclusion = forms.ChoiceField(label=_("结论"), required=False, choices=[("", _("全部结论")), *Conclusion.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *ReportStatus.choices])
    date_from = forms.DateField(label=_("报告日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("报告日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices(user)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
            if not isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("placeholder", field.label)
            field.widget.attrs.setdefault("aria-label", field.label)

    def _choices(self, user: Any) -> None:
        from inspecta.core.models import Region, TestItem
        from inspecta.core.scoping import region_prefix
        from inspecta.registry.models import Agency

        from .models import ProjectItemAgency, report_scope_q

        org = getattr(user, "organisation", None)
        regions = Region.objects.none()
        if user is not None and getattr(user, "is_operator", False):
            regions = Region.objects.filter(level="province")
        elif org is not None:
            regions = Region.objects.filter(code__startswith=region_prefix(org.region_id)).exclude(pk=org.region_id)
        cast(forms.ChoiceField, self.fields["region"]).choices = [
            ("", _("全部行政区划")),
            *((r.code, f"{r.code} {r.name}") for r in regions.order_by("code").only("code", "name")),
        ]
        agencies = Agency.objects.none()
        if user is not None and (org is None or org.kind != "agency"):
            seen = ProjectItemAgency.objects.filter(report_scope_q(user)).values("agency_id")
            agencies = Agency.objects.filter(pk__in=seen).order_by("name").only("pk", "name")
        if org is not None and org.kind == "agency":
            del self.fields["agency"]  # an agency sees its own reports only
        else:
            cast(forms.ChoiceField, self.fields["agency"]).choices = [
                ("", _("全部检测机构")),
                *((a.pk, a.name) for a in agencies),
            ]
        items: dict[str, list[tuple[str, str]]] = {}
        for item in TestItem.objects.select_related("specialty").order_by("specialty_id", "code"):
            items.setdefault(item.specialty.name, []).append((item.code, f"{item.code} {item.name}"))
        cast(forms.ChoiceField, self.fields["test_item"]).choices = [
            ("", _("全部检测项目")),
            *((group, tuple(options)) for group, options in items.items()),
        ]


class ReportSubmitForm(forms.Form):
    """For agencies without a LIMS: the same fields as the API (Nanchang 三(一))."""

    project_id = forms.IntegerField(label=_("工程项目 id"))
    report_number = forms.CharField(label=_("报告编号"), max_length=64)
    commissioning_unit = forms.CharField(label=_("委托单位"), max_length=200, required=False)
    commission_number = forms.CharField(label=_("委托编号"), max_length=64, required=False)
    contractor = forms.CharField(label=_("施工单位"), max_length=200, required=False)
    deliverer = forms.CharField(label=_("送检人"), max_length=64, required=False)
    project_part = forms.CharField(label=_("工程部位"), max_length=200, required=False)
    test_basis = forms.CharField(
        label=_("检测依据（每行一个标准）"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    test_item = forms.CharField(label=_("检测项目编码"), max_length=64)
    parameters = forms.CharField(label=_("检测参数编码（逗号分隔）"))
    environment = forms.CharField(label=_("检测环境"), max_length=200, required=False)
    delivered_on = forms.DateField(label=_("送检日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tested_on = forms.DateField(label=_("检测日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reported_on = forms.DateField(label=_("报告日期"), widget=forms.DateInput(attrs={"type": "date"}))
    conclusion = forms.ChoiceField(label=_("检测结论"), choices=Conclusion.choices)
    equipment = forms.CharField(label=_("仪器设备编号（逗号分隔）"), required=False)
    site_id = forms.IntegerField(label=_("检测场所 id"), required=False)
    tester_id = forms.IntegerField(label=_("检测人 id"))
    tested_at = forms.DateTimeField(
        label=_("检测完成时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reviewer_id = forms.IntegerField(label=_("审核人 id"))
    reviewed_at = forms.DateTimeField(label=_("审核时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    signatory_id = forms.IntegerField(label=_("批准人 id"))
    approved_at = forms.DateTimeField(label=_("批准时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    pdf = forms.FileField(label=_("报告 PDF"))

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        d.pop("pdf")
        d["test_basis"] = [line.strip() for line in (d.get("test_basis") or "").splitlines() if line.strip()]
        d["parameters"] = [p.strip() for p in d["parameters"].split(",") if p.strip()]
        d["equipment"] = [p.strip() for p in (d.get("equipment") or "").split(",") if p.strip()]
        return d


class AmendmentForm(forms.Form):
    reason = forms.CharField(label=_("变更理由"), widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))
    conclusion = forms.ChoiceField(
        label=_("变更后结论"), required=False, choices=[("", _("不变")), *Conclusion.choices]
    )
    pdf = forms.FileField(label=_("变更后报告 PDF"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))
