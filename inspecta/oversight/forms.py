"""The forms of the warning pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.core.forms import StyledForm
from inspecta.reports.models import Report

from .choices import ClosureAction, NotifiedParty


class StepForm(StyledForm):
    """One step of a warning: the words (required to report a handling, dismiss, return
    or reopen) and, for a handling, one evidence file."""

    note = forms.CharField(label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("佐证材料（PDF/图片，可选）"), required=False)


class ReportChoiceField(forms.ModelChoiceField):
    """A report by its serial number and conclusion (never an id to type)."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.serial_number or obj.report_number} · {obj.report_number} · {obj.get_conclusion_display()}"


class ClosureForm(StyledForm):
    """The agency's handling of one nonconforming result: whom it told and when, what it
    did, the re-test report (among its own later reports of the same project and item),
    words and one evidence file."""

    parties = forms.MultipleChoiceField(
        label=_("已告知单位"), choices=NotifiedParty.choices, widget=forms.CheckboxSelectMultiple
    )
    notified_at = forms.DateTimeField(
        label=_("告知时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    action = forms.ChoiceField(label=_("处理措施"), choices=[("", "—"), *ClosureAction.choices])
    retest_report = ReportChoiceField(
        label=_("复检报告"),
        queryset=Report.objects.none(),
        required=False,
        help_text=_("复检、返工返修后复检须选择；列出本机构此后出具的同一工程、同一检测项目的报告。"),
    )
    description = forms.CharField(label=_("处理情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    evidence = forms.FileField(label=_("佐证材料（PDF/图片，可选）"), required=False)

    def __init__(self, *args: Any, entry: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["retest_report"].queryset = (  # type: ignore[attr-defined]
            Report.objects.filter(
                agency_id=entry.agency_id,
                project_id=entry.project_id,
                test_item_id=entry.test_item_id,
                issued_at__gte=entry.report.issued_at,
            )
            .exclude(pk=entry.report_id)
            .order_by("-issued_at")
        )


class ClosureDecisionForm(StyledForm):
    """The station's words on a closure (required to send it back)."""

    reason = forms.CharField(label=_("意见"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
