"""The generic pages of every app: a list (an actor-restricted queryset, a FilterSet
bound to the query string, a django-tables2 table, paging), one object's page and the change
history of one object. Apps subclass them and declare what differs (STYLE.md 6: every read is
scoped to the acting user)."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from .audit import history_rows
from .pagination import PagePaginator
from .tables import BaseTable


class ObjectListView(LoginRequiredMixin, View):
    """A list page. ``get_queryset`` gives the rows the actor may see (by default
    ``model.objects.restrict(actor, "view")``); ``filterset_class``, bound to
    ``request.GET``, narrows them; ``table_class`` renders one page of them.

    Paged by ``core.pagination.PagePaginator`` (exact counts up to 1,000 rows, the
    database's estimate beyond). An invalid filter is named on the form and ignored while the valid ones apply; the
    page then answers 400. An htmx request (``HX-Request``) gets ``partial_template_name``
    alone, the rows and the paging."""

    model: ClassVar[type[models.Model] | None] = None
    filterset_class: ClassVar[type[django_filters.FilterSet] | None] = None
    table_class: ClassVar[type[BaseTable]]
    template_name = "generic/object_list.html"
    partial_template_name = "generic/_rows.html"
    per_page = 50
    title: Any = ""
    pretitle: Any = ""
    description: Any = ""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        assert self.model is not None, "declare model or override get_queryset"
        return self.model.objects.restrict(request.user, "view")  # type: ignore[attr-defined,no-any-return]

    def get_filterset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> django_filters.FilterSet | None:
        if self.filterset_class is None:
            return None
        return self.filterset_class(request.GET or None, queryset=queryset, request=request, for_page=True)  # type: ignore[call-arg]

    def get_table(self, request: HttpRequest, rows: list[Any]) -> BaseTable:
        return self.table_class(rows)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.kwargs = kwargs
        queryset = self.get_queryset(request)
        filterset = self.get_filterset(request, queryset)
        status = 200
        if filterset is not None:
            if filterset.is_bound and not filterset.is_valid():
                status = 400
            queryset = filterset.qs  # the valid filters apply, the invalid ones are ignored
        page = PagePaginator(queryset, self.per_page).get_page(request.GET.get("page"))
        context = {
            "title": self.title,
            "pretitle": self.pretitle,
            "description": self.description,
            "filterset": filterset,
            "form": filterset.form if filterset is not None else None,
            "page": page,
            "table": self.get_table(request, list(page.object_list)),
            **self.get_extra_context(request),
        }
        template = self.partial_template_name if request.headers.get("HX-Request") else self.template_name
        return render(request, template, context, status=status)


class ObjectDetailView(LoginRequiredMixin, View):
    """One object's page. ``get_object`` finds it in the actor's scope (``Http404`` or
    ``PermissionDenied`` otherwise); ``get_extra_context`` adds what the page shows and the
    empty forms of its actions. An action of the page that is refused or invalid re-renders
    the page through ``render_object`` with its bound form and status 400, so the page
    and its refusals are one rendering."""

    template_name: ClassVar[str]
    context_object_name: ClassVar[str] = "object"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        raise NotImplementedError

    def get_extra_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {}

    @classmethod
    def render_object(cls, request: HttpRequest, obj: Any, *, status: int = 200, **extra: Any) -> HttpResponse:
        """The page of ``obj``; ``extra`` (e.g. a bound form with its errors) replaces
        what ``get_extra_context`` gives."""

        view = cls()
        view.request = request
        context = {"object": obj, cls.context_object_name: obj, **view.get_extra_context(request, obj), **extra}
        return render(request, cls.template_name, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_object(request, self.get_object(request, **kwargs))


class ObjectHistoryView(LoginRequiredMixin, View):
    """Every change of one object: who (user or client), when, each field before and
    after, the request id (GB/T 22239 8.1.4.3 audit). Subclasses find the object in the
    actor's scope (``get_object`` raises ``Http404`` or ``PermissionDenied`` otherwise)
    and name the page to go back to."""

    template_name = "generic/history.html"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        raise NotImplementedError

    def get_return_url(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> str:
        raise NotImplementedError

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object(request, **kwargs)
        context = {"object": obj, "rows": history_rows(obj), "back": self.get_return_url(request, obj, **kwargs)}
        return render(request, self.template_name, context)
