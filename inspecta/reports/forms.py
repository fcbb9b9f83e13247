"""Web forms of reports."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.core.actors import ActorKind
from inspecta.core.forms import StyledForm, style_fields
from inspecta.core.limits import MAX_ID
from inspecta.core.models import TestItem

from .choices import CheckAction, CheckCode, Conclusion, ReportStatus


class ReportFilterForm(forms.Form):
    """The filters of the report list and its Excel export: choices
    limited to what the user may see — the regions below the user's own, the agencies
    that have reported on the user's projects, the catalog's test items."""

    q = forms.CharField(label=_("报告编号/流水号"), required=False)
    region = forms.ChoiceField(label=_("行政区划"), required=False)
    agency = forms.TypedChoiceField(label=_("检测机构"), required=False, coerce=int, empty_value=None)
    project_q = forms.CharField(label=_("项目编号/名称"), required=False, max_length=100)
    project = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    test_item = forms.ChoiceField(label=_("检测项目"), required=False)
    conclusion = forms.ChoiceField(label=_("结论"), required=False, choices=[("", _("全部结论")), *Conclusion.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *ReportStatus.choices])
    date_from = forms.DateField(label=_("报告日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("报告日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    amendment = forms.ChoiceField(
        label=_("变更申请"), required=False, choices=[("", _("全部")), ("pending", _("有待审批的变更"))]
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices(user)
        style_fields(self, placeholders=True)

    def _choices(self, user: Any) -> None:
        from inspecta.core.actors import actor_of
        from inspecta.core.models import Region
        from inspecta.core.scoping import scope_q
        from inspecta.registry.models import Agency

        from .models import ProjectItemAgency

        actor = actor_of(user)
        regions = Region.objects.none()
        if actor.is_operator:
            regions = Region.objects.filter(level="province")
        elif actor.region_code:
            regions = Region.objects.filter(code__startswith=actor.region_prefix).exclude(pk=actor.region_code)
        cast(forms.ChoiceField, self.fields["region"]).choices = [
            ("", _("全部行政区划")),
            *((r.code, f"{r.code} {r.name}") for r in regions.order_by("code").only("code", "name")),
        ]
        if actor.kind is ActorKind.AGENCY:
            del self.fields["agency"]  # an agency sees its own reports only
        else:
            seen = ProjectItemAgency.objects.filter(scope_q(actor, ProjectItemAgency)).values("agency_id")
            agencies = Agency.objects.filter(pk__in=seen).order_by("name").only("pk", "name")
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


class _ReportTexts(forms.Form):
    """The descriptive fields of a report (Nanchang 三(一)), optional, shared by the
    submission and the amendment forms."""

    commissioning_unit = forms.CharField(label=_("委托单位"), max_length=200, required=False)
    commission_number = forms.CharField(label=_("委托编号"), max_length=64, required=False)
    contractor = forms.CharField(label=_("施工单位"), max_length=200, required=False)
    deliverer = forms.CharField(label=_("送检人"), max_length=64, required=False)
    project_part = forms.CharField(label=_("工程部位"), max_length=200, required=False)
    environment = forms.CharField(label=_("检测环境"), max_length=200, required=False)
    test_basis = forms.CharField(
        label=_("检测依据（每行一个标准）"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReportSubmitForm(_ReportTexts):
    """For agencies without a LIMS: the same fields as the API (Nanchang 三(一)), chosen
    from the agency's own registry records instead of typed as ids: its projects, the
    test items of its capabilities (the parameters follow the chosen item), its sites,
    staff in post, signatories and equipment. What the lists offer is a convenience; the
    acceptance checks still decide (``services.report_submit``)."""

    project_id = forms.TypedChoiceField(label=_("工程项目"), coerce=int)
    report_number = forms.CharField(label=_("报告编号"), max_length=64)
    test_item = forms.ChoiceField(label=_("检测项目"))
    parameters = forms.MultipleChoiceField(
        label=_("检测参数"), widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
    )
    delivered_on = forms.DateField(label=_("送检日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tested_on = forms.DateField(label=_("检测日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reported_on = forms.DateField(label=_("报告日期"), widget=forms.DateInput(attrs={"type": "date"}))
    conclusion = forms.ChoiceField(label=_("检测结论"), choices=Conclusion.choices)
    equipment = forms.MultipleChoiceField(
        label=_("所用仪器设备"), required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    site_id = forms.TypedChoiceField(label=_("检测场所"), required=False, coerce=int, empty_value=None)
    # the three people who sign it off on the platform with their own accounts, in turn
    # (``signoff``): who and when are recorded by the platform, not typed here
    tester_id = forms.TypedChoiceField(
        label=_("检测人"), coerce=int, help_text=_("只列出已绑定平台账号的在职人员；本人在平台签署。")
    )
    reviewer_id = forms.TypedChoiceField(label=_("审核人"), coerce=int)
    signatory_id = forms.TypedChoiceField(label=_("批准人（授权签字人）"), coerce=int)
    pdf = forms.FileField(
        label=_("报告 PDF"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )
    # The PDF stored by an earlier post of this form that the platform refused: kept, so
    # the clerk need not choose the file again (``views.report_submit_view``).
    pdf_kept = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, agency: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.kept_pdf: Any = None
        self._choices()
        style_fields(self)

    def clean_pdf_kept(self) -> Any:
        """Only a report PDF of this agency's organisation can be kept."""

        from inspecta.core.models import StoredFile

        kept = self.cleaned_data.get("pdf_kept")
        if kept:
            self.kept_pdf = StoredFile.objects.filter(
                pk=kept, organisation_id=self.agency.organisation_id, purpose="report"
            ).first()
        return kept

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("pdf") and self.kept_pdf is None and "pdf" not in self.errors:
            self.add_error("pdf", _("请选择报告 PDF 文件。"))
        return data

    def keep_pdf(self, stored: Any) -> None:
        """Remember ``stored`` for the re-shown form: its hidden field carries the id."""

        self.kept_pdf = stored
        data = cast(Any, self.data).copy()
        data["pdf_kept"] = str(stored.pk)
        self.data = data

    def _choices(self) -> None:
        from inspecta.projects.models import Project
        from inspecta.registry.models import Equipment, Site, SiteCapability, Staff

        agency = self.agency
        projects = Project.objects.filter(parties__agency=agency).distinct().order_by("-pk").only("pk", "code", "name")
        self._set("project_id", [(p.pk, f"{p.code} {p.name}") for p in projects], _("请选择工程项目"))
        capable = (
            SiteCapability.objects.filter(agency=agency)
            .values_list("item_parameter__test_item_id", flat=True)
            .distinct()
        )
        groups: dict[str, list[tuple[str, str]]] = {}
        for item in (
            TestItem.objects.filter(pk__in=capable).select_related("specialty").order_by("specialty_id", "code")
        ):
            groups.setdefault(item.specialty.name, []).append((item.code, f"{item.code} {item.name}"))
        cast(forms.ChoiceField, self.fields["test_item"]).choices = [
            ("", _("请选择检测项目")),
            *((group, tuple(options)) for group, options in groups.items()),
        ]
        from django.urls import reverse

        self.fields["test_item"].widget.attrs.update(
            {
                "hx-get": reverse("reports:report_submit_parameters"),
                "hx-target": "#parameters",
                "hx-swap": "outerHTML",
                "hx-trigger": "change",
            }
        )
        item = self.data.get("test_item") if self.is_bound else self.initial.get("test_item")
        cast(forms.ChoiceField, self.fields["parameters"]).choices = parameter_choices(agency, item)
        self._set(
            "site_id",
            [(site.pk, site.name) for site in Site.objects.filter(agency=agency).order_by("pk")],
            _("（不指定）"),
        )
        # only people with a platform account can sign off (``signoff.draft_prepare``)
        signers = Staff.objects.filter(agency=agency, active=True, user__isnull=False)
        staff = [(person.pk, person.name) for person in signers.order_by("name")]
        self._set("tester_id", staff, _("请选择"))
        self._set("reviewer_id", staff, _("请选择"))
        signatories = signers.filter(signatory_roles__isnull=False).distinct().order_by("name")
        self._set("signatory_id", [(person.pk, person.name) for person in signatories], _("请选择"))
        cast(forms.ChoiceField, self.fields["equipment"]).choices = [
            (e.asset_no, f"{e.asset_no} {e.name}")
            for e in Equipment.objects.filter(agency=agency).order_by("asset_no").only("asset_no", "name")
        ]

    SECTIONS = (
        (
            _("工程与委托"),
            (
                "project_id",
                "report_number",
                "commissioning_unit",
                "commission_number",
                "contractor",
                "deliverer",
                "project_part",
                "delivered_on",
            ),
        ),
        (
            _("检测信息"),
            (
                "test_item",
                "site_id",
                "environment",
                "parameters",
                "test_basis",
                "equipment",
                "tested_on",
                "reported_on",
                "conclusion",
            ),
        ),
        (
            _("三级审批"),
            ("tester_id", "reviewer_id", "signatory_id"),
        ),
        (_("报告文件"), ("pdf", "pdf_kept")),
    )

    def sections(self) -> list[dict[str, Any]]:
        """The fields in the page's cards, in order (every field exactly once)."""

        return [{"title": title, "fields": [self[name] for name in names]} for title, names in self.SECTIONS]

    def _set(self, name: str, options: list[tuple[Any, str]], empty: Any) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = [("", empty), *options]

    def draft_fields(self) -> dict[str, Any]:
        """What ``signoff.draft_prepare`` takes: ``services.ReportFields`` without the
        PDF and the three sign-off times."""

        d = dict(self.cleaned_data)
        d.pop("pdf")
        d.pop("pdf_kept", None)
        d["test_basis"] = [line.strip() for line in (d.get("test_basis") or "").splitlines() if line.strip()]
        d["parameters"] = list(d["parameters"])
        d["equipment"] = list(d.get("equipment") or [])
        return d


