"""The forms of the warning pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.core.forms import StyledForm


class StepForm(StyledForm):
    """One step of a warning: the words (required to report a handling, dismiss, return
    or reopen) and, for a handling, one evidence file."""

    note = forms.CharField(label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("佐证材料（PDF/图片，可选）"), required=False)
