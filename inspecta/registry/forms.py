"""Forms of the registry pages: they parse and validate; services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from inspecta.accounts.models import User
from inspecta.core.forms import PickerSelectMultiple, StyledForm, style_fields
from inspecta.core.identifiers import validate_credit_code, validate_mobile
from inspecta.core.models import Region, Specialty, StoredFile, TestItem, TestItemParameter

from .choices import AgencyStatus
from .models import (
    Agency,
    AgencyCertificate,
    AgencyHead,
    Equipment,
    OtherCertificate,
    OutputValue,
    PostCertificate,
    QualificationCertificate,
    Signatory,
    Site,
    Staff,
)
from .services import BASIC_FIELDS, parameters_outside


def _city_choices(user: Any = None) -> list[tuple[str, str]]:
    """The node's cities and districts; for ``user`` (a regulator or an agency), only
    those inside the user's own area. Operators and the public see the node's."""
    from django.conf import settings

    from inspecta.core.actors import actor_of
    from inspecta.core.scoping import region_prefix

    prefix = region_prefix(settings.INSPECTA_NODE_REGION)
    if user is not None:
        actor = actor_of(user)
        if not actor.is_operator and actor.region_code and actor.region_prefix.startswith(prefix):
            prefix = actor.region_prefix
    regions = (
        Region.objects.filter(code__startswith=prefix, enabled=True)
        .exclude(level="province")
        .select_related("parent", "parent__parent")
        .order_by("code")
    )
    return [("", "—")] + [(r.code, f"{r.code} {r.full_name}") for r in regions]


class RegistrationForm(StyledForm):
    """Self-registration (Guangdong 附件2 一(一), 二(一))."""

    name = forms.CharField(label=_("单位名称"), max_length=200)
    credit_code = forms.CharField(
        label=_("统一社会信用代码"), min_length=18, max_length=18, validators=[validate_credit_code]
    )
    region_code = forms.ChoiceField(
        label=_("注册地（市、区县）"), help_text=_("外省进粤检测机构选择其在本省分支机构所在地。")
    )
    out_of_province = forms.BooleanField(label=_("外省进粤检测机构"), required=False)
    contact_name = forms.CharField(label=_("联系人（管理员姓名）"), max_length=64)
    contact_mobile = forms.CharField(label=_("联系人手机"), max_length=11, validators=[validate_mobile])
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    username = forms.RegexField(
        label=_("管理员用户名"), regex=r"^[A-Za-z0-9_.@-]{3,150}$", help_text=_("3 位以上字母、数字或 _.@-")
    )
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, max_length=128)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput, max_length=128)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = _city_choices()  # type: ignore[attr-defined]

    def clean_credit_code(self) -> str:
        return str(self.cleaned_data["credit_code"]).strip().upper()

    def clean(self) -> dict[str, Any]:
        """Every refusal at once: besides the fields' own checks, the password rules and
        a taken user name (the service checks them again)."""

        from django.contrib.auth import password_validation
        from django.core.exceptions import ValidationError

        from inspecta.accounts.models import User

        data = super().clean() or {}
        password, username = data.get("password"), data.get("username")
        if password and password != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        if username and User.objects.filter(username__iexact=username).exists():
            self.add_error("username", _("该用户名已被使用，请另选一个。"))
        if password:
            try:
                password_validation.validate_password(password, User(username=username or ""))
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


# Fields edited on each kind's form (the model's labels come from the clauses).
KIND_FIELDS: dict[str, list[str]] = {
    "head": [
        "role",
        "name",
        "gender",
        "birth_month",
        "position",
        "title",
        "education",
        "id_number",
        "years_in_testing",
        "office_phone",
        "mobile",
        "resume",
    ],
    "site": ["name", "address", "longitude", "latitude", "area"],
    "staff": [
        "name",
        "gender",
        "id_number",
        "mobile",
        "education",
        "major",
        "title",
        "title_level",
        "title_major",
        "title_certificate_no",
        "post",
        "hired_on",
        "social_insurance_no",
        "years_in_testing",
        "training",
        "site",
        "specialties",
        "is_registered_person",
        "practice_certificate_no",
        "user",
    ],
    "post_certificate": ["staff", "number", "issued_on", "valid_until", "issuer", "category", "level", "test_items"],
    "other_certificate": ["staff", "kind", "number", "valid_until"],
    "equipment": [
        "asset_no",
        "name",
        "equipment_type",
        "model",
        "serial_no",
        "manufacturer",
        "measuring_range",
        "accuracy",
        "calibration_kind",
        "calibration_body",
        "calibration_interval_months",
        "calibrated_on",
        "calibration_valid_until",
        "self_check_items",
        "self_check_standard",
        "site",
        "test_items",
        "parameters",
        "status",
    ],
    "signatory": ["staff", "position", "title", "scope", "scope_note", "site"],
    "qualification": ["number", "grade", "specialties", "test_items", "issuer", "issued_on", "valid_until"],
    "certificate": ["kind", "number", "issuer", "issued_on", "valid_until"],
    "output_value": ["year", "quarter", "amount"],
}

KIND_MODELS: dict[str, type[models.Model]] = {
    "head": AgencyHead,
    "site": Site,
    "staff": Staff,
    "post_certificate": PostCertificate,
    "other_certificate": OtherCertificate,
    "equipment": Equipment,
    "signatory": Signatory,
    "qualification": QualificationCertificate,
    "certificate": AgencyCertificate,
    "output_value": OutputValue,
}


def attachment_fields(model: type[models.Model]) -> list[str]:
    """Names of the model's scan/photo fields (foreign keys to ``core.StoredFile``)."""

    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.related_model is StoredFile and f.editable
    ]