def parameter_choices(agency: Any, item: Any) -> list[tuple[str, str]]:
    """The parameters of catalog item ``item`` (none without an item); those outside the
    agency's capabilities are marked, since the capability check will flag or refuse
    them."""

    from inspecta.core.models import TestItemParameter
    from inspecta.registry.models import SiteCapability

    if not item:
        return []
    covered = set(
        SiteCapability.objects.filter(agency=agency, item_parameter__test_item_id=item).values_list(
            "item_parameter__parameter_id", flat=True
        )
    )
    links = TestItemParameter.objects.filter(test_item_id=item).select_related("parameter").order_by("parameter_id")
    outside = str(_("（本机构无此能力）"))
    return [
        (link.parameter_id, link.parameter.name if link.parameter_id in covered else link.parameter.name + outside)
        for link in links
    ]


class AmendmentForm(_ReportTexts):
    """The agency's application to amend a report (Nanchang 三(二); Guangxi 第十三条):
    the reason, and only the fields that change (a blank field stays as it is) and/or a
    new PDF. Parameters, results and equipment are amended through the API
    (``POST /api/v1/reports/{id}/amendments``)."""

    reason = forms.CharField(label=_("变更理由"), widget=forms.Textarea(attrs={"rows": 3}))
    report_number = forms.CharField(label=_("报告编号"), max_length=64, required=False)
    delivered_on = forms.DateField(label=_("送检日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tested_on = forms.DateField(label=_("检测日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reported_on = forms.DateField(label=_("报告日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    conclusion = forms.ChoiceField(
        label=_("变更后结论"), required=False, choices=[("", _("不变")), *Conclusion.choices]
    )
    pdf = forms.FileField(
        label=_("变更后报告 PDF"), required=False, widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"})
    )

    field_order = (
        "reason",
        "report_number",
        "commissioning_unit",
        "commission_number",
        "contractor",
        "deliverer",
        "project_part",
        "environment",
        "test_basis",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self)

    def changes(self) -> dict[str, Any]:
        """The amended fields, as ``services.amendment_apply`` takes them."""

        out: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name in ("reason", "pdf") or value in (None, ""):
                continue
            if name == "test_basis":
                value = [line.strip() for line in value.splitlines() if line.strip()]
                if not value:
                    continue
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            out[name] = value
        return out


def amendment_rows(amendment: Any, current: dict[str, Any]) -> list[dict[str, Any]]:
    """``{"label", "before", "after"}`` of each field an amendment changes (``current``:
    the data of the version in force), for the report page."""

    labels = {name: field.label for name, field in AmendmentForm.base_fields.items()}
    labels["conclusion"] = _("检测结论")
    conclusions: dict[Any, Any] = dict(Conclusion.choices)
    rows = []
    for name, after in (amendment.data or {}).items():
        before = current.get(name)
        if name == "conclusion":
            before, after = conclusions.get(before, before), conclusions.get(after, after)
        if isinstance(before, list):
            before = "、".join(str(v) for v in before)
        if isinstance(after, list):
            after = "、".join(str(v) for v in after)
        rows.append({"label": labels.get(name, name), "before": before, "after": after})
    return rows


class ReasonForm(StyledForm):
    """Why a report is revoked."""

    reason = forms.CharField(label=_("撤销理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(StyledForm):
    """The authority's comment on an amendment (required by the service when rejecting)."""

    reason = forms.CharField(label=_("意见"), required=False, max_length=2000)


class CheckRuleForm(StyledForm):
    """One acceptance check and how the province handles it: reject or flag."""

    code = forms.ChoiceField(
        label=_("检查项"), choices=CheckCode.choices, error_messages={"invalid_choice": _("检查项不合法。")}
    )
    action = forms.ChoiceField(
        label=_("处理方式"), choices=CheckAction.choices, error_messages={"invalid_choice": _("处理方式不合法。")}
    )


class DraftReturnForm(StyledForm):
    """Why a tester, reviewer or signatory returns a report draft to its preparer."""

    reason = forms.CharField(label=_("退回理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
