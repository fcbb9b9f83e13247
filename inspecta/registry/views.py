"""Pages of the agency registry: public registration and list, the agency's own pages,
and the authorities' review pages. Views parse, authorise, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspecta.accounts.models import User
from inspecta.core.forms import apply_validation_error
from inspecta.core.generic import ObjectHistoryView, ObjectListView
from inspecta.core.masking import Audience, mask_id_number, mask_mobile

from . import imports, permissions, selectors, services
from .api import public_items
from .choices import AgencyStatus, ChangeRequestStatus
from .filtersets import AgencyFilterSet, FindingFilterSet, PublicAgencyFilterSet
from .forms import (
    KIND_FIELDS,
    KIND_MODELS,
    CapabilityForm,
    ImportForm,
    ReasonForm,
    RegistrationForm,
    agency_form,
    attachment_fields,
    record_form,
)
from .models import (
    Agency,
    AgencyCertificate,
    AgencyHead,
    ChangeRequest,
    Equipment,
    Finding,
    ImportJob,
    OtherCertificate,
    OutputValue,
    PostCertificate,
    QualificationCertificate,
    Signatory,
    Site,
    SiteCapability,
    Staff,
)
from .tables import SECTION_TABLES, AgencyTable, FindingTable, SectionTable

# --- sections: one table per kind of record (tables.SECTION_TABLES) --------------------

SECTIONS = SECTION_TABLES

SECTION_QUERYSETS: dict[str, Callable[[Agency], Any]] = {
    "head": lambda ag: AgencyHead.objects.filter(agency=ag),
    "site": lambda ag: Site.objects.filter(agency=ag).prefetch_related("capabilities"),
    "staff": lambda ag: Staff.objects.filter(agency=ag).select_related("site").prefetch_related("specialties"),
    "post_certificate": lambda ag: PostCertificate.objects.filter(agency=ag).select_related("staff", "category"),
    "other_certificate": lambda ag: OtherCertificate.objects.filter(agency=ag).select_related("staff"),
    "equipment": lambda ag: Equipment.objects.filter(agency=ag).select_related("site").prefetch_related("parameters"),
    "signatory": lambda ag: (
        Signatory.objects.filter(agency=ag).select_related("staff", "site").prefetch_related("scope")
    ),
    "qualification": lambda ag: QualificationCertificate.objects.filter(agency=ag).prefetch_related("specialties"),
    "certificate": lambda ag: AgencyCertificate.objects.filter(agency=ag),
    "output_value": lambda ag: OutputValue.objects.filter(agency=ag),
}


def _agency(request: HttpRequest, pk: int, action: str = "view") -> Agency:
    agency = selectors.agency_get(actor=request.user, pk=pk)  # type: ignore[arg-type]
    if action != "view" and not Agency.objects.restrict(request.user, action).filter(pk=pk).exists():
        raise PermissionDenied(_("无权执行该操作。"))
    return agency


def _section(kind: str) -> tuple[Any, type[SectionTable]]:
    if kind not in SECTIONS:
        raise Http404
    return SECTIONS[kind]


def _context(request: HttpRequest, agency: Agency, **extra: Any) -> dict[str, Any]:
    return {
        "agency": agency,
        "sections": [(k, v[0]) for k, v in SECTIONS.items()],
        "can_change": permissions.may_change(request.user, agency),
        "can_review": permissions.may_review(request.user, agency),
        "audience": selectors.audience_for(request.user, agency),
        **extra,
    }


# --- public -----------------------------------------------------------------------------


def register_view(request: HttpRequest) -> HttpResponse:
    """Self-registration of a testing agency (Guangdong 附件2 一(一), 二(一))."""

    form = RegistrationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                agency = services.agency_register(
                    credit_code=data["credit_code"],
                    name=data["name"],
                    region_code=data["region_code"],
                    contact_name=data["contact_name"],
                    contact_mobile=data["contact_mobile"],
                    email=data["email"],
                    username=data["username"],
                    password=data["password"],
                    out_of_province=data["out_of_province"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc, default_field="password")
                status = 400
            else:
                user = User.objects.get(username=data["username"])
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("注册成功。请完善机构信息并提交审核；审核通过前不能开展检测业务。"))
                return redirect("registry:agency_detail", pk=agency.pk)
        else:
            status = 400
    return render(request, "registry/register.html", {"form": form}, status=status)


def public_list_view(request: HttpRequest) -> HttpResponse:
    """Approved agencies, for everyone (CONTRACT §6a; Guangdong 附件2 一(四))."""

    filterset = PublicAgencyFilterSet(
        request.GET or None, queryset=selectors.public_agency_list(), request=request, for_page=True
    )
    status = 400 if filterset.is_bound and not filterset.is_valid() else 200
    page = Paginator(filterset.qs.prefetch_related("agencyhead_set"), 20).get_page(request.GET.get("page"))
    items = public_items(list(page))
    context = {"form": filterset.form, "page": page, "items": items}
    return render(request, "registry/public_list.html", context, status=status)


def public_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    agency = selectors.public_agency_list().prefetch_related("agencyhead_set").filter(pk=pk).first()
    if agency is None:
        raise Http404(_("检测机构不存在或未通过审核。"))
    item = public_items([agency])[0]
    sites = Site.objects.filter(agency=agency).prefetch_related(
        models.Prefetch(
            "capabilities",
            queryset=SiteCapability.objects.select_related(
                "item_parameter__test_item__specialty", "item_parameter__parameter"
            ),
        )
    )
    return render(request, "registry/public_detail.html", {"item": item, "sites": sites})


# --- agency pages -----------------------------------------------------------------------


class AgencyListView(ObjectListView):
    """Authorities: the agencies of their region, with open findings; an agency user
    goes straight to their own agency."""

    filterset_class = AgencyFilterSet
    table_class = AgencyTable
    template_name = "registry/agency_list.html"
    per_page = 30

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        own = selectors.agency_of(request.user)
        if own is not None:
            return redirect("registry:agency_detail", pk=own.pk)
        return super().get(request, *args, **kwargs)

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.agency_list(actor=request.user)  # type: ignore[arg-type]


agency_list_view = AgencyListView.as_view()


class FindingListView(ObjectListView):
    """Open conformity findings of every agency in the user's scope (authority list)."""

    filterset_class = FindingFilterSet
    table_class = FindingTable
    template_name = "registry/findings.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            Finding.objects.restrict(request.user)
            .filter(resolved_at__isnull=True)
            .select_related("agency")
            .order_by("severity", "agency__name", "rule", "pk")
        )


