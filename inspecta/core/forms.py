"""Shared form helpers."""

from __future__ import annotations

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


class RegionFilterForm(forms.Form):
    q = forms.CharField(label=_("名称或代码"), required=False)
