"""Forms of the exchange pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.core.forms import PlainForm

from .choices import AuthMethod, Scope


class ApplicationForm(PlainForm):
    system_name = forms.CharField(label=_("系统名称"), max_length=200)
    callback_url = forms.URLField(label=_("回调地址"), max_length=500, required=False, assume_scheme="https")
    auth_method = forms.ChoiceField(label=_("认证方式"), choices=AuthMethod.choices)
    contact_name = forms.CharField(label=_("联系人"), max_length=64)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32)
    contact_email = forms.EmailField(label=_("联系邮箱"), required=False)
    scopes = forms.MultipleChoiceField(label=_("申请权限"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("申请说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(PlainForm):
    reason = forms.CharField(label=_("审核意见"), required=False, max_length=2000)


class RevokeForm(PlainForm):
    reason = forms.CharField(label=_("吊销原因"), max_length=255)


class PublicKeyForm(PlainForm):
    public_key = forms.CharField(label=_("Ed25519 公钥（PEM 或 Base64）"), widget=forms.Textarea(attrs={"rows": 4}))


class RotateForm(PlainForm):
    public_key = forms.CharField(
        label=_("新公钥（Ed25519 接入方必填）"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    overlap_hours = forms.FloatField(label=_("旧密钥过渡期（小时）"), required=False, min_value=0, max_value=24 * 90)


class ClientSettingsForm(PlainForm):
    is_active = forms.BooleanField(label=_("启用"), required=False)
    rate_limit_per_minute = forms.IntegerField(label=_("每分钟调用上限"), min_value=0, max_value=1_000_000)
    expect_calls_every_minutes = forms.IntegerField(label=_("预期调用间隔（分钟，0 不监测）"), min_value=0)
