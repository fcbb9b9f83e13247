"""The base of every FilterSet (django-filter): one declaration of a list's filters
serves its page (bound to ``request.GET``) and its API endpoint (bound to the query
parameters), so both give the same rows for the same query (CONTRACT §1)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .errors import AppError, ErrorCode
from .forms import FilterForm


class IntegerFilter(django_filters.NumberFilter):
    """An exact integer (an id): ``min_value``/``max_value`` bound it."""

    field_class = forms.IntegerField


class BaseFilterSet(django_filters.FilterSet):
    """Filters render with the styled ``FilterForm``; ``actor`` is the acting user
    (``request.user`` on a page, ``request.auth`` on the API). On a page
    (``for_page``) ``narrow_form`` may replace fields by choices limited to what the
    actor may see: a value outside them is then refused on the page and ignored."""

    class Meta:
        form = FilterForm

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Any] | None = None,
        *,
        request: Any = None,
        for_page: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset, request=request, **kwargs)
        self.actor = getattr(request, "auth", None) or getattr(request, "user", None)
        self.for_page = for_page

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form = super().form
            if self.for_page:
                self.narrow_form(form)
        return self._form  # type: ignore[no-any-return]

    def narrow_form(self, form: forms.Form) -> None:
        """Limit the page form's choices to the actor's scope (override)."""


def named_choice(label: Any, everything: Any, rows: Any) -> forms.TypedChoiceField:
    """A page filter field that offers records by name and sends their id (nobody types
    an id): ``rows`` are ``(id, name)`` pairs, ``everything`` the label of no choice."""

    return forms.TypedChoiceField(
        label=label, required=False, coerce=int, empty_value=None, choices=[("", everything), *rows]
    )


def api_filter(
    filterset_class: type[django_filters.FilterSet],
    data: dict[str, Any],
    queryset: QuerySet[Any],
    *,
    request: Any = None,
    code: ErrorCode = ErrorCode.INVALID_INPUT,
) -> QuerySet[Any]:
    """The rows of an API list: ``filterset_class`` bound to the query parameters (the
    values ``None`` or ``""`` are left out); invalid input is an ``AppError`` naming
    each refused parameter."""

    bound = {k: v for k, v in data.items() if v not in (None, "")}
    filterset = filterset_class(bound, queryset=queryset, request=request)
    if not filterset.is_valid():
        errors = {name: [str(e) for e in messages] for name, messages in filterset.errors.items()}
        text = "；".join(f"{name}：{'；'.join(messages)}" for name, messages in errors.items())
        raise AppError(code, f"查询参数无效：{text}", {"fields": errors})
    return filterset.qs


class RegionFilterSet(BaseFilterSet):
    """The regions (GB/T 2260) of the page and of ``GET /api/v1/core/regions``: matches of
    ``q`` (name, or code prefix); else the children of ``parent``; else the provinces."""

    q = django_filters.CharFilter(label=_("名称或代码"), method="filter_q")
    parent = django_filters.CharFilter(field_name="parent_id")

    class Meta(BaseFilterSet.Meta):
        from .models import Region

        model = Region
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value))

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        data = getattr(self.form, "cleaned_data", {})
        if (data.get("q") or "").strip():
            data = {**data, "parent": ""}  # a search spans every level
        elif not data.get("parent"):
            queryset = queryset.filter(level="province")
        for name, value in data.items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset
