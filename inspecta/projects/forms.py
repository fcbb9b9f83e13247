"""Web forms of projects, contracts and on-site inspection plans (T/CECS 4.3.2, 4.3.3;
Nanchang 二(三)): regions, stations, agencies, contracts, staff and test items are chosen by name from lists limited to what the acting user
may choose, never typed as codes or ids."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.accounts.choices import OrganisationKind
from inspecta.accounts.models import Organisation, User
from inspecta.core.actors import actor_of, region_within
from inspecta.core.forms import PickerSelect, PickerSelectMultiple, SingleTestItemChoiceField, StyledForm
from inspecta.core.models import Region, TestItem
from inspecta.registry.choices import AgencyStatus
from inspecta.registry.models import Agency, Staff

from .choices import ProjectDuty
from .models import Contract, ProjectParty


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


# --- on-site inspection plans (Nanchang 二(三); Guangxi 第十条) --------------------------

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class ContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.number}（{obj.valid_from:%Y-%m-%d}—{obj.valid_until:%Y-%m-%d}）"


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}{'（' + obj.post + '）' if obj.post else ''}"


class PlanForm(StyledForm):
    """File (``plan`` is None) or change a plan of ``agency`` on ``project``: the contract
    among the agency's contracts on the project, the test item among the chosen
    contract's, the testers among the agency's active staff."""

    contract = ContractChoiceField(
        label=_("所属检测合同"),
        queryset=Contract.objects.none(),
        widget=PickerSelect(placeholder=_("输入合同编号搜索")),
    )
    test_item = SingleTestItemChoiceField(
        label=_("检测项目"),
        queryset=TestItem.objects.none(),
        widget=PickerSelect(placeholder=_("输入检测项目名称搜索"), follow="contract"),
        help_text=_("列出所选合同的检测项目。"),
    )
    testers = StaffChoiceField(
        label=_("检测人员"),
        queryset=Staff.objects.none(),
        widget=PickerSelectMultiple(placeholder=_("输入姓名搜索")),
        help_text=_("可选多人；仅列出本机构在职人员。"),
    )
    planned_start = _datetime_field(_("计划开始时间"))
    planned_end = _datetime_field(_("计划结束时间"))
    quantity = forms.IntegerField(label=_("检测数量"), min_value=1, max_value=1_000_000)
    quantity_unit = forms.CharField(label=_("数量单位"), max_length=16, help_text=_("如 根、点、组、构件。"))
    location = forms.CharField(label=_("检测部位"), max_length=255)
    document = forms.FileField(label=_("检测方案扫描件（PDF/图片）"))
    reason = forms.CharField(label=_("变更原因"), max_length=500)

    def __init__(self, *args: Any, agency: Any, project: Any, plan: Any = None, **kwargs: Any) -> None:
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "contract": plan.contract_id,
                "test_item": plan.test_item_id,
                "testers": [t.pk for t in plan.testers.all()],
                "planned_start": timezone.localtime(plan.planned_start),
                "planned_end": timezone.localtime(plan.planned_end),
                "quantity": plan.quantity,
                "quantity_unit": plan.quantity_unit,
                "location": plan.location,
            }
        super().__init__(*args, **kwargs)
        contracts = Contract.objects.filter(agency=agency, project=project).order_by("-signed_on", "pk")
        self.fields["contract"].queryset = contracts  # type: ignore[attr-defined]
        groups: dict[str, list[str]] = {}
        for contract_id, code in contracts.values_list("pk", "test_items__code"):
            if code:
                groups.setdefault(code, []).append(str(contract_id))
        self.fields["test_item"].queryset = (  # type: ignore[attr-defined]
            TestItem.objects.filter(pk__in=list(groups), enabled=True)
            .select_related("specialty")
            .order_by("specialty_id", "code")
        )
        self.fields["test_item"].widget.groups = groups
        self.fields["testers"].queryset = Staff.objects.filter(agency=agency, active=True).order_by("name", "pk")  # type: ignore[attr-defined]
        if plan is None:
            del self.fields["reason"]
        else:
            self.fields["document"].required = False
            self.fields["document"].help_text = _("不上传则沿用当前文件。")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end <= start:
            self.add_error("planned_end", _("计划结束时间须晚于计划开始时间。"))
        contract, item = data.get("contract"), data.get("test_item")
        if contract is not None and item is not None and not contract.test_items.filter(pk=item.pk).exists():
            self.add_error("test_item", _("所选检测合同不包含该检测项目，请另选。"))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        """The plan's fields for ``plan_file``/``plan_change`` (the document and the
        reason are the view's)."""

        d = self.cleaned_data
        return {
            "contract_id": d["contract"].pk,
            "test_item": d["test_item"].pk,
            "tester_ids": [t.pk for t in d["testers"]],
            "planned_start": d["planned_start"],
            "planned_end": d["planned_end"],
            "quantity": d["quantity"],
            "quantity_unit": d["quantity_unit"],
            "location": d["location"],
        }


class PlanCancelForm(StyledForm):
    reason = forms.CharField(label=_("取消原因"), max_length=500)


class CalendarForm(StyledForm):
    """The calendar's period: a day or a week from ``start`` (today by default)."""

    start = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    span = forms.ChoiceField(
        label=_("范围"), required=False, choices=[("week", _("一周")), ("day", _("一天"))], initial="week"
    )


class _PartyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_role_display()} {obj.name}"


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        roles = "、".join(str(g.get_role_display()) for g in obj.role_grants.all())
        return f"{obj.full_name}（{roles}）"


class PersonNameForm(StyledForm):
    """Names one of the acting admin's own people on the project for a duty (Nanchang
    一(二)): the parties and people offered are those of the admin's organisation only."""

    party = _PartyChoice(label=_("参建单位"), queryset=ProjectParty.objects.none(), empty_label=None)
    person = _PersonChoice(label=_("人员"), queryset=User.objects.none(), empty_label=_("请选择人员"))
    duty = forms.ChoiceField(label=_("职责"), choices=ProjectDuty.choices)

    def __init__(self, *args: Any, parties: Any, **kwargs: Any) -> None:
        from inspecta.accounts.choices import Role

        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["party"]).queryset = parties
        people = User.objects.filter(
            organisation_id__in=[p.organisation_id for p in parties],
            is_active=True,
            role_grants__role__in=[Role.SAMPLER, Role.WITNESS],
        ).distinct()
        cast(forms.ModelChoiceField, self.fields["person"]).queryset = people.order_by(
            "full_name", "pk"
        ).prefetch_related("role_grants")
