"""Web forms of projects and contracts (T/CECS 4.3.2, 4.3.3): regions, stations,
agencies and test items are chosen by name from lists limited to what the acting user
may choose, never typed as codes or ids."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.accounts.choices import OrganisationKind
from inspecta.accounts.models import Organisation
from inspecta.core.actors import actor_of, region_within
from inspecta.core.forms import PickerSelect, PickerSelectMultiple, StyledForm
from inspecta.core.models import Region, TestItem
from inspecta.registry.choices import AgencyStatus
from inspecta.registry.models import Agency


def region_choices(actor: Any) -> list[tuple[str, str]]:
    """The enabled regions in which ``actor`` may register a project (its own area; an
    operator: every region), each by its full name in the region tree."""

    from . import permissions

    regions = Region.objects.filter(enabled=True).select_related("parent", "parent__parent").order_by("code")
    a = actor_of(actor)
    if not permissions.may_create_in(a):
        return [("", "—")]
    if a.kind != "operator":
        regions = regions.filter(code__startswith=a.region_prefix) if a.region_code else regions.none()
    else:  # the node's own area
        from django.conf import settings

        from inspecta.core.scoping import region_prefix

        regions = regions.filter(code__startswith=region_prefix(settings.INSPECTA_NODE_REGION))
    return [("", "—")] + [
        (r.code, f"{r.full_name}（{r.code}）") for r in regions if permissions.may_create_in(a, r.code)
    ]


def station_queryset(actor: Any) -> Any:
    """The supervision stations of the actor's area (those above or inside it)."""

    a = actor_of(actor)
    stations = Organisation.objects.filter(kind=OrganisationKind.STATION).order_by("region_id", "name")
    if a.kind == "operator" or not a.region_code:
        return stations
    keep = [s.pk for s in stations if a.within(s.region_id) or region_within(a.region_code, s.region_id)]
    return stations.filter(pk__in=keep)


class StationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.region.full_name if obj.region_id else ''}）"


class AgencyChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.credit_code}）"


class ProjectForm(StyledForm):
    code = forms.CharField(label=_("项目编号"), max_length=64)
    name = forms.CharField(label=_("项目名称"), max_length=200)
    region_code = forms.ChoiceField(label=_("项目所在地"), widget=PickerSelect(placeholder=_("输入地名或区划代码搜索")))
    address = forms.CharField(label=_("项目地址"), max_length=255)
    longitude = forms.DecimalField(label=_("经度"), required=False, min_value=-180, max_value=180, decimal_places=6)
    latitude = forms.DecimalField(label=_("纬度"), required=False, min_value=-90, max_value=90, decimal_places=6)
    supervision_number = forms.CharField(label=_("监督登记号"), max_length=64, required=False)
    station = StationChoiceField(
        label=_("监督站"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=PickerSelect(placeholder=_("输入监督站名称搜索")),
    )
    owner = forms.CharField(label=_("建设单位"), max_length=200, required=False)
    contractor = forms.CharField(label=_("施工单位"), max_length=200, required=False)
    supervising_firm = forms.CharField(label=_("监理单位"), max_length=200, required=False)
    agencies = AgencyChoiceField(
        label=_("检测机构"),
        queryset=Agency.objects.none(),
        required=False,
        widget=PickerSelectMultiple(placeholder=_("输入机构名称或信用代码搜索")),
        help_text=_("可选多个；仅列出审核通过的检测机构。"),
    )

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = region_choices(actor)  # type: ignore[attr-defined]
        self.fields["station"].queryset = station_queryset(actor).select_related("region")  # type: ignore[attr-defined]
        self.fields["agencies"].queryset = Agency.objects.filter(status=AgencyStatus.APPROVED).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        station, region = data.get("station"), data.get("region_code")
        if station is not None and region and not region_within(region, station.region_id):
            self.add_error("station", _("该监督站不管辖所选的项目所在地，请另选。"))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        parties: list[dict[str, Any]] = []
        for role in ("owner", "contractor", "supervising_firm"):
            name = d.pop(role)
            if name:
                parties.append({"role": role, "name": name})
        for agency in d.pop("agencies") or ():
            parties.append({"role": "agency", "agency_id": agency.pk})
        station = d.pop("station")
        d["station_id"] = station.pk if station is not None else None
        d["parties"] = parties
        return d


class TestItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.specialty.name} / {obj.name}"


class ContractForm(StyledForm):
    number = forms.CharField(label=_("合同编号"), max_length=64)
    client_name = forms.CharField(label=_("委托方"), max_length=200)
    amount = forms.DecimalField(label=_("合同金额（元）"), min_value=0, max_digits=14, decimal_places=2)
    signed_on = forms.DateField(label=_("签订日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_from = forms.DateField(label=_("有效期自"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("有效期至"), widget=forms.DateInput(attrs={"type": "date"}))
    test_items = TestItemChoiceField(
        label=_("检测项目"),
        queryset=TestItem.objects.none(),
        widget=PickerSelectMultiple(placeholder=_("输入检测项目名称搜索")),
        help_text=_("可选多个。"),
    )
    allows_additional_agency = forms.BooleanField(label=_("允许增加检测机构"), required=False)
    scan = forms.FileField(label=_("合同扫描件（PDF/图片）"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["test_items"].queryset = (  # type: ignore[attr-defined]
            TestItem.objects.filter(enabled=True).select_related("specialty").order_by("specialty_id", "code")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("有效期至不能早于有效期自。"))
        return data
