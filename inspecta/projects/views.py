"""Project pages (T/CECS 4.3.2): list, registration by authorities, the project page that
aggregates parties, contracts, plans and reports, the agency's contract upload (4.3.3),
and the on-site inspection plans (Nanchang 二(三); Guangxi 第十条): list, page with its
versions, filing, change and cancellation by the agency, the regulators' calendar of
upcoming on-site tests and the authority admins' lead-time rules."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspecta.core.errors import AppError
from inspecta.core.files import file_store
from inspecta.core.generic import ObjectDetailView, ObjectHistoryView, ObjectListView
from inspecta.registry.models import Agency

from . import permissions, selectors, services
from .filtersets import PlanFilterSet, ProjectFilterSet
from .forms import CalendarForm, ContractForm, PersonNameForm, PlanCancelForm, PlanForm, ProjectForm
from .tables import PlanTable, ProjectTable


class ProjectListView(ObjectListView):
    """The projects in the actor's scope (T/CECS 4.3.2)."""

    filterset_class = ProjectFilterSet
    table_class = ProjectTable
    template_name = "projects/project_list.html"
    title = gettext_lazy("工程项目")
    description = gettext_lazy("主管部门登记的工程项目；参建单位可见本单位参与的项目。")

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.project_list(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"may_create": permissions.may_create_in(request.user)}


project_list_view = ProjectListView.as_view()


@login_required
def project_create_view(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(actor=request.user, **form.service_kwargs())  # type: ignore[arg-type]
        except AppError as exc:
            form.add_error(None, exc.message)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except Exception as exc:  # form-level ValidationError from service_kwargs
            from django.forms import ValidationError

            if not isinstance(exc, ValidationError):
                raise
            form.add_error(None, exc)
        else:
            return redirect("projects:project_detail", pk=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "projects/project_form.html", {"form": form}, status=status)


class ProjectDetailView(ObjectDetailView):
    """A project with its parties, testing contracts and reports (T/CECS 4.3.2)."""

    template_name = "projects/project_detail.html"
    context_object_name = "project"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> Any:
        return selectors.project_get(actor=request.user, pk=kwargs["pk"])

    def get_extra_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        from inspecta.reports.selectors import report_list
        from inspecta.sampling.permissions import may_record_on

        user: Any = request.user
        parties = list(obj.parties.all())
        nameable = permissions.nameable_parties(user, parties)
        extra: dict[str, Any] = {}
        if nameable:
            extra["name_form"] = PersonNameForm(parties=obj.parties.filter(pk__in=nameable))
        return extra | {
            "parties": parties,
            "people": selectors.project_people(project=obj),
            "nameable": nameable,
            "contracts": selectors.contract_list(actor=user, project=obj).prefetch_related("test_items"),
            "reports": report_list(actor=user).filter(project=obj)[:200],
            "plans": selectors.plan_list(actor=user).filter(project=obj)[:200],
            "may_upload_contract": permissions.may_upload_contract(user, obj),
            "may_file_plan": permissions.may_file_plan(user, obj),
            "may_record_batch": may_record_on(user, obj),
        }


project_detail_view = ProjectDetailView.as_view()


@login_required
@require_POST
def project_person_name_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Names a person of the admin's organisation on the project (Nanchang 一(二))."""

    project = selectors.project_get(actor=request.user, pk=pk)
    nameable = permissions.nameable_parties(request.user, project.parties.all())
    if not nameable:
        raise PermissionDenied(_("只有本单位的参建单位管理员可以指定项目人员。"))
    form = PersonNameForm(request.POST, parties=project.parties.filter(pk__in=nameable))
    if form.is_valid():
        data = form.cleaned_data
        try:
            named = services.project_person_name(
                actor=request.user, party=data["party"], person_id=data["person"].pk, duty=data["duty"]
            )
        except AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("已指定 %(name)s 为本项目%(duty)s。")
                % {"name": named.person.full_name, "duty": named.get_duty_display()},
            )
            return redirect("projects:project_detail", pk=project.pk)
    return ProjectDetailView.render_object(request, project, name_form=form, status=400)


