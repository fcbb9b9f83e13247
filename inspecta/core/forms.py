"""Shared form helpers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

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


def style_fields(form: forms.BaseForm, *, placeholders: bool = False) -> None:
    """Put the Tabler (Bootstrap) classes on every widget of ``form`` so a template can
    render ``{{ field }}``: ``form-check-input`` on checkboxes, ``form-select`` on
    selects (six rows for a multiple select), ``form-control`` on the rest, three rows
    for a text area, a date picker for a date. Checkbox and radio lists are left to
    their template. With ``placeholders`` (filter forms, whose fields have no visible
    label) each field's label is also its placeholder and ``aria-label``."""

    for field in form.fields.values():
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
    """The base form of every FilterSet (``Meta.form``): styled, labels as placeholders."""

    placeholders = True


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