def _limit_to_agency(form: forms.BaseForm, agency: Agency) -> None:
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is None:
            continue
        model = queryset.model
        if model in (Site, Staff):
            field.queryset = queryset.filter(agency=agency)  # type: ignore[attr-defined]
            if model is Staff:
                field.queryset = field.queryset.filter(active=True)  # type: ignore[attr-defined]
        elif model is User:
            # a staff record is bound to an active account of the agency's own organisation
            field.queryset = queryset.filter(  # type: ignore[attr-defined]
                organisation_id=agency.organisation_id, is_active=True
            ).order_by("username")
        elif model in (Specialty, TestItem):
            field.queryset = queryset.filter(enabled=True)  # type: ignore[attr-defined]


def _pick_items_and_parameters(form: forms.BaseForm) -> None:
    """Test items searchable by name; parameters searchable, each labelled with the
    test items it belongs to and shown only for the chosen items (the catalog repeats
    a parameter's name under many items). A parameter outside the chosen items is
    refused."""

    items = form.fields.get("test_items")
    parameters = form.fields.get("parameters")
    if items is not None:
        items.widget = PickerSelectMultiple(placeholder=_("输入检测项目名称搜索"))
        items.widget.choices = items.choices  # type: ignore[attr-defined]
        items.label_from_instance = lambda item: f"{item.specialty.name} / {item.name}"  # type: ignore[attr-defined]
        items.queryset = items.queryset.select_related("specialty")  # type: ignore[attr-defined]
    if parameters is None:
        return
    links = TestItemParameter.objects.filter(test_item__enabled=True).select_related("test_item")
    groups: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    for link in links.order_by("test_item__specialty_id", "test_item_id"):
        groups.setdefault(str(link.parameter_id), []).append(str(link.test_item_id))
        names.setdefault(str(link.parameter_id), []).append(link.test_item.name)

    def label(parameter: Any) -> str:
        owners = names.get(str(parameter.pk), [])
        shown = "、".join(owners[:2]) + (_("等 %(n)d 项") % {"n": len(owners)} if len(owners) > 2 else "")
        return f"{parameter.name}（{shown}）" if shown else str(parameter.name)

    parameters.label_from_instance = label  # type: ignore[attr-defined]
    parameters.widget = PickerSelectMultiple(
        placeholder=_("输入参数名称搜索"), follow="test_items" if items is not None else "", groups=groups
    )
    parameters.widget.choices = parameters.choices  # type: ignore[attr-defined]
    parameters.help_text = _("先选检测项目，列表只显示所选项目的参数。")
    if items is None:
        return
    original_clean = form.clean

    def clean() -> dict[str, Any]:
        data = original_clean() or {}
        outside = parameters_outside(data.get("test_items") or (), data.get("parameters") or ())
        if outside:
            form.add_error(
                "parameters",
                _("以下参数不属于所选检测项目：%(names)s。") % {"names": "、".join(p.name for p in outside)},
            )
        return data

    form.clean = clean  # type: ignore[method-assign]


