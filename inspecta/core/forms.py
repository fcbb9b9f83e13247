"""Shared form helpers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Parameter, Region, Specialty, TestItem


def apply_validation_error(form: forms.Form, exc: ValidationError, default_field: str | None = None) -> None:
    """Put a service's ``ValidationError`` onto the form, field by field where it can."""

    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else default_field
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(default_field, message)


PLAIN_MESSAGES: dict[str, Any] = {
    "required": _("请填写此项。"),
    "min_length": _("至少需要 %(limit_value)d 个字符（现为 %(show_value)d 个）。"),
    "max_length": _("不能超过 %(limit_value)d 个字符（现为 %(show_value)d 个）。"),
    "invalid_choice": _("所选的值不在可选范围内，请重新选择。"),
    "invalid_list": _("请从列表中选择。"),
    "min_value": _("不能小于 %(limit_value)s。"),
    "max_value": _("不能大于 %(limit_value)s。"),
    "max_digits": _("数字太长：最多 %(max)s 位。"),
    "max_decimal_places": _("小数最多 %(max)s 位。"),
    "max_whole_digits": _("整数部分最多 %(max)s 位。"),
}
INVALID_MESSAGES: dict[type[forms.Field], Any] = {
    forms.DateTimeField: _("请填写有效的日期和时间，如 2026-01-31 09:30。"),
    forms.DateField: _("请填写有效的日期，如 2026-01-31。"),
    forms.IntegerField: _("请填写整数。"),
    forms.DecimalField: _("请填写数字。"),
    forms.EmailField: _("请填写有效的电子邮箱地址。"),
}


def plain_messages(field: forms.Field) -> None:
    """Plain Chinese for Django's default form messages (its own wording, such as
    "确保该变量至少包含 18 字符", reads like a program talking); a message a form sets
    itself is kept."""

    defaults: dict[str, Any] = {}
    for klass in reversed(type(field).__mro__):
        defaults.update(getattr(klass, "default_error_messages", {}))
    for code, text in PLAIN_MESSAGES.items():
        if (code in defaults and field.error_messages.get(code) == defaults[code]) or (
            code in ("min_length", "max_length", "min_value", "max_value") and code not in field.error_messages
        ):
            field.error_messages[code] = text
    for klass, text in INVALID_MESSAGES.items():
        if isinstance(field, klass) and field.error_messages.get("invalid") == defaults.get("invalid"):
            field.error_messages["invalid"] = text
            break


def style_fields(form: forms.BaseForm, *, placeholders: bool = False) -> None:
    """Put the Tabler (Bootstrap) classes on every widget of ``form`` so a template can
    render ``{{ field }}``: ``form-check-input`` on checkboxes, ``form-select`` on
    selects (six rows for a multiple select), ``form-control`` on the rest, three rows
    for a text area, a date picker for a date. Checkbox and radio lists are left to
    their template. With ``placeholders`` (filter forms, whose fields have no visible
    label) each field's label is also its placeholder and ``aria-label``."""

    for field in form.fields.values():
        plain_messages(field)
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
            widget.attrs.setdefault("size", "6")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")
        if isinstance(widget, forms.Textarea) and widget.attrs.get("rows") == "10":  # Django's default
            widget.attrs["rows"] = "3"
        if isinstance(field, forms.DateField) and type(widget) is forms.DateInput:
            widget.input_type = "date"
            widget.format = "%Y-%m-%d"
        if placeholders and field.label:
            if not isinstance(widget, forms.Select | forms.CheckboxInput):
                widget.attrs.setdefault("placeholder", field.label)
            widget.attrs.setdefault("aria-label", field.label)


class PickerMixin:
    """A searchable select (``static/inspecta/picker.js``): a search box above the list
    hides the options whose text does not contain what is typed. ``groups`` maps an
    option's value to the values of another field (``follow``, that field's name) it
    belongs to; with ``follow`` set the list shows only the options of the values chosen
    there (the parameters of the chosen test items). The choices themselves stay the
    form's, limited to what the actor may choose; the page works without the script."""

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        placeholder: Any = None,
        follow: str = "",
        groups: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(attrs)  # type: ignore[call-arg]
        self.placeholder = placeholder
        self.follow = follow
        self.groups = groups or {}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        from django.utils.translation import gettext

        attrs = dict(attrs or {})
        attrs["data-picker"] = str(self.placeholder or gettext("输入名称或编码搜索"))
        if self.follow:
            attrs["data-picker-follow"] = f"id_{self.follow}"
        return super().get_context(name, value, attrs)  # type: ignore[misc, no-any-return]

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)  # type: ignore[misc]
        key = str(getattr(value, "value", value))
        if key in self.groups:
            option["attrs"]["data-group"] = " ".join(self.groups[key])
        return option  # type: ignore[no-any-return]