@login_required
@require_POST
def project_person_end_view(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    """Ends a naming: the person no longer serves the project in that duty."""

    project = selectors.project_get(actor=request.user, pk=pk)
    named = selectors.project_people(project=project).filter(pk=person_pk).first()
    if named is None:
        raise Http404(_("该项目人员不存在。"))
    services.project_person_end(actor=request.user, named=named)
    messages.success(
        request,
        _("已解除 %(name)s 的%(duty)s职责。") % {"name": named.person.full_name, "duty": named.get_duty_display()},
    )
    return redirect("projects:project_detail", pk=project.pk)


@login_required
def contract_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_get(actor=request.user, pk=pk)
    user: Any = request.user
    agency = Agency.objects.filter(organisation_id=user.organisation_id).first()
    if agency is None:
        raise PermissionDenied(_("只有检测机构可以上传检测合同。"))
    form = ContractForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("scan")
        data["test_items"] = [item.pk for item in data["test_items"]]
        try:
            with transaction.atomic():
                scan = file_store(
                    upload, organisation_id=agency.organisation_id, purpose="contract", name=upload.name, actor=user
                )
                services.contract_upload(actor=user, agency=agency, project=project, scan_id=scan.pk, **data)
        except AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("检测合同已上传并存证。"))
            return redirect("projects:project_detail", pk=project.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "projects/contract_form.html", {"form": form, "project": project}, status=status)


# --- on-site inspection plans (Nanchang 二(三); Guangxi 第十条) --------------------------


class PlanListView(ObjectListView):
    """The plans in the actor's scope, by planned start."""

    filterset_class = PlanFilterSet
    table_class = PlanTable
    template_name = "projects/plan_list.html"
    title = gettext_lazy("现场检测方案")
    description = gettext_lazy("检测机构在现场检测前报送的检测方案；逾期报送的记为问题。")

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.plan_list(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"may_view_calendar": permissions.may_view_plan_calendar(request.user)}


plan_list_view = PlanListView.as_view()


class PlanDetailView(ObjectDetailView):
    """A plan with its version history and findings; the agency's change and cancel."""

    template_name = "projects/plan_detail.html"
    context_object_name = "plan"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> Any:
        return selectors.plan_get(actor=request.user, pk=kwargs["pk"])

    def get_extra_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {
            "testers": obj.testers.order_by("name"),
            "versions": selectors.plan_versions(obj),
            "findings": obj.findings.select_related("version").order_by("pk"),
            "may_change": permissions.may_change_plan(request.user, obj),
            "cancel_form": PlanCancelForm(),
        }


plan_detail_view = PlanDetailView.as_view()


class PlanHistoryView(ObjectHistoryView):
    """Every change of a plan's current values: who, when, before and after."""

    def get_object(self, request: HttpRequest, **kwargs: Any) -> Any:
        return selectors.plan_get(actor=request.user, pk=kwargs["pk"])

    def get_return_url(self, request: HttpRequest, obj: Any, **kwargs: Any) -> str:
        return reverse("projects:plan_detail", args=[obj.pk])


plan_history_view = PlanHistoryView.as_view()


def _acting_agency(request: HttpRequest) -> Agency:
    user: Any = request.user
    agency = Agency.objects.filter(organisation_id=user.organisation_id).first()
    if agency is None:
        raise PermissionDenied(_("只有检测机构可以报送检测方案。"))
    return agency