def record_form(
    kind: str, agency: Agency, instance: models.Model | None, data: Any = None, files: Any = None
) -> forms.ModelForm:
    """The ModelForm of one kind, its choices limited to the agency's own records, with
    an upload field per scan/photo."""

    model = KIND_MODELS[kind]
    form_class = forms.modelform_factory(model, fields=KIND_FIELDS[kind])
    form = form_class(data, files, instance=instance or model(agency=agency))
    _limit_to_agency(form, agency)
    if kind == "equipment":
        _pick_items_and_parameters(form)
    for name in attachment_fields(model):
        label = model._meta.get_field(name).verbose_name  # type: ignore[union-attr]
        form.fields[f"{name}__upload"] = forms.FileField(label=label, required=False, help_text=_("PDF、JPEG 或 PNG"))
    style_fields(form)
    return form


def agency_form(agency: Agency, data: Any = None, files: Any = None) -> forms.ModelForm:
    fields = [f for f in BASIC_FIELDS if f != "business_licence"]
    form_class = forms.modelform_factory(Agency, fields=fields)
    form = form_class(data, files, instance=agency)
    form.fields["parent"].queryset = (  # type: ignore[attr-defined]
        Agency.objects.filter(status=AgencyStatus.APPROVED).exclude(pk=agency.pk).order_by("name")
    )
    form.fields["business_licence__upload"] = forms.FileField(
        label=_("营业执照扫描件"), required=False, help_text=_("PDF、JPEG 或 PNG")
    )
    style_fields(form)
    return form


class CapabilityForm(StyledForm):
    """Which parameters of one catalog test item a site offers (T/CECS 4.1.1-6)."""

    test_item = forms.ModelChoiceField(label=_("检测项目"), queryset=TestItem.objects.none())
    parameters = forms.MultipleChoiceField(label=_("参数"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, item: TestItem | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["test_item"].queryset = (  # type: ignore[attr-defined]
            TestItem.objects.filter(enabled=True).select_related("specialty").order_by("specialty_id", "code")
        )
        if item is not None:
            self.fields["parameters"].choices = [  # type: ignore[attr-defined]
                (link.parameter_id, f"{link.parameter.name}（{link.get_level_display()}）")
                for link in item.item_parameters.select_related("parameter").order_by("level", "parameter_id")
            ]


class ReasonForm(StyledForm):
    """The reviewer's comment on an agency or a key-fact change: optional when approving,
    required by the service when returning (Guangdong 附件2 一(二))."""

    reason = forms.CharField(
        label=_("意见或原因"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm = forms.BooleanField(label=_("已核查上述严重不符合项，确认审核通过"), required=False)


class ImportForm(StyledForm):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))


class AgencyFilterForm(StyledForm):
    """The back-office agency list's filters; the regions offered are those of ``user``'s
    own area (the public list's, :class:`PublicFilterForm`, the node's)."""

    q = forms.CharField(label=_("名称或信用代码"), required=False)
    status = forms.ChoiceField(label=_("审核状态"), required=False)
    region = forms.ChoiceField(label=_("行政区划"), required=False)
    specialty = forms.ChoiceField(label=_("检测专项"), required=False)
    findings = forms.BooleanField(label=_("仅看有问题的机构"), required=False)
    changes = forms.ChoiceField(
        label=_("关键信息变更"), required=False, choices=[("", _("全部")), ("pending", _("有待审核的变更"))]
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("全部状态")), *AgencyStatus.choices]  # type: ignore[attr-defined]
        self.fields["region"].choices = [("", _("全部行政区划")), *_city_choices(user)[1:]]  # type: ignore[attr-defined]
        self.fields["q"].widget.attrs["placeholder"] = _("名称或统一社会信用代码")
        self.fields["specialty"].choices = [("", _("全部专项"))] + [  # type: ignore[attr-defined]
            (s.code, f"{s.official_no} {s.name}") for s in Specialty.objects.filter(enabled=True).order_by("code")
        ]


class PublicFilterForm(AgencyFilterForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["status"]
        del self.fields["findings"]
        del self.fields["changes"]
