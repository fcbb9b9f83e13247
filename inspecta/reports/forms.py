"""Web forms of reports (issue 5 points 3, 7, 11)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Conclusion, ReportStatus


class ReportFilterForm(forms.Form):
    q = forms.CharField(label=_("报告编号/流水号"), required=False)
    region = forms.CharField(label=_("行政区划"), required=False, max_length=6)
    agency = forms.IntegerField(label=_("检测机构 id"), required=False)
    project = forms.IntegerField(label=_("项目 id"), required=False)
    test_item = forms.CharField(label=_("检测项目编码"), required=False)
    conclusion = forms.ChoiceField(label=_("结论"), required=False, choices=[("", _("全部结论")), *Conclusion.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *ReportStatus.choices])
    date_from = forms.DateField(label=_("报告日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("报告日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
            field.widget.attrs.setdefault("placeholder", field.label)


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