@login_required
def plan_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The agency files a plan on the project ``pk``."""

    project = selectors.project_get(actor=request.user, pk=pk)
    if not permissions.may_file_plan(request.user, project):
        raise PermissionDenied(_("只有该项目的检测机构可以报送检测方案。"))
    agency = _acting_agency(request)
    form = PlanForm(request.POST or None, request.FILES or None, agency=agency, project=project)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["document"]
        try:
            with transaction.atomic():
                document = file_store(
                    upload, organisation_id=agency.organisation_id, purpose="plan", name=upload.name, actor=request.user
                )
                plan = services.plan_file(
                    actor=request.user, agency=agency, project=project, document_id=document.pk, **form.service_kwargs()
                )
        except AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("检测方案已报送并存证。"))
            return redirect("projects:plan_detail", pk=plan.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "project": project, "plan": None}
    return render(request, "projects/plan_form.html", context, status=status)


@login_required
def plan_change_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The filing agency changes its plan: a new version with the reason."""

    plan = selectors.plan_get(actor=request.user, pk=pk)
    if not permissions.may_change_plan(request.user, plan):
        raise PermissionDenied(_("只有报送该方案的检测机构可以变更未取消的方案。"))
    form = PlanForm(request.POST or None, request.FILES or None, agency=plan.agency, project=plan.project, plan=plan)
    if request.method == "POST" and form.is_valid():
        changes = form.service_kwargs()
        upload = form.cleaned_data.get("document")
        try:
            with transaction.atomic():
                if upload:
                    changes["document_id"] = file_store(
                        upload,
                        organisation_id=plan.agency.organisation_id,
                        purpose="plan",
                        name=upload.name,
                        actor=request.user,
                    ).pk
                services.plan_change(actor=request.user, plan=plan, reason=form.cleaned_data["reason"], **changes)
        except AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("检测方案已变更，新版本已存证。"))
            return redirect("projects:plan_detail", pk=plan.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "project": plan.project, "plan": plan}
    return render(request, "projects/plan_form.html", context, status=status)


@login_required
@require_POST
def plan_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(actor=request.user, pk=pk)
    form = PlanCancelForm(request.POST)
    if form.is_valid():
        try:
            services.plan_cancel(actor=request.user, plan=plan, reason=form.cleaned_data["reason"])
        except AppError as exc:
            form.add_error(None, exc.message)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("无权取消该检测方案。"))
        else:
            messages.success(request, _("检测方案已取消。"))
            return redirect("projects:plan_detail", pk=plan.pk)
    return PlanDetailView.render_object(request, plan, cancel_form=form, status=400)


@login_required
def plan_calendar_view(request: HttpRequest) -> HttpResponse:
    """The upcoming on-site tests of the actor's region (its station's projects), a day
    or a week at a time, each day with the plans whose work falls on it."""

    if not permissions.may_view_plan_calendar(request.user):
        raise PermissionDenied(_("现场检测日历供主管部门和监督站使用。"))
    form = CalendarForm(request.GET or None)
    status = 200
    start_day, span = timezone.localdate(), "week"
    if form.is_bound:
        if form.is_valid():
            start_day = form.cleaned_data["start"] or start_day
            span = form.cleaned_data["span"] or span
        else:
            status = 400
    length = 1 if span == "day" else 7
    start = timezone.make_aware(datetime.datetime.combine(start_day, datetime.time.min))
    end = start + datetime.timedelta(days=length)
    plans = list(selectors.plan_calendar(actor=request.user, start=start, end=end))
    days = []
    for offset in range(length):
        day = start_day + datetime.timedelta(days=offset)
        day_start = start + datetime.timedelta(days=offset)
        day_end = day_start + datetime.timedelta(days=1)
        days.append(
            {"date": day, "plans": [p for p in plans if p.planned_start < day_end and p.planned_end > day_start]}
        )
    step = datetime.timedelta(days=length)
    context = {
        "form": form,
        "days": days,
        "span": span,
        "start": start_day,
        "previous": start_day - step,
        "next": start_day + step,
        "today": timezone.localdate(),
        "count": len(plans),
    }
    return render(request, "projects/plan_calendar.html", context, status=status)
