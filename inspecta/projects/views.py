"""Project pages (T/CECS 4.3.2): list, registration by authorities, the project page that
aggregates parties, contracts and reports, and the agency's contract upload (4.3.3)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspecta.core.errors import AppError
from inspecta.core.files import file_store
from inspecta.core.generic import ObjectDetailView, ObjectListView
from inspecta.registry.models import Agency

from . import permissions, selectors, services
from .filtersets import ProjectFilterSet
from .forms import ContractForm, ProjectForm
from .tables import ProjectTable


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

        user: Any = request.user
        return {
            "parties": obj.parties.all(),
            "contracts": selectors.contract_list(actor=user, project=obj).prefetch_related("test_items"),
            "reports": report_list(actor=user).filter(project=obj)[:200],
            "may_upload_contract": permissions.may_upload_contract(user, obj),
        }


project_detail_view = ProjectDetailView.as_view()


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
