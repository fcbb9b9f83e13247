"""The filters of the account list, shared by the page and ``GET /api/v1/accounts/users``."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet, IntegerFilter
from inspecta.core.limits import MAX_ID

from .models import User


class UserFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_q")
    role = django_filters.CharFilter(label=_("角色"), field_name="role_grants__role")
    organisation = IntegerFilter(label=_("单位"), field_name="organisation", min_value=1, max_value=MAX_ID)
    is_active = django_filters.BooleanFilter(label=_("状态"))

    class Meta(BaseFilterSet.Meta):
        model = User
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(full_name__icontains=value) | Q(mobile__icontains=value)
        )

    def narrow_form(self, form: forms.Form) -> None:
        """The page offers the roles and the organisations the actor administers."""

        from .forms import UserFilterForm
        from .selectors import organisation_list

        fields = UserFilterForm().fields
        fields["organisation"].queryset = organisation_list(actor=self.actor, action="change")  # type: ignore[attr-defined,arg-type]
        form.fields = fields
