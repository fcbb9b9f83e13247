"""Web forms of projects and contracts (T/CECS 4.3.2, 4.3.3)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.core.forms import StyledForm


class ProjectForm(StyledForm):
    code = forms.CharField(label=_("项目编号"), max_length=64)
    name = forms.CharField(label=_("项目名称"), max_length=200)
    region_code = forms.RegexField(label=_("行政区划代码"), regex=r"^\d{6}$")
    address = forms.CharField(label=_("项目地址"), max_length=255)
    longitude = forms.DecimalField(label=_("经度"), required=False, min_value=-180, max_value=180, decimal_places=6)
    latitude = forms.DecimalField(label=_("纬度"), required=False, min_value=-90, max_value=90, decimal_places=6)
    supervision_number = forms.CharField(label=_("监督登记号"), max_length=64, required=False)
    station_id = forms.IntegerField(label=_("监督站 id"), required=False)
    owner = forms.CharField(label=_("建设单位"), max_length=200, required=False)
    contractor = forms.CharField(label=_("施工单位"), max_length=200, required=False)
    supervising_firm = forms.CharField(label=_("监理单位"), max_length=200, required=False)
    agency_ids = forms.CharField(label=_("检测机构 id（逗号分隔）"), required=False)

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        parties = []
        for role in ("owner", "contractor", "supervising_firm"):
            name = d.pop(role)
            if name:
                parties.append({"role": role, "name": name})
        for raw in (d.pop("agency_ids") or "").split(","):
            if raw.strip():
                if not raw.strip().isdigit():
                    raise forms.ValidationError(_("检测机构 id 须为数字。"))
                parties.append({"role": "agency", "agency_id": int(raw.strip())})
        d["parties"] = parties
        return d


class ContractForm(StyledForm):
    number = forms.CharField(label=_("合同编号"), max_length=64)
    client_name = forms.CharField(label=_("委托方"), max_length=200)
    amount = forms.DecimalField(label=_("合同金额（元）"), min_value=0, max_digits=14, decimal_places=2)
    signed_on = forms.DateField(label=_("签订日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_from = forms.DateField(label=_("有效期自"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("有效期至"), widget=forms.DateInput(attrs={"type": "date"}))
    test_items = forms.CharField(label=_("检测项目编码（逗号分隔）"))
    allows_additional_agency = forms.BooleanField(label=_("允许增加检测机构"), required=False)
    scan = forms.FileField(label=_("合同扫描件（PDF/图片）"))
