"""Report pages: lists with filters and Excel export, detail
with the approval trail and versions, QR and stamped PDF downloads, the web submission
form, amendments and revocation, and the public verification page ``/v/{code}``."""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspecta.core.errors import AppError
from inspecta.core.files import file_response, file_store
from inspecta.core.generic import ObjectDetailView, ObjectListView
from inspecta.core.models import Parameter
from inspecta.registry.models import Agency

from . import codes, permissions, public, selectors, services, signoff
from .choices import AmendmentStatus, CheckAction, CheckCode, DraftStatus
from .filtersets import ReportFilterSet, report_rows
from .forms import (
    AmendmentForm,
    CheckRuleForm,
    DecisionForm,
    DraftReturnForm,
    ReasonForm,
    ReportSubmitForm,
    amendment_rows,
)
from .models import ReportDraft, ReportVersion
from .tables import DraftTable, ReportTable


class ReportListView(ObjectListView):
    """The reports in the actor's scope with the filters of ``ReportFilterSet``
    (Nanchang 三(一))."""

    filterset_class = ReportFilterSet
    table_class = ReportTable
    template_name = "reports/report_list.html"
    title = gettext_lazy("检测报告")
    description = gettext_lazy("本人权限范围内已接收的检测报告。")

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.report_list(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"query": request.GET.urlencode()}


report_list_view = ReportListView.as_view()


