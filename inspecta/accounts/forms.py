"""Forms of the accounts pages: they parse and validate input; services do the writing."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inspecta.core.forms import PlainForm, StyledForm
from inspecta.core.models import Region

from .choices import REGISTRABLE_ROLES, AuthorityLevel, OrganisationKind, Role
from .models import Organisation, User
from .services import Allocation

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,150}$")
MOBILE_RE = re.compile(r"^1\d{10}$")


class LoginForm(PlainForm):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), strip=False, widget=forms.PasswordInput)


class OTPForm(PlainForm):
    token = forms.CharField(
        label=_("动态口令或恢复码"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class PasswordChangeForm(PlainForm):
    old_password = forms.CharField(label=_("原密码"), strip=False, widget=forms.PasswordInput)
    new_password = forms.CharField(label=_("新密码"), strip=False, widget=forms.PasswordInput)
    new_password_again = forms.CharField(label=_("再次输入新密码"), strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("两次输入的新密码不一致。"))
        return data


def _clean_mobile(value: str) -> str:
    value = value.strip()
    if value and not MOBILE_RE.match(value):
        raise ValidationError(_("请输入 11 位手机号码。"))
    return value


class UserCreateForm(PlainForm):
    allocation = forms.ChoiceField(label=_("单位与角色"))
    username = forms.CharField(label=_("用户名"), max_length=150, help_text=_("字母、数字或 _.@-，3 位以上。"))
    full_name = forms.CharField(label=_("姓名"), max_length=64)
    mobile = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    password = forms.CharField(
        label=_("初始密码"),
        strip=False,
        required=False,
        widget=forms.PasswordInput,
        help_text=_("留空则由系统生成；用户首次登录时须修改。"),
    )

    def __init__(self, *args: Any, allocations: list[Allocation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allocations = {f"{a.organisation.pk}:{a.role}": a for a in allocations}
        field = cast(forms.ChoiceField, self.fields["allocation"])
        field.choices = [(key, f"{a.organisation.name} — {Role(a.role).label}") for key, a in self.allocations.items()]

    def clean_username(self) -> str:
        value = self.cleaned_data["username"].strip()
        if not USERNAME_RE.match(value):
            raise ValidationError(_("用户名只能包含字母、数字和 _.@-，长度 3 位以上。"))
        return value

    def clean_mobile(self) -> str:
        return _clean_mobile(self.cleaned_data["mobile"])

    def clean_allocation(self) -> Allocation:
        key = self.cleaned_data["allocation"]
        if key not in self.allocations:
            raise ValidationError(_("无权分配该账号。"))
        return self.allocations[key]


class UserEditForm(PlainForm):
    full_name = forms.CharField(label=_("姓名"), max_length=64)
    mobile = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)

    def clean_mobile(self) -> str:
        return _clean_mobile(self.cleaned_data["mobile"])


class PasswordResetForm(PlainForm):
    password = forms.CharField(
        label=_("临时密码"),
        strip=False,
        required=False,
        widget=forms.PasswordInput,
        help_text=_("留空则由系统生成；用户下次登录时须修改。"),
    )


class OrganisationCreateForm(PlainForm):
    kind = forms.ChoiceField(
        label=_("类别"),
        choices=[
            (OrganisationKind.AUTHORITY.value, OrganisationKind.AUTHORITY.label),
            (OrganisationKind.STATION.value, OrganisationKind.STATION.label),
        ],
    )
    name = forms.CharField(label=_("名称"), max_length=200)
    region = forms.ModelChoiceField(label=_("行政区划"), queryset=Region.objects.none())

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        own = actor.organisation
        region_field = cast(forms.ModelChoiceField, self.fields["region"])
        if actor.is_operator:
            region_field.queryset = Region.objects.filter(level="province")
            cast(forms.ChoiceField, self.fields["kind"]).choices = [
                (OrganisationKind.AUTHORITY.value, OrganisationKind.AUTHORITY.label)
            ]
        elif own is not None:
            region_field.queryset = Region.objects.filter(pk=own.region_id) | Region.objects.filter(
                parent_id=own.region_id
            )

    def resolve(self) -> dict[str, Any]:
        """The service arguments: level and parent follow from the actor and the kind."""

        data = self.cleaned_data
        own = self.actor.organisation
        if self.actor.is_operator:
            return {"kind": data["kind"], "level": AuthorityLevel.PROVINCE, "parent": None}
        assert own is not None
        if data["kind"] == OrganisationKind.STATION:
            return {"kind": data["kind"], "level": own.level, "parent": own}
        below = {"province": AuthorityLevel.CITY, "city": AuthorityLevel.DISTRICT}.get(own.level, "")
        return {"kind": data["kind"], "level": below, "parent": own}


class UserFilterForm(PlainForm):
    q = forms.CharField(label=_("搜索"), required=False)
    role = forms.ChoiceField(label=_("角色"), required=False, choices=[("", _("全部角色")), *Role.choices])
    organisation = forms.ModelChoiceField(
        label=_("单位"), required=False, queryset=Organisation.objects.none(), empty_label=_("全部单位")
    )
    is_active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), ("1", _("启用")), ("0", _("停用"))]
    )


# --- personal registration (Nanchang 一(二)) ----------------------------------------


class PersonRegistrationForm(StyledForm):
    """A person registers from a phone; the service checks everything again."""

    full_name = forms.CharField(label=_("姓名"), max_length=64, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=18,
        help_text=_("18 位公民身份号码，末位可为 X。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )
    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("电子邮箱"), required=False, help_text=_("选填：确认结果将发送到该邮箱。"), max_length=254
    )
    employer = forms.CharField(
        label=_("工作单位"),
        max_length=200,
        help_text=_("填写单位全称或统一社会信用代码；单位须已在平台完成企业注册。"),
    )
    role = forms.ChoiceField(label=_("申请岗位"), choices=[(r, Role(r).label) for r in REGISTRABLE_ROLES])
    photo = forms.FileField(
        label=_("本人照片"),
        help_text=_("请正对镜头拍摄本人免冠照片。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "user"}),
    )
    username = forms.RegexField(
        label=_("用户名"), regex=USERNAME_RE, max_length=150, help_text=_("3 位以上字母、数字或 _.@-")
    )
    password = forms.CharField(label=_("密码"), strip=False, widget=forms.PasswordInput, max_length=128)
    password2 = forms.CharField(label=_("确认密码"), strip=False, widget=forms.PasswordInput, max_length=128)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class DecisionForm(StyledForm):
    """The reason of a decision: optional to approve, required to reject."""

    reason = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
