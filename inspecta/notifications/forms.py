"""The preferences form: per kind offered to the person, a switch for e-mail and one for
SMS where that channel can reach them (the inbox is always on)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from inspecta.core.forms import StyledForm, style_fields

from .choices import Channel
from .selectors import PreferenceRow


def field_name(code: str, channel: str) -> str:
    return f"{code}__{channel}"


class PreferencesForm(StyledForm):
    """Built from the person's :class:`~selectors.PreferenceRow` list. A posted switch for
    a kind or a channel the page does not offer is refused (400), not ignored: the
    service would refuse it too."""

    def __init__(self, *args: Any, rows: list[PreferenceRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            code = row.kind.code
            if row.email_offered:
                self.fields[field_name(code, Channel.EMAIL)] = forms.BooleanField(
                    label=_("电子邮件"), required=False, initial=row.email
                )
            if row.sms_offered:
                self.fields[field_name(code, Channel.SMS)] = forms.BooleanField(
                    label=_("短信"), required=False, initial=row.sms
                )
        style_fields(self)  # the switches are added after StyledForm styled the (no) fields

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_bound:
            unknown = sorted(
                key for key in self.data if "__" in key and key not in self.fields and key != "csrfmiddlewaretoken"
            )
            if unknown:
                self.add_error(
                    None,
                    _("以下选项不可选择：%(names)s。请刷新页面后重新设置。") % {"names": "、".join(unknown)},
                )
        return data

    def choices(self) -> dict[str, dict[str, bool]]:
        """What the service takes: ``{kind: {channel: on}}`` for the offered switches."""

        chosen: dict[str, dict[str, bool]] = {}
        for row in self.rows:
            for channel in (Channel.EMAIL, Channel.SMS):
                name = field_name(row.kind.code, channel)
                if name in self.fields:
                    chosen.setdefault(row.kind.code, {})[str(channel)] = bool(self.cleaned_data.get(name))
        return chosen

    def grid(self) -> list[dict[str, Any]]:
        """The rows of the page: each kind with its two bound switches (or ``None``)."""

        return [
            {
                "row": row,
                "email": self[field_name(row.kind.code, Channel.EMAIL)] if row.email_offered else None,
                "sms": self[field_name(row.kind.code, Channel.SMS)] if row.sms_offered else None,
            }
            for row in self.rows
        ]