class PickerSelect(PickerMixin, forms.Select):
    """One choice, searchable (``PickerMixin``)."""


class PickerSelectMultiple(PickerMixin, forms.SelectMultiple):
    """Several choices, searchable (``PickerMixin``)."""


class PlainForm(forms.Form):
    """A form whose default messages are plain Chinese (``plain_messages``) and that
    renders its own widgets (the login and account forms)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            plain_messages(field)


class StyledForm(forms.Form):
    """The one form base of the pages: every widget styled by ``style_fields`` after
    the subclass's ``__init__`` has set its fields and choices."""

    placeholders = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self, placeholders=self.placeholders)


class StyledModelForm(forms.ModelForm):
    """``StyledForm`` for model forms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self)


class FilterForm(StyledForm):
    """The base form of every FilterSet (``Meta.form``): styled, labels as placeholders.
    A range given backwards (``x_from`` after ``x_to``, ``since`` after ``until``) is
    refused on its end field, naming both, instead of silently matching nothing."""

    placeholders = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for start, end in range_pairs(self.fields):
            low, high = data.get(start), data.get(end)
            if low is not None and high is not None and high < low:
                self.add_error(
                    end,
                    _("%(end)s不能早于%(start)s。")
                    % {"end": self.fields[end].label, "start": self.fields[start].label},
                )
        return data


def range_pairs(fields: Any) -> list[tuple[str, str]]:
    """The (start, end) field pairs of a range among ``fields``: ``x_from``/``x_to``,
    ``x_from``/``x_until``, ``since``/``until``."""

    pairs = []
    for name in fields:
        if name.endswith("_from"):
            base = name[: -len("_from")]
            for end in (f"{base}_to", f"{base}_until"):
                if end in fields:
                    pairs.append((name, end))
    if "since" in fields and "until" in fields:
        pairs.append(("since", "until"))
    return pairs


class RegionEditForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["name", "enabled"]


class SpecialtyEditForm(forms.ModelForm):
    class Meta:
        model = Specialty
        fields = ["name", "official_no", "enabled"]


class TestItemEditForm(forms.ModelForm):
    class Meta:
        model = TestItem
        fields = ["name", "optional_for_qualification", "enabled"]


class ParameterEditForm(forms.ModelForm):
    class Meta:
        model = Parameter
        fields = ["name", "canonical_name", "method_text", "unit", "enabled"]


class SingleTestItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.specialty.name} / {obj.name}"


def rule_region_choices(actor: Any) -> list[tuple[str, str]]:
    """The enabled regions whose rules ``actor`` may set: its own region and those below
    it (an operator: the node's area), each by its full name."""

    from django.conf import settings

    from .actors import actor_of
    from .scoping import region_prefix

    a = actor_of(actor)
    regions = Region.objects.filter(enabled=True).select_related("parent", "parent__parent").order_by("code")
    if a.is_operator:
        regions = regions.filter(code__startswith=region_prefix(settings.INSPECTA_NODE_REGION))
    elif a.region_code:
        regions = regions.filter(code__startswith=a.region_prefix)
    else:
        regions = regions.none()
    return [("", "—")] + [(r.code, f"{r.full_name}（{r.code}）") for r in regions]


class RegionRuleForm(StyledForm):
    """Set one regional rule (``core.regionrules``) for a region and, optionally, an item."""

    name = forms.ChoiceField(label=_("规则"))
    region_code = forms.ChoiceField(label=_("行政区划"), widget=PickerSelect(placeholder=_("输入地名搜索")))
    test_item = SingleTestItemChoiceField(
        label=_("检测项目"),
        queryset=TestItem.objects.none(),
        required=False,
        widget=PickerSelect(placeholder=_("输入检测项目名称搜索")),
        help_text=_("不选则适用于该地区所有检测项目。"),
    )
    value = forms.CharField(
        label=_("取值"), max_length=16, help_text=_("整数（如提前 3 天填 72 小时），或所列处理方式之一。")
    )

    def __init__(self, *args: Any, actor: Any = None, kinds: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = [(k.name, k.label) for k in kinds]  # type: ignore[attr-defined]
        self.fields["region_code"].choices = rule_region_choices(actor)  # type: ignore[attr-defined]
        self.fields["test_item"].queryset = (  # type: ignore[attr-defined]
            TestItem.objects.filter(enabled=True).select_related("specialty").order_by("specialty_id", "code")
        )
