"""Home page, regions, the qualification catalog and stored files."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import selectors, services
from .errors import AppError
from .files import file_response
from .filtersets import RegionFilterSet
from .forms import (
    ParameterEditForm,
    RegionEditForm,
    RegionRuleForm,
    SpecialtyEditForm,
    TestItemEditForm,
    apply_validation_error,
)
from .generic import ObjectHistoryView, ObjectListView
from .models import Parameter, Region, RegionRule, Specialty, StoredFile, TestItem
from .permissions import may_manage_region_rules
from .regionrules import region_rule_add, region_rule_delete, region_rule_kinds
from .tables import RegionTable

REFERENCE_MODELS: dict[str, tuple[type[models.Model], type[Any]]] = {
    "region": (Region, RegionEditForm),
    "specialty": (Specialty, SpecialtyEditForm),
    "item": (TestItem, TestItemEditForm),
    "parameter": (Parameter, ParameterEditForm),
}


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    recent = []
    from inspecta.accounts.permissions import may_administer_accounts

    if may_administer_accounts(actor):
        from inspecta.accounts.selectors import user_list

        recent = list(user_list(actor=actor).order_by("-date_joined")[:5])  # type: ignore[arg-type]
    from inspecta.core.actors import actor_of
    from inspecta.core.appconfig import home_figures, work_items

    who = actor_of(actor)
    return render(
        request,
        "core/home.html",
        {"figures": home_figures(who), "recent_users": recent, "work_items": work_items(who)},
    )


class RegionListView(ObjectListView):
    """The regions (GB/T 2260): provinces, the children of ``parent``, or a search."""

    filterset_class = RegionFilterSet
    table_class = RegionTable
    template_name = "core/region_list.html"
    title = gettext_lazy("行政区划")

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.region_list(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        parent_code = request.GET.get("parent") or None
        parent = Region.objects.filter(pk=parent_code).first() if parent_code else None
        if parent_code and parent is None:
            raise Http404(_("行政区划不存在。"))
        return {"parent": parent, "can_edit": Region.objects.restrict(request.user, "change").exists()}


region_list_view = RegionListView.as_view()


@login_required
def catalog_view(request: HttpRequest) -> HttpResponse:
    specialties = selectors.specialty_list(actor=request.user)
    current = request.GET.get("specialty") or (specialties[0].code if specialties else "")
    if current and not specialties.filter(pk=current).exists():
        raise Http404(_("检测专项不存在。"))
    items = selectors.test_item_list(actor=request.user, specialty=current) if current else []
    can_edit = Specialty.objects.restrict(request.user, "change").exists()
    return render(
        request,
        "core/catalog.html",
        {"specialties": specialties, "current": current, "items": items, "can_edit": can_edit},
    )


@login_required
def region_rules_view(request: HttpRequest) -> HttpResponse:
    """The regional rules of the admin's region and below (``core.regionrules``): each
    kind with its default, the values set, and a form to set one."""

    if not may_manage_region_rules(request.user):
        raise PermissionDenied(_("只有主管部门管理员可以设置地区规则。"))
    kinds = list(region_rule_kinds().values())
    form = RegionRuleForm(
        request.POST or None, actor=request.user, kinds=kinds, initial={"name": request.GET.get("rule")}
    )
    if request.method == "POST" and form.is_valid():
        item = form.cleaned_data["test_item"]
        try:
            region_rule_add(
                actor=request.user,
                name=form.cleaned_data["name"],
                region_code=form.cleaned_data["region_code"],
                test_item=item.pk if item is not None else None,
                value=form.cleaned_data["value"],
            )
        except AppError as exc:
            form.add_error(None, exc.message)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("规则已添加。"))
            return redirect("core:region_rules")
    rules = list(
        RegionRule.objects.restrict(request.user, "change")
        .select_related("region", "test_item")
        .order_by("name", "region_id", "pk")
    )
    by_kind = {
        k.name: {"kind": k, "default": k.display(k.default), "rules": [r for r in rules if r.name == k.name]}
        for k in kinds
    }
    for r in rules:
        kind = by_kind.get(r.name)
        r.shown = kind["kind"].display(kind["kind"].parse(r.value)) if kind else r.value  # type: ignore[attr-defined]
    status = 400 if request.method == "POST" else 200
    return render(request, "core/region_rules.html", {"form": form, "kinds": by_kind.values()}, status=status)


@login_required
@require_POST
def region_rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = RegionRule.objects.reach(request.user, "change", pk=pk)
    region_rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("规则已删除。"))
    return redirect("core:region_rules")


def _reference_object(request: HttpRequest, kind: str, pk: str, action: str) -> tuple[models.Model, type[Any]]:
    if kind not in REFERENCE_MODELS:
        raise Http404
    model, form_class = REFERENCE_MODELS[kind]
    obj = model.objects.restrict(request.user, action).filter(pk=pk).first()  # type: ignore[attr-defined]
    if obj is None:
        if action != "view" and model.objects.filter(pk=pk).exists():  # type: ignore[attr-defined]
            raise PermissionDenied(_("无权修改该数据。"))
        raise Http404(_("数据不存在。"))
    return obj, form_class


@login_required
def reference_edit_view(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    obj, form_class = _reference_object(request, kind, pk, "change")
    form = form_class(request.POST or None, instance=obj)
    status = 200
    if request.method == "POST":
        # Validate on a copy so a bad submission changes nothing.
        fresh = type(obj).objects.get(pk=obj.pk)  # type: ignore[attr-defined]
        form = form_class(request.POST, instance=fresh)
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in form.Meta.fields}
            try:
                services.reference_update(actor=request.user, obj=type(obj).objects.get(pk=obj.pk), data=data)  # type: ignore[attr-defined]
            except ValidationError as exc:
                apply_validation_error(form, exc)
                status = 400
            else:
                messages.success(request, _("已保存，修改已记入审计日志。"))
                return redirect("core:reference_history", kind=kind, pk=pk)
        else:
            status = 400
    return render(request, "core/reference_form.html", {"form": form, "object": obj, "kind": kind}, status=status)


class ReferenceHistoryView(ObjectHistoryView):
    """Every correction of a reference table row (region, specialty, test item, parameter)."""

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        obj, _form = _reference_object(request, kwargs["kind"], kwargs["pk"], "view")
        return obj

    def get_return_url(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> str:
        return reverse("core:region_list") if kwargs["kind"] == "region" else reverse("core:catalog")


reference_history_view = ReferenceHistoryView.as_view()


@login_required
def file_view(request: HttpRequest, pk: uuid.UUID) -> FileResponse:
    """A stored file (``core.StoredFile``), only to whoever may see its owner
    organisation's records; to anyone else it does not exist (404)."""

    stored = StoredFile.objects.restrict(request.user).filter(pk=pk).first()
    if stored is None:
        raise Http404(_("文件不存在或不在您的权限范围内。"))
    return file_response(stored)


FAVICON = (Path(__file__).resolve().parent.parent / "static" / "inspecta" / "favicon.ico").read_bytes()


def favicon(request: HttpRequest) -> HttpResponse:
    """The icon a browser asks for at ``/favicon.ico`` by itself (pages also link it from
    ``base.html``): a file, never a page, whether or not anyone is signed in."""

    response = HttpResponse(FAVICON, content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