findings_view = FindingListView.as_view()


def _detail_response(
    request: HttpRequest,
    agency: Agency,
    *,
    review_action: str = "",
    review_form: ReasonForm | None = None,
    change_forms: dict[int, ReasonForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The agency page; a refused or invalid review action re-renders it with the bound
    form and its errors (status 400) instead of a flash and a redirect."""

    audience = selectors.audience_for(request.user, agency)
    heads = AgencyHead.objects.filter(agency=agency).order_by("role")
    change_forms = change_forms or {}
    changes = ChangeRequest.objects.filter(agency=agency).select_related("applied_by", "decided_by")[:20]
    context = _context(
        request,
        agency,
        heads=[(h, mask_id_number(h.id_number, audience), mask_mobile(h.mobile, audience)) for h in heads],
        findings=selectors.open_findings(agency),
        changes=[{"change": c, "form": change_forms.get(c.pk) or ReasonForm()} for c in changes],
        reviews=agency.reviews.select_related("actor")[:20],
        versions=agency.versions.select_related("approved_by")[:10],
        branches=agency.branches.all(),
        problems=services.submission_problems(agency) if agency.status in ("draft", "returned") else [],
        critical=services.critical_findings(agency) if agency.status == AgencyStatus.SUBMITTED else [],
        review_action=review_action,
        review_form=review_form or ReasonForm(),
        pending=ChangeRequestStatus.PENDING,
        section_counts=[(kind, SECTIONS[kind][0], SECTION_QUERYSETS[kind](agency).count()) for kind in SECTIONS],
    )
    return render(request, "registry/agency_detail.html", context, status=status)


@login_required
def agency_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_response(request, _agency(request, pk))


@login_required
def agency_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    agency = _agency(request, pk, "change")
    form = agency_form(agency, request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        form = agency_form(Agency.objects.get(pk=agency.pk), request.POST, request.FILES)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if not k.endswith("__upload")}
            uploads = {"business_licence": form.cleaned_data.get("business_licence__upload")}
            try:
                change = services.agency_update(actor=request.user, agency=agency, data=data, uploads=uploads)  # type: ignore[arg-type]
            except ValidationError as exc:
                apply_validation_error(form, exc)  # type: ignore[arg-type]
                status = 400
            else:
                if change is not None:
                    messages.success(
                        request,
                        _("单位名称、注册资本的变更已提交注册地主管部门审核，审核通过后生效；其他修改已保存。"),
                    )
                else:
                    messages.success(request, _("已保存，修改已记入审计日志。"))
                return redirect("registry:agency_detail", pk=agency.pk)
        else:
            status = 400
    return render(
        request, "registry/record_form.html", _context(request, agency, form=form, title=_("基本信息")), status=status
    )


def _section_response(
    request: HttpRequest, agency: Agency, kind: str, *, action_errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    """One section's table; a refused row action re-renders it with the reasons on top
    (status 400)."""

    title, table_class = _section(kind)
    audience = selectors.audience_for(request.user, agency)
    table = table_class(list(SECTION_QUERYSETS[kind](agency)), audience=audience)
    return render(
        request,
        "registry/section.html",
        _context(
            request,
            agency,
            kind=kind,
            title=title,
            table=table,
            importable=kind in imports.KINDS,
            action_errors=action_errors or [],
        ),
        status=status,
    )


@login_required
def section_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    return _section_response(request, _agency(request, pk), kind)


@login_required
def record_edit_view(request: HttpRequest, pk: int, kind: str, record: int | None = None) -> HttpResponse:
    agency = _agency(request, pk, "change")
    title, _columns = _section(kind)
    model = KIND_MODELS[kind]
    instance = None
    if record is not None:
        instance = model._default_manager.filter(agency=agency, pk=record).first()  # type: ignore[misc]
        if instance is None:
            raise Http404
    form = record_form(kind, agency, instance, request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in KIND_FIELDS[kind]}
            uploads: dict[str, Any] = {
                name: form.cleaned_data.get(f"{name}__upload") for name in attachment_fields(model)
            }
            try:
                result = services.record_save(
                    actor=request.user,  # type: ignore[arg-type]
                    agency=agency,
                    kind=kind,
                    pk=record,
                    data=data,
                    uploads=uploads,
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)  # type: ignore[arg-type]
                status = 400
            else:
                if isinstance(result, ChangeRequest):
                    messages.info(request, _("已提交关键信息变更申请，审核通过后生效；在此之前原信息继续有效。"))
                else:
                    messages.success(request, _("已保存，修改已记入审计日志。"))
                return redirect("registry:section", pk=agency.pk, kind=kind)
        else:
            status = 400
    return render(
        request,
        "registry/record_form.html",
        _context(
            request, agency, form=form, title=title, kind=kind, instance=instance, is_key=kind in services.KEY_KINDS
        ),
        status=status,
    )


@login_required
@require_POST
def record_delete_view(request: HttpRequest, pk: int, kind: str, record: int) -> HttpResponse:
    agency = _agency(request, pk, "change")
    _section(kind)
    try:
        change = services.record_delete(actor=request.user, agency=agency, kind=kind, pk=record)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _section_response(request, agency, kind, action_errors=exc.messages, status=400)
    if change is not None:
        messages.info(request, _("已提交关键信息变更申请，审核通过后生效。"))
    else:
        messages.success(request, _("已删除（人员标记为离职），记入审计日志。"))
    return redirect("registry:section", pk=agency.pk, kind=kind)


@login_required
def capability_view(request: HttpRequest, pk: int, site: int) -> HttpResponse:
    """Choose, per test item of the catalog, the parameters a site offers."""

    agency = _agency(request, pk)
    site_obj = Site.objects.filter(agency=agency, pk=site).first()
    if site_obj is None:
        raise Http404
    item = None
    item_code = request.POST.get("test_item") or request.GET.get("test_item")
    if item_code:
        from inspecta.core.models import TestItem

        item = TestItem.objects.filter(pk=item_code, enabled=True).first()
    current = set(
        SiteCapability.objects.filter(site=site_obj, item_parameter__test_item=item).values_list(
            "item_parameter__parameter_id", flat=True
        )
    )
    form = CapabilityForm(request.POST or None, item=item, initial={"test_item": item, "parameters": sorted(current)})
    status = 200
    if request.method == "POST":
        if not permissions.may_change(request.user, agency):
            raise PermissionDenied(_("无权修改该检测机构的信息。"))
        if form.is_valid():
            try:
                change = services.capability_set(
                    actor=request.user,  # type: ignore[arg-type]
                    agency=agency,
                    site_id=site_obj.pk,
                    test_item=form.cleaned_data["test_item"].pk,
                    parameters=list(form.cleaned_data["parameters"]),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc, default_field="parameters")
                status = 400
            else:
                messages.success(
                    request,
                    _("已提交关键信息变更申请，审核通过后生效。") if change is not None else _("检测能力已保存。"),
                )
                return redirect(
                    f"{reverse('registry:capabilities', args=[agency.pk, site_obj.pk])}?test_item={item_code}"
                )
        else:
            status = 400
    capabilities = SiteCapability.objects.filter(site=site_obj).select_related(
        "item_parameter__test_item__specialty", "item_parameter__parameter"
    )
    return render(
        request,
        "registry/capabilities.html",
        _context(request, agency, site=site_obj, form=form, item=item, capabilities=capabilities),
        status=status,
    )


REVIEW_REFUSED = {
    "submit": gettext_lazy("无权修改该检测机构的信息。"),
    "approve": gettext_lazy("只有注册地主管部门可以审核该检测机构。"),
    "return": gettext_lazy("只有注册地主管部门可以审核该检测机构。"),
}


@login_required
@require_POST
def review_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Submit (agency admin); approve or return with reasons (registration-region
    authority, Guangdong 附件2 一(二)). A refusal re-renders the agency page (400)."""

    agency = _agency(request, pk)
    if action not in REVIEW_REFUSED:
        raise Http404
    allowed = permissions.may_change if action == "submit" else permissions.may_review
    if not allowed(request.user, agency):
        raise PermissionDenied(REVIEW_REFUSED[action])
    form = ReasonForm(request.POST)
    actor: Any = request.user
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if action == "submit":
                services.agency_submit(actor=actor, agency=agency)
                messages.success(request, _("已提交审核。"))
            elif action == "approve":
                services.agency_approve(
                    actor=actor, agency=agency, reason=reason, confirm_findings=form.cleaned_data["confirm"]
                )
                messages.success(request, _("已审核通过，并记入存证日志。"))
            else:
                services.agency_return(actor=actor, agency=agency, reason=reason)
                messages.success(request, _("已退回。"))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if not Agency.objects.restrict(request.user).filter(pk=agency.pk).exists():
                return redirect("registry:agency_list")
            return redirect("registry:agency_detail", pk=agency.pk)
    agency.refresh_from_db()
    return _detail_response(request, agency, review_action=action, review_form=form, status=400)


@login_required
@require_POST
def change_review_view(request: HttpRequest, change: int, action: str) -> HttpResponse:
    """Approve or return a key-fact change (Guangdong 附件2 一(二)); a refusal re-renders
    the agency page with the reason next to the change (400)."""

    obj = ChangeRequest.objects.restrict(request.user).select_related("agency").filter(pk=change).first()
    if obj is None or action not in ("approve", "return"):
        raise Http404
    if not permissions.may_review(request.user, obj.agency):
        raise PermissionDenied(REVIEW_REFUSED[action])
    form = ReasonForm(request.POST)
    actor: Any = request.user
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if action == "approve":
                services.change_request_approve(actor=actor, change=obj, reason=reason)
                messages.success(request, _("变更已通过并生效，新版本已记入存证日志。"))
            else:
                services.change_request_return(actor=actor, change=obj, reason=reason)
                messages.success(request, _("变更申请已退回。"))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            return redirect("registry:agency_detail", pk=obj.agency_id)
    agency = Agency.objects.get(pk=obj.agency_id)
    return _detail_response(request, agency, change_forms={obj.pk: form}, status=400)


def _require_full(request: HttpRequest, agency: Agency) -> None:
    """History shows every value as stored, personal numbers included: only for those
    who see them in full (the agency and its reviewing authority)."""

    if selectors.audience_for(request.user, agency) != Audience.FULL:
        raise PermissionDenied(_("变更历史含未脱敏的个人信息，仅本机构及其审核部门可查看。"))


class AgencyHistoryView(ObjectHistoryView):
    """Every change of an agency's basic information."""

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        agency = _agency(request, kwargs["pk"])
        _require_full(request, agency)
        return agency

    def get_return_url(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> str:
        return reverse("registry:agency_detail", args=[kwargs["pk"]])


class RecordHistoryView(ObjectHistoryView):
    """Every change of one record: who, when, before and after."""

    def get_object(self, request: HttpRequest, **kwargs: Any) -> models.Model:
        agency = _agency(request, kwargs["pk"])
        _require_full(request, agency)
        kind = kwargs["kind"]
        _section(kind)
        obj = KIND_MODELS[kind]._default_manager.filter(agency=agency, pk=kwargs["record"]).first()  # type: ignore[misc]
        if obj is None:
            raise Http404
        return obj  # type: ignore[no-any-return]

    def get_return_url(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> str:
        return reverse("registry:section", args=[kwargs["pk"], kwargs["kind"]])


history_view = AgencyHistoryView.as_view()
record_history_view = RecordHistoryView.as_view()


# --- Excel -------------------------------------------------------------------------------


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def import_template_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in imports.KINDS:
        raise Http404
    response = HttpResponse(imports.template_workbook(kind), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename={kind}-template.xlsx"
    return response


@login_required
def import_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    agency = _agency(request, pk, "change")
    if kind not in imports.KINDS:
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if imports.count_rows(upload) > settings.INSPECTA_REGISTRY_IMPORT_ASYNC_ROWS:
                    job = imports.import_job_create(
                        actor=request.user,  # type: ignore[arg-type]
                        agency=agency,
                        kind=kind,
                        upload=upload,
                    )
                    return redirect("registry:import_job", pk=agency.pk, job=job.pk)
                result = imports.import_rows(
                    actor=request.user,  # type: ignore[arg-type]
                    agency=agency,
                    kind=kind,
                    upload=upload,
                )
            except ValidationError as exc:
                apply_validation_error(form, exc, default_field="file")
                status = 400
            else:
                if result.ok:
                    messages.success(
                        request,
                        _("导入完成：新增 %(c)d 条，更新 %(u)d 条。") % {"c": result.created, "u": result.updated},
                    )
                    return redirect("registry:section", pk=agency.pk, kind=kind)
                status = 400
        else:
            status = 400
    return render(
        request,
        "registry/import.html",
        _context(request, agency, form=form, result=result, kind=kind, title=imports.TITLES[kind]),
        status=status,
    )


@login_required
def import_job_view(request: HttpRequest, pk: int, job: int) -> HttpResponse:
    """A background import: a progress bar that polls itself (htmx) until the job ends,
    then the result or the errors by row and column. Only for users who see the agency."""

    agency = _agency(request, pk)
    obj = ImportJob.objects.restrict(request.user).filter(agency=agency, pk=job).first()
    if obj is None:
        raise Http404
    context = {"job": obj, "kind": obj.kind, "title": imports.TITLES.get(obj.kind, obj.kind)}
    if request.headers.get("HX-Request"):
        return render(request, "registry/_import_job.html", {"agency": agency, **context})
    return render(request, "registry/import_job.html", _context(request, agency, **context))


@login_required
def export_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    agency = _agency(request, pk)
    if kind not in imports.KINDS:
        raise Http404
    content = imports.export_workbook(agency=agency, kind=kind, audience=selectors.audience_for(request.user, agency))
    response = HttpResponse(content, content_type=XLSX)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f"attachment; filename={kind}-{agency.pk}-{stamp}.xlsx"
    return response
