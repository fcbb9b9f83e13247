"""The warning pages: the list (a reviewer's queue, an agency's warnings), one warning with
its timeline and the steps the user may take, and the rule catalog (T/CECS 4.3.4-6, 8.2.4;
Guangdong 附件2 二(十一)(十二))."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspecta.core.actors import actor_of
from inspecta.core.errors import AppError
from inspecta.core.files import file_store
from inspecta.core.forms import apply_validation_error
from inspecta.core.generic import ObjectListView
from inspecta.core.models import Region
from inspecta.core.regionrules import rule_value
from inspecta.registry.permissions import acts_for_agency

from . import selectors, services
from .catalog import rule_label, warning_rules
from .choices import ClosureStatus
from .filtersets import NonconformanceFilterSet, WarningFilterSet
from .forms import ClosureDecisionForm, ClosureForm, StepForm
from .models import NonconformanceFinding, Warning
from .permissions import (
    may_answer,
    may_decide,
    may_decide_closure,
    may_decide_warnings,
    may_submit_closure,
    may_view_warnings,
)
from .regionrules import CLOSE_DAYS, ESCALATION_DAYS
from .tables import NonconformanceTable, WarningTable


def _authority_names(codes: set[str]) -> dict[str, str]:
    """The authority of each region (its name), else the region's own name."""

    from inspecta.accounts.choices import OrganisationKind
    from inspecta.accounts.models import Organisation

    names = _region_names(codes)
    authorities = Organisation.objects.filter(
        kind=OrganisationKind.AUTHORITY, is_active=True, region_id__in=[c for c in codes if c]
    ).values_list("region_id", "name")
    return names | dict(authorities)


def _region_names(codes: set[str]) -> dict[str, str]:
    codes = {c for c in codes if c}
    return dict(Region.objects.filter(pk__in=codes).values_list("pk", "name")) if codes else {}


class WarningListView(ObjectListView):
    """The warnings in the actor's scope, newest first; ``?mine=true`` is the reviewer's
    queue (those lying with the actor's own authority)."""

    filterset_class = WarningFilterSet
    table_class = WarningTable
    template_name = "oversight/warning_list.html"
    title = gettext_lazy("预警")
    description = gettext_lazy(
        "各环节发现的问题自动形成预警，交办问题所在地区的主管部门；检测机构签收并报送处置情况，主管部门审核办结，逾期未处置的升级至上一级。"
    )

    def get_queryset(self, request: HttpRequest) -> Any:
        if not may_view_warnings(request.user):
            raise PermissionDenied(_("无权查看预警。"))
        return selectors.warning_list(actor=request.user)

    def get_table(self, request: HttpRequest, rows: list[Any]) -> WarningTable:
        names = _region_names({r.region for r in rows} | {r.assigned_region for r in rows})
        return WarningTable(rows, region_names=names)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"is_reviewer": bool(actor_of(request.user).region_code) and bool(may_decide_warnings(request.user))}


warning_list_view = WarningListView.as_view()


def _detail_response(
    request: HttpRequest, warning: Warning, *, form: StepForm | None = None, step: str = "", status: int = 200
) -> HttpResponse:
    """The warning page; a refused or invalid step re-renders it with the bound form and
    its errors next to the step's buttons."""

    events = list(selectors.warning_events(warning=warning))
    regions = _region_names({warning.region})
    authorities = _authority_names({warning.assigned_region} | {e.to_region for e in events})
    for e in events:
        e.to_region_name = authorities.get(e.to_region, e.to_region)  # type: ignore[attr-defined]
    user = request.user
    answer = may_answer(user, warning)
    steps = {name: may_decide(user, warning, name) for name in ("close", "dismiss", "return", "reopen")}
    days, _rule = rule_value(ESCALATION_DAYS, warning.assigned_region) if warning.assigned_region else (None, None)
    return render(
        request,
        "oversight/warning_detail.html",
        {
            "warning": warning,
            "rule_label": rule_label(warning.rule),
            "events": events,
            "region_name": regions.get(warning.region, warning.region),
            "assigned_name": authorities.get(warning.assigned_region, warning.assigned_region),
            "escalation_days": days,
            "may_answer": answer,
            "may_acknowledge": answer and warning.status == "open",
            "steps": steps,
            "may_act": answer or any(steps.values()),
            "form": form or StepForm(),
            "failed_step": step,
        },
        status=status,
    )