@login_required
def report_export_view(request: HttpRequest) -> HttpResponse:
    """The filtered list as an Excel workbook."""

    from openpyxl import Workbook

    _filterset, rows = report_rows(request.user, request.GET, request=request)
    wb = Workbook()
    ws = wb.active
    ws.title = "检测报告"
    ws.append(
        [
            "统一流水号",
            "报告编号",
            "检测机构",
            "工程项目",
            "检测项目",
            "结论",
            "状态",
            "检测日期",
            "报告日期",
            "接收时间",
        ]
    )
    for r in rows[:50000]:
        ws.append(
            [
                r.serial_number,
                r.report_number,
                r.agency.name,
                r.project.name,
                r.test_item.name,
                r.get_conclusion_display(),
                r.get_status_display(),
                r.tested_on,
                r.reported_on,
                r.issued_at.replace(tzinfo=None),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="reports.xlsx"'
    return response


def _version_before(versions: list[ReportVersion], amendment: Any) -> ReportVersion:
    """The version an amendment changes: the one before the version it created, or the
    one in force when it was applied (pending or rejected)."""

    for index, version in enumerate(versions):
        if version.amendment_id == amendment.pk and index > 0:
            return versions[index - 1]
    earlier = [v for v in versions if v.created_at <= amendment.applied_at]
    return earlier[-1] if earlier else versions[0]


def _detail_response(
    request: HttpRequest,
    report: Any,
    *,
    amendment_form: AmendmentForm | None = None,
    reason_form: ReasonForm | None = None,
    decision_errors: dict[int, list[str]] | None = None,
    print_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The report page; a refused or invalid action re-renders it with the bound form and
    its errors (status 400, or the refusal's status) instead of a flash and a redirect."""

    versions = list(report.versions.select_related("tester", "reviewer", "signatory").order_by("number"))
    decision_errors = decision_errors or {}
    codes_of = list(versions[-1].data.get("parameters") or [])
    named = dict(Parameter.objects.filter(pk__in=codes_of).values_list("pk", "name"))
    from inspecta.testing.selectors import records_of_samples

    test_records = records_of_samples(
        actor=request.user, agency_id=report.agency_id, codes=list(versions[-1].data.get("samples") or [])
    )
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "versions": versions,
            "current": versions[-1],
            "parameter_names": [named.get(code, code) for code in codes_of],
            "code_display": codes.display(report.verification_code),
            "url": codes.verification_url(report.verification_code),
            "findings": report.findings.all(),
            "test_records": test_records,
            "amendments": [
                {
                    "amendment": a,
                    "rows": amendment_rows(a, _version_before(versions, a).data),
                    "errors": decision_errors.get(a.pk, []),
                }
                for a in report.amendments.select_related("applied_by", "decided_by").order_by("-applied_at")
            ],
            "may_submit": permissions.acts_for_agency(request.user, report.agency),
            "may_decide": permissions.may_decide(request.user, report),
            "amendment_form": amendment_form or AmendmentForm(),
            "reason_form": reason_form or ReasonForm(),
            "print_errors": print_errors or [],
            "pending": AmendmentStatus.PENDING,
        },
        status=status,
    )


@login_required
def report_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_response(request, selectors.report_get(actor=request.user, pk=pk))


@login_required
def report_qr_view(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("svg", "png"):
        raise Http404
    report = selectors.report_get(actor=request.user, pk=pk)
    if fmt == "svg":
        response = HttpResponse(codes.qr_svg(report.verification_code), content_type="image/svg+xml")
    else:
        response = HttpResponse(codes.qr_png(report.verification_code), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{report.serial_number}.{fmt}"'
    return response


def _version(request: HttpRequest, pk: int, number: int | None) -> ReportVersion:
    report = selectors.report_get(actor=request.user, pk=pk)
    qs = report.versions.select_related("pdf", "stamped_pdf", "report")
    version = qs.filter(number=number).first() if number else qs.order_by("-number").first()
    if version is None:
        raise Http404
    return version


@login_required
def report_pdf_view(request: HttpRequest, pk: int, number: int) -> FileResponse:
    version = _version(request, pk, number)
    return file_response(version.pdf, filename=f"{version.report.serial_number}-v{number}.pdf", download=True)


@login_required
def report_stamped_view(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The current version's platform-stamped copy (serial number and QR top-right),
    the very file registered and logged with the version (``services.stamped_copies``),
    so the public file check recognises it. A version registered before stamped copies
    were kept is stamped on the fly (deterministically, but not registered)."""

    version = _version(request, pk, None)
    report = version.report
    filename = f"{report.serial_number}-stamped.pdf"
    if version.stamped_pdf is not None:
        return file_response(version.stamped_pdf, filename=filename, download=True)
    try:
        data = codes.stamp_pdf(
            services._read_file(version.pdf), code=report.verification_code, serial=report.serial_number
        )
    except Exception as exc:
        return render(
            request,
            "error.html",
            {"status": 422, "message": _("该 PDF 无法加盖流水号和二维码。"), "detail": str(exc)[:200]},
            status=422,
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _submitting_agency(request: HttpRequest) -> Agency:
    """The agency of the signed-in user; 403 for anyone else."""

    user: Any = request.user
    agency = Agency.objects.filter(organisation_id=user.organisation_id).first()
    if agency is None:
        raise PermissionDenied(_("只有检测机构可以报送检测报告。"))
    return agency


@login_required
def report_submit_view(request: HttpRequest) -> HttpResponse:
    """Web preparation for agencies without a LIMS (Nanchang 三(一)): the form's report
    becomes a draft that the tester, the reviewer and the signatory then sign off with
    their own accounts (``signoff``); the signatory's approval issues it."""

    user: Any = request.user
    agency = _submitting_agency(request)
    initial: dict[str, Any] = {}
    returned = None
    if request.method == "GET" and request.GET.get("from", "").isdigit():
        # prepared again from a returned draft: its fields and PDF, to correct
        returned = selectors.draft_get(actor=user, pk=int(request.GET["from"]))
        initial = {
            **returned.data,
            "test_basis": "\n".join(returned.data.get("test_basis") or []),
            "tester_id": returned.tester_id,
            "reviewer_id": returned.reviewer_id,
            "signatory_id": returned.signatory_id,
        }
    form = ReportSubmitForm(request.POST or None, request.FILES or None, agency=agency, initial=initial)
    if returned is not None:
        form.kept_pdf = returned.pdf
        form.initial["pdf_kept"] = str(returned.pdf_id)
    if request.method == "POST":
        valid = form.is_valid()
        upload = form.cleaned_data.get("pdf")
        if upload:
            # stored first, on its own: a refused submission re-shows the form with the
            # file kept, so the clerk does not choose it again
            try:
                form.keep_pdf(
                    file_store(
                        upload, organisation_id=agency.organisation_id, purpose="report", name=upload.name, actor=user
                    )
                )
            except AppError as exc:
                form.add_error("pdf", exc.message)
                valid = False
    if request.method == "POST" and valid:
        try:
            draft = signoff.draft_prepare(actor=user, agency=agency, fields=form.draft_fields(), pdf=form.kept_pdf)
        except AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("报告草稿已提交，等待检测人 %(name)s 在平台签署。") % {"name": draft.tester.name}
            )
            return redirect("reports:draft_detail", pk=draft.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reports/report_form.html",
        {"form": form, "agency": agency, "sections": form.sections()},
        status=status,
    )


@login_required
def report_submit_parameters_view(request: HttpRequest) -> HttpResponse:
    """The parameter checkboxes of the item chosen in the submission form (htmx)."""

    agency = _submitting_agency(request)
    form = ReportSubmitForm(initial={"test_item": request.GET.get("test_item", "")}, agency=agency)
    return render(request, "reports/_parameters.html", {"field": form["parameters"]})


@login_required
@require_POST
def amendment_apply_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(actor=request.user, pk=pk)
    form = AmendmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail_response(request, report, amendment_form=form, status=400)
    if not permissions.acts_for_agency(request.user, report.agency):
        raise PermissionDenied(_("只能报送本机构的检测报告。"))
    try:
        with transaction.atomic():
            pdf_id = None
            if form.cleaned_data.get("pdf"):
                upload = form.cleaned_data["pdf"]
                pdf_id = file_store(
                    upload,
                    organisation_id=report.agency.organisation_id,
                    purpose="report",
                    name=upload.name,
                    actor=request.user,
                ).pk
            services.amendment_apply(
                actor=request.user,
                report=report,
                reason=form.cleaned_data["reason"],
                data=form.changes(),
                pdf_id=pdf_id,
            )
    except AppError as exc:
        form.add_error(None, exc.message)
        return _detail_response(request, report, amendment_form=form, status=exc.status)
    messages.success(request, _("变更申请已提交，等待主管部门审批。"))
    return redirect("reports:report_detail", pk=pk)


@login_required
@require_POST
def amendment_decide_view(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in ("approve", "reject"):
        raise Http404
    amendment = selectors.amendment_get(actor=request.user, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errors in form.errors.values() for e in errors]
        return _detail_response(request, amendment.report, decision_errors={amendment.pk: errors}, status=400)
    reason = form.cleaned_data["reason"]
    try:
        if decision == "approve":
            services.amendment_approve(actor=request.user, amendment=amendment, reason=reason)  # type: ignore[arg-type]
            done = _("变更已批准，报告新版本已生效并记入存证日志。")
        else:
            services.amendment_reject(actor=request.user, amendment=amendment, reason=reason)  # type: ignore[arg-type]
            done = _("变更申请已驳回。")
    except AppError as exc:
        errors = [exc.message]
        return _detail_response(request, amendment.report, decision_errors={amendment.pk: errors}, status=exc.status)
    messages.success(request, done)
    return redirect("reports:report_detail", pk=amendment.report_id)


@login_required
@require_POST
def report_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(actor=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _detail_response(request, report, reason_form=form, status=400)
    try:
        services.report_revoke(actor=request.user, report=report, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
    except AppError as exc:
        form.add_error(None, exc.message)
        return _detail_response(request, report, reason_form=form, status=exc.status)
    return redirect("reports:report_detail", pk=pk)


@login_required
@require_POST
def report_printed_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The agency records that it printed the report (Nanchang 三(二)); a refusal
    re-renders the report page with the reason next to the button."""

    report = selectors.report_get(actor=request.user, pk=pk)
    if not permissions.acts_for_agency(request.user, report.agency):
        raise PermissionDenied(_("只能报送本机构的检测报告。"))
    try:
        services.report_print(actor=request.user, report=report)
    except AppError as exc:
        return _detail_response(request, report, print_errors=[exc.message], status=exc.status)
    return redirect("reports:report_detail", pk=pk)


class DraftListView(ObjectListView):
    """The agency's report drafts in sign-off; ``?mine=1`` those waiting for the signed-in
    person's sign-off (the work queue "待我签批的报告")."""

    table_class = DraftTable
    title = gettext_lazy("报告草稿（三级审批）")
    description = gettext_lazy("网页编制的报告由检测人、审核人、授权签字人依次在平台签署，批准后签发。")

    def get_queryset(self, request: HttpRequest) -> Any:
        drafts: Any = ReportDraft.objects.restrict(request.user).select_related("tester", "reviewer", "signatory")
        if request.GET.get("mine"):
            drafts = selectors.drafts_awaiting(actor=request.user)
        return drafts


draft_list_view = DraftListView.as_view()


class DraftDetailView(ObjectDetailView):
    """One draft: its content, the three sign-offs with who and when, and the actions the
    signed-in person may take now (sign off or return), none otherwise."""

    template_name = "reports/draft_detail.html"
    context_object_name = "draft"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> Any:
        return selectors.draft_get(actor=request.user, pk=kwargs["pk"])

    def get_extra_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        data = obj.data
        codes_of = list(data.get("parameters") or [])
        named = dict(Parameter.objects.filter(pk__in=codes_of).values_list("pk", "name"))
        steps = [
            (_("检测"), obj.tester, obj.tested_by, obj.tested_at, DraftStatus.TESTING),
            (_("审核"), obj.reviewer, obj.reviewed_by, obj.reviewed_at, DraftStatus.REVIEWING),
            (_("批准"), obj.signatory, obj.approved_by, obj.approved_at, DraftStatus.APPROVING),
        ]
        from inspecta.core.models import TestItem
        from inspecta.projects.models import Project

        return {
            "item": TestItem.objects.filter(pk=data.get("test_item")).first(),
            "project": Project.objects.filter(pk=data.get("project_id")).first(),
            "may_prepare_again": obj.status == DraftStatus.RETURNED
            and permissions.acts_for_agency(request.user, obj.agency),
            "steps": [
                {"label": label, "person": person, "by": by, "at": at, "current": obj.status == status}
                for label, person, by, at, status in steps
            ],
            "parameter_names": [named.get(code, code) for code in codes_of],
            "may_sign": signoff.may_sign(request.user, obj),
            "approving": obj.status == DraftStatus.APPROVING,
            "return_form": DraftReturnForm(),
            "sign_errors": [],
        }


draft_detail_view = DraftDetailView.as_view()


@login_required
@require_POST
def draft_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The awaited person signs the draft off; the signatory's approval issues the report."""

    draft = selectors.draft_get(actor=request.user, pk=pk)
    try:
        draft = signoff.draft_approve(actor=request.user, draft=draft)
    except AppError as exc:
        draft = selectors.draft_get(actor=request.user, pk=pk)
        return DraftDetailView.render_object(request, draft, status=400, sign_errors=[exc.message])
    if draft.report is not None:
        messages.success(request, _("报告已批准签发，统一流水号 %(s)s。") % {"s": draft.report.serial_number})
        return redirect("reports:report_detail", pk=draft.report.pk)
    messages.success(request, _("已签署，等待 %(name)s 签署。") % {"name": draft.awaiting().name})
    return redirect("reports:draft_detail", pk=pk)


@login_required
@require_POST
def draft_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The awaited person returns the draft to its preparer with a reason."""

    draft = selectors.draft_get(actor=request.user, pk=pk)
    form = DraftReturnForm(request.POST)
    if form.is_valid():
        try:
            signoff.draft_return(actor=request.user, draft=draft, reason=form.cleaned_data["reason"])
        except AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("报告草稿已退回编制人。"))
            return redirect("reports:draft_detail", pk=pk)
    return DraftDetailView.render_object(request, draft, status=400, return_form=form)


@login_required
def nonconformance_list_view(request: HttpRequest) -> HttpResponse:
    """The ledger moved to oversight, with its closures (Guangdong 附件2 二(十二))."""

    return redirect("oversight:nonconformance_list")


# ------------------------------------------------------------------ public page


_TIME_KEYS = frozenset(
    {"issued_at", "printed_at", "revoked_at", "created_at", "superseded_at", "at", "signed_at", "ended_at"}
)


def _with_datetimes(value: Any) -> Any:
    """The public JSON with its ISO 8601 instants as aware datetimes, so the page shows
    them in the platform's time zone (Beijing time), not as UTC text."""

    import datetime

    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _TIME_KEYS and isinstance(item, str):
                try:
                    out[key] = datetime.datetime.fromisoformat(item)
                except ValueError:
                    out[key] = item
            else:
                out[key] = _with_datetimes(item)
        return out
    if isinstance(value, list):
        return [_with_datetimes(item) for item in value]
    return value


def verify_view(request: HttpRequest, code: str) -> HttpResponse:
    """``/v/{code}``: the mobile-first public verification page (CONTRACT §6), with the
    PDF check and the in-browser inclusion proof check."""

    if public.rate_limited(request):
        return render(request, "reports/verify.html", {"state": "rate_limited", "code": code}, status=429)
    # the page shows the public JSON (one cache with GET /api/v1/public/reports/{code});
    # the PDF check (POST) needs the report itself
    cached = public.verification_body_cached(code) if request.method == "GET" else None
    if cached is not None:
        state, report = "ok", None
    else:
        state, report = public.lookup(code)
    context: dict[str, Any] = {"state": state, "code": code}
    status = 200
    if report is None and cached is None:
        status = 400 if state == "mistyped" else 404
    else:
        normalised = codes.normalise(code) if report is None else report.verification_code
        context["data"] = json.loads(cached if cached is not None else public.verification_body(report))  # type: ignore[arg-type]
        context["code"] = normalised
        context["code_display"] = codes.display(normalised)
        if report is not None and request.method == "POST" and request.FILES.get("file"):
            upload: Any = request.FILES["file"]
            if upload.size and upload.size > 50 * 1024 * 1024:
                context["file_error"] = _("文件过大。")
            else:
                context["file_result"] = public.file_match(report, upload.read())
    if request.headers.get("Accept", "").startswith("application/json") and "data" in context:
        return JsonResponse(context["data"], json_dumps_params={"ensure_ascii": False})
    if "data" in context:
        context["data"] = _with_datetimes(context["data"])
    return render(request, "reports/verify.html", context, status=status)


def verify_form_view(request: HttpRequest) -> HttpResponse:
    """``/v/``: type a code by hand."""

    code = request.GET.get("code", "").strip()
    if code:
        return redirect("reports_public:verify", code=codes.normalise(code) or "-")
    return render(request, "reports/verify.html", {"state": "form"})


# ------------------------------------------------------------------ check rules


@login_required
def check_rules_view(request: HttpRequest) -> HttpResponse:
    """``/reports/check-rules/``: every acceptance check with its description, default
    and the action in force in the user's province. A province
    authority admin switches reject/flag here (the same service as
    ``PUT /api/v1/reports/check-rules/{code}``); city/district authority users see the
    rules read-only; anyone else gets 403. Changes are audited and listed below."""

    province, may_change = selectors.check_rule_viewer(request.user)
    requested = request.GET.get("province") or request.POST.get("province") or None
    if province is None and requested:  # operators may look at any province
        province = requested
    if request.method != "POST":
        return _check_rules_response(request, province, may_change)
    if not may_change:
        raise PermissionDenied(_("只有省级主管部门管理员可以配置本省的报告接收检查规则。"))
    form = CheckRuleForm(request.POST)
    if not form.is_valid():
        return _check_rules_response(request, province, may_change, form=form, status=400)
    try:
        rule = services.check_rule_set(
            actor=request.user,  # type: ignore[arg-type]
            code=form.cleaned_data["code"],
            action=form.cleaned_data["action"],
            province=province,
        )
    except AppError as exc:
        form.add_error(None, exc.message)
        return _check_rules_response(request, province, may_change, form=form, status=exc.status)
    messages.success(
        request,
        _("已将“%(c)s”设置为：%(a)s。") % {"c": rule.get_code_display(), "a": rule.get_action_display()},
    )
    target = reverse("reports:check_rules")
    return redirect(f"{target}?province={province}" if requested and province else target)


def _check_rules_response(
    request: HttpRequest,
    province: str | None,
    may_change: bool,
    *,
    form: CheckRuleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The rules page; a refused or invalid change re-renders it with the form's errors on
    top (status 400, or the refusal's status) instead of a flash and a redirect."""

    from .models import CheckRule

    rules = selectors.check_rule_list(actor=request.user, province=province)
    history = (
        CheckRule.history.filter(province=rules[0]["province"] if rules else "")  # type: ignore[attr-defined]
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:100]
    )
    errors = [str(e) for errors in form.errors.values() for e in errors] if form is not None else []
    return render(
        request,
        "reports/check_rules.html",
        {
            "rules": rules,
            "may_change": may_change,
            "province": rules[0]["province"] if rules else "",
            "history": history,
            "actions": CheckAction.choices,
            "codes": dict(CheckCode.choices),
            "errors": errors,
        },
        status=status,
    )