@login_required
def warning_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_response(request, selectors.warning_get(actor=request.user, pk=pk))


DONE = {
    "acknowledge": gettext_lazy("已签收该预警。"),
    "handle": gettext_lazy("处置情况已报送，等待主管部门审核。"),
    "close": gettext_lazy("预警已审核办结。"),
    "dismiss": gettext_lazy("预警已核实为误报并办结。"),
    "return": gettext_lazy("已退回重新处置。"),
    "reopen": gettext_lazy("预警已重新打开。"),
}


@login_required
@require_POST
def warning_step_view(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in services.STEPS:
        raise Http404
    warning = selectors.warning_get(actor=request.user, pk=pk)
    # a step the warning's state no longer allows (a colleague just closed it) is said on
    # the page by the service (409); one the user may never take is refused outright
    if services.step_fits(warning, step) and not services.step_allowed(request.user, warning, step):
        raise PermissionDenied(_("无权对该预警进行此操作。"))
    form = StepForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail_response(request, warning, form=form, step=step, status=400)
    user: Any = request.user
    try:
        with transaction.atomic():
            files = []
            upload = form.cleaned_data.get("evidence")
            if upload is not None and step == "handle":
                files.append(
                    file_store(
                        upload, organisation_id=user.organisation_id, purpose="evidence", name=upload.name, actor=user
                    )
                )
            services.warning_step(actor=user, warning=warning, step=step, note=form.cleaned_data["note"], files=files)
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _detail_response(request, warning, form=form, step=step, status=400)
    except AppError as exc:
        form.add_error(None, f"{exc.message}（{exc.code}）")
        return _detail_response(request, warning, form=form, step=step, status=exc.status)
    messages.success(request, str(DONE[step]))
    return redirect("oversight:warning_detail", pk=pk)


@login_required
def rule_list_view(request: HttpRequest) -> HttpResponse:
    """The rule catalog: each rule's code, name, source, clause and how many of the
    user's warnings it has raised; the escalation days of the user's region."""

    if not may_view_warnings(request.user):
        raise PermissionDenied(_("无权查看预警。"))
    counts = selectors.rule_counts(actor=request.user)
    region = actor_of(request.user).region_code
    days, rule = rule_value(ESCALATION_DAYS, region) if region else rule_value(ESCALATION_DAYS, "")
    rows = [{"rule": r, **counts.get(r.code, {"active": 0, "total": 0})} for r in warning_rules()]
    return render(
        request,
        "oversight/rule_list.html",
        {"rows": rows, "escalation_days": days, "escalation_rule": rule},
    )


# --------------------------------------------------------------- nonconformance closure


class NonconformanceListView(ObjectListView):
    """不合格台账 with each entry's closure state (Guangdong 附件2 二(十二); T/CECS 4.3.4-6)."""

    filterset_class = NonconformanceFilterSet
    table_class = NonconformanceTable
    template_name = "oversight/nonconformance_list.html"
    title = gettext_lazy("不合格台账")
    description = gettext_lazy(
        "结论为不合格的检测报告自动登记；检测机构报送告知、复检等处理情况，项目监督站确认后闭环并存证，逾期未闭环的形成预警。"
    )

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.nonconformance_list(actor=request.user)


nonconformance_list_view = NonconformanceListView.as_view()


def _entry_response(
    request: HttpRequest,
    entry: Any,
    *,
    form: ClosureForm | None = None,
    decision_form: ClosureDecisionForm | None = None,
    decision_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    closures = list(
        entry.closures.select_related("applied_by", "decided_by", "retest_report").prefetch_related("files")
    )
    pending = next((c for c in closures if c.status == ClosureStatus.PENDING), None)
    days, _rule = rule_value(CLOSE_DAYS, entry.project.region_id, entry.test_item_id)
    finding = NonconformanceFinding.objects.filter(entry=entry).order_by("-pk").first()
    may_submit = may_submit_closure(request.user, entry)
    return render(
        request,
        "oversight/nonconformance_detail.html",
        {
            "entry": entry,
            "closures": closures,
            "pending": pending,
            "deadline": entry.created_at + datetime.timedelta(days=days),
            "close_days": days,
            "overdue": finding is not None and finding.is_open,
            "may_submit": may_submit,
            "may_decide": pending is not None and may_decide_closure(request.user, pending),
            "form": form or (ClosureForm(entry=entry) if may_submit else None),
            "decision_form": decision_form or ClosureDecisionForm(),
            "decision_errors": decision_errors or [],
        },
        status=status,
    )


@login_required
def nonconformance_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _entry_response(request, selectors.nonconformance_get(actor=request.user, pk=pk))


@login_required
@require_POST
def closure_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.nonconformance_get(actor=request.user, pk=pk)
    if not may_submit_closure(request.user, entry):
        if entry.closed_at is None and acts_for_agency(request.user, entry.agency):
            form = ClosureForm(entry=entry)
            form.add_error(None, _("已有处理情况等待监督站确认，不能重复报送。"))
            return _entry_response(request, entry, form=form, status=409)
        raise PermissionDenied(_("只有出具该报告的检测机构可以报送处理情况。"))
    form = ClosureForm(request.POST, request.FILES, entry=entry)
    if not form.is_valid():
        return _entry_response(request, entry, form=form, status=400)
    user: Any = request.user
    data = form.cleaned_data
    try:
        with transaction.atomic():
            upload = data.get("evidence")
            files = (
                [
                    file_store(
                        upload, organisation_id=user.organisation_id, purpose="evidence", name=upload.name, actor=user
                    )
                ]
                if upload is not None
                else []
            )
            services.closure_submit(
                actor=user,
                entry=entry,
                parties=data["parties"],
                notified_at=data["notified_at"],
                action=data["action"],
                description=data["description"],
                retest_report=data.get("retest_report"),
                files=files,
            )
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _entry_response(request, entry, form=form, status=400)
    except AppError as exc:
        form.add_error(None, f"{exc.message}（{exc.code}）")
        return _entry_response(request, entry, form=form, status=exc.status)
    messages.success(request, _("处理情况已报送，等待监督站确认。"))
    return redirect("oversight:nonconformance_detail", pk=pk)


@login_required
@require_POST
def closure_decide_view(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in ("confirm", "return"):
        raise Http404
    entry = selectors.nonconformance_get(actor=request.user, pk=pk)
    closure = entry.closures.filter(status=ClosureStatus.PENDING).first()
    if closure is None:
        return _entry_response(request, entry, decision_errors=[_("没有等待确认的处理情况。")], status=409)
    if not may_decide_closure(request.user, closure):
        raise PermissionDenied(_("只有项目监督站或所在地区主管部门可以确认闭环。"))
    form = ClosureDecisionForm(request.POST)
    if not form.is_valid():
        return _entry_response(request, entry, decision_form=form, status=400)
    try:
        services.closure_decide(
            actor=request.user, closure=closure, approve=decision == "confirm", reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _entry_response(request, entry, decision_form=form, status=400)
    except AppError as exc:
        return _entry_response(request, entry, decision_errors=[f"{exc.message}（{exc.code}）"], status=exc.status)
    messages.success(
        request, _("已确认闭环，闭环记录已存证。") if decision == "confirm" else _("处理情况已退回检测机构。")
    )
    return redirect("oversight:nonconformance_detail", pk=pk)


SUMMARY_BY = {
    "agency": gettext_lazy("按检测机构"),
    "project": gettext_lazy("按工程项目"),
    "item": gettext_lazy("按检测项目"),
}


@login_required
def nonconformance_summary_view(request: HttpRequest) -> HttpResponse:
    """The ledger summed up per agency, project or test item (T/CECS 4.3.4-6 汇总)."""

    by = request.GET.get("by", "agency")
    if by not in SUMMARY_BY:
        by = "agency"
    rows = selectors.nonconformance_summary(actor=request.user, by=by)
    return render(
        request,
        "oversight/nonconformance_summary.html",
        {"rows": rows, "by": by, "choices": SUMMARY_BY.items()},
    )
