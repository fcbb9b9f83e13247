"""Sampling pages (57号令 第十八条、第二十条; T/CECS 2.0.16, 4.3.4-1/-2/-3; Nanchang
四(一)-(二)、四(四)1): the list of samples in the actor's scope, a sample's page with its
tags, photos, confirmations, seal and findings, its printable tag and seal labels; the
commissions (委托单): list, filling, page with the confirmation, printable form."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspecta.accounts.models import User
from inspecta.accounts.passkeys import identity_factors
from inspecta.core.actors import actor_of
from inspecta.core.errors import AppError
from inspecta.core.forms import apply_validation_error
from inspecta.core.generic import ObjectDetailView, ObjectListView

from . import commissions, custody, permissions, selectors, services
from .choices import CustodyEventKind, SampleStatus
from .codes import display
from .filtersets import CommissionFilterSet, SampleFilterSet
from .forms import CommissionForm, ConcreteBatchForm, CustodyEventForm, SampleRecordForm
from .labels import TagLabel, seal_label_pdf, tag_labels_pdf
from .models import Commission, ConcreteBatch, Receipt, Sample
from .tables import CommissionTable, SampleTable


class SampleListView(ObjectListView):
    """The samples in the actor's scope."""

    filterset_class = SampleFilterSet
    table_class = SampleTable
    template_name = "sampling/sample_list.html"
    title = gettext_lazy("取样送检")
    description = gettext_lazy("见证取样的样品：取样人记录、见证人确认封样，检测机构收样。")

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.sample_list(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        actor = actor_of(request.user)
        return {
            "may_record": permissions.may_record_samples(actor),
            "may_receive": permissions.may_receive_samples(actor),
            "may_deliver": permissions.may_deliver(actor),
        }


sample_list_view = SampleListView.as_view()


class SampleDetailView(ObjectDetailView):
    template_name = "sampling/sample_detail.html"
    context_object_name = "sample"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> Sample:
        return selectors.sample_get(actor=request.user, pk=kwargs["pk"])

    def get_extra_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {
            "code_display": display(obj.code),
            "may_confirm": permissions.may_confirm(request.user, obj),
            "factors": identity_factors(user=cast(User, request.user)),
            "seal": getattr(obj, "seal", None)
            if obj.status not in (SampleStatus.RECORDED, SampleStatus.CONFIRMED)
            else None,
            "receipt": Receipt.objects.select_related("receiver", "deliverer", "handover").filter(sample=obj).first(),
            **custody_context(request, obj),
        }


sample_detail_view = SampleDetailView.as_view()


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _lines(sample: Sample) -> list[str]:
    return [sample.project.name, f"{sample.test_item.name} · {sample.part}", f"{sample.sampled_at:%Y-%m-%d}"]


def sample_tags_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Tag labels of the sample's specimens for a label printer (T/CECS 2.0.6)."""

    sample = selectors.sample_get(actor=request.user, pk=pk)
    labels = [
        TagLabel(tag_id=s.tag_id, code=display(sample.code), title=f"{s.number}/{sample.count}", lines=_lines(sample))
        for s in sample.specimens.all()
    ]
    return _pdf(tag_labels_pdf(labels), f"tags-{sample.code}.pdf")


def sample_seal_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The seal label with the ``SEAL1:`` QR (T/CECS 2.0.16)."""

    sample = selectors.sample_get(actor=request.user, pk=pk)
    seal = getattr(sample, "seal", None)
    if seal is None:
        raise Http404
    return _pdf(seal_label_pdf(seal.text, code=display(sample.code), lines=_lines(sample)), f"seal-{sample.code}.pdf")


@login_required
def sample_record_view(request: HttpRequest) -> HttpResponse:
    """The sampler's page (phone): the sampling's data, the tags scanned, the photos taken
    and uploaded, the phone's position; then the sample's page to confirm it."""

    if not permissions.may_record_samples(actor_of(request.user)):
        raise PermissionDenied
    form = SampleRecordForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            sample = services.sample_record(actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except AppError as exc:
            form.add_error(None, f"{exc.message}（{exc.code}）")
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("您不能在该项目上记录取样。"))
        else:
            messages.success(
                request, _("已记录取样，样品编码 %(c)s。请确认并请见证人见证。") % {"c": display(sample.code)}
            )
            return redirect("sampling:sample_detail", pk=sample.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "sampling/sample_record.html", {"form": form}, status=status)


@login_required
def handover_view(request: HttpRequest) -> HttpResponse:
    """The deliverer's one-time code (Nanchang 四(四)2), on their phone."""

    if not permissions.may_deliver(actor_of(request.user)):
        raise PermissionDenied
    return render(request, "sampling/handover.html", {"factors": identity_factors(user=cast(User, request.user))})


@login_required
def receive_view(request: HttpRequest) -> HttpResponse:
    """The receiver's page (Nanchang 四(四)2): scan, check, accept or refuse."""

    if not permissions.may_receive_samples(actor_of(request.user)):
        raise PermissionDenied
    return render(request, "sampling/receive.html")


def sample_witness_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The witness record (见证取样记录) of a sealed sample, generated from its records."""

    from .documents import witness_record_pdf

    sample = selectors.sample_get(actor=request.user, pk=pk)
    if sample.status in (SampleStatus.RECORDED, SampleStatus.CONFIRMED):
        raise Http404
    return _pdf(witness_record_pdf(sample), f"witness-{sample.code}.pdf")


# ------------------------------------------------------------------- commissions


class CommissionListView(ObjectListView):
    """The commissions (委托单) in the actor's scope (Nanchang 四(四)1)."""

    filterset_class = CommissionFilterSet
    table_class = CommissionTable
    template_name = "sampling/commission_list.html"
    title = gettext_lazy("检测委托单")
    description = gettext_lazy("送样人填写委托单，送样人和见证人确认；检测机构系统同步接收。")

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.commission_list(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"may_fill": permissions.may_deliver(actor_of(request.user))}


commission_list_view = CommissionListView.as_view()


class CommissionDetailView(ObjectDetailView):
    template_name = "sampling/commission_detail.html"
    context_object_name = "commission"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> Commission:
        return selectors.commission_get(actor=request.user, pk=kwargs["pk"])

    def get_extra_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        may_confirm = permissions.may_confirm_commission(request.user, obj)
        return {
            "may_confirm": may_confirm,
            "factors": identity_factors(user=cast(User, request.user)) if may_confirm else [],
            "confirm_base": f"/api/v1/sampling/commissions/{obj.pk}",
            "lines": [(line, display(line.sample.code)) for line in obj.lines.all()],
        }


commission_detail_view = CommissionDetailView.as_view()


@login_required
def commission_fill_view(request: HttpRequest) -> HttpResponse:
    """The deliverer's commission (Nanchang 四(四)1), on a phone: project and agency,
    then the sealed samples not yet in a commission; then its page to confirm it."""

    if not permissions.may_deliver(actor_of(request.user)):
        raise PermissionDenied
    form = CommissionForm(request.POST or request.GET or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            commission = commissions.commission_fill(
                actor=request.user,
                project=data["project"],
                agency=data["agency"],
                lines=[commissions.LineIn(s, form.parameters_of(s)) for s in data["samples"]],
                notes=data["notes"],
            )
        except AppError as exc:
            form.add_error(None, f"{exc.message}（{exc.code}）")
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("您不能在该项目上填写委托单。"))
        else:
            messages.success(request, _("已填写委托单 %(n)s。请本人确认，再请见证人确认。") % {"n": commission.number})
            return redirect("sampling:commission_detail", pk=commission.pk)
    elif request.method == "GET" and form.is_bound:
        form.errors.clear()  # the first step (project and agency) is not a submission
    status = 400 if request.method == "POST" else 200
    return render(request, "sampling/commission_fill.html", {"form": form}, status=status)


def commission_form_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable commission with the QR of its page (Nanchang 四(四)1)."""

    from .documents import commission_pdf

    commission = selectors.commission_get(actor=request.user, pk=pk)
    return _pdf(commission_pdf(commission), f"commission-{commission.number}.pdf")


# ------------------------------------------------------------------ custody events


def _form_errors(form: Any, call: Any) -> Any:
    """Run a service call for a form; its refusals become the form's errors."""

    try:
        return call()
    except ValidationError as exc:
        apply_validation_error(form, exc)
    except AppError as exc:
        form.add_error(None, f"{exc.message}（{exc.code}）")
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("您不能办理该环节。"))
    return None


@login_required
def batch_record_view(request: HttpRequest) -> HttpResponse:
    """混凝土进场 on the phone (Nanchang 四(一)): the concrete's data, the slump placard
    photo, the position; then the batch's page to confirm it."""

    if not permissions.may_record_samples(actor_of(request.user)):
        raise PermissionDenied
    initial = {"project": request.GET.get("project")} if request.GET.get("project", "").isdigit() else {}
    form = ConcreteBatchForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        batch = _form_errors(form, lambda: custody.batch_record(actor=request.user, **form.service_kwargs()))
        if batch is not None:
            messages.success(request, _("已记录混凝土进场。请确认并请见证人确认。"))
            return redirect("sampling:batch_detail", pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    photo_inputs = [
        ("slump_photos", _("拍摄坍落度检测举牌照片")),
        ("other_photos", _("拍摄其他现场照片（送货单、车辆）")),
    ]
    return render(request, "sampling/batch_record.html", {"form": form, "photo_inputs": photo_inputs}, status=status)


@login_required
def batch_list_view(request: HttpRequest) -> HttpResponse:
    """The concrete batches in the actor's scope, newest first (at most 100)."""

    if not permissions.may_view_samples(actor_of(request.user)):
        raise PermissionDenied
    batches = ConcreteBatch.objects.restrict(request.user).select_related("project").order_by("-arrived_at", "-pk")
    return render(
        request,
        "sampling/batch_list.html",
        {"batches": batches[:100], "may_record": permissions.may_record_samples(actor_of(request.user))},
    )


@login_required
def batch_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = ConcreteBatch.objects.select_related("project", "recorded_by", "witness").reach(request.user, pk=pk)
    may_confirm = permissions.may_confirm_batch(request.user, batch)
    first = not batch.confirmations.exists()
    return render(
        request,
        "sampling/batch_detail.html",
        {
            "batch": batch,
            "may_confirm": may_confirm,
            "factors": identity_factors(user=cast(User, request.user)),
            "confirm_base": f"/api/v1/sampling/concrete-batches/{batch.pk}",
            "confirm_title": _("记录人确认") if first else _("见证人确认"),
            "confirm_hint": _("核对上面的进场信息和坍落度举牌照片，拍一张本人现场照片，再用手机指纹或面容确认。"),
        },
    )


@login_required
def custody_record_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """养护入室 / 养护出室 / 运输交接 of a sealed sample on the phone (Nanchang 四(三)):
    offered only when ``custody.custody_refusal`` has nothing against it."""

    sample = selectors.sample_get(actor=request.user, pk=pk)
    if kind not in CustodyEventKind.values or custody.custody_refusal(request.user, sample, kind) is not None:
        raise PermissionDenied
    form = CustodyEventForm(request.POST or None, actor=request.user, sample=sample, kind=kind)
    if request.method == "POST" and form.is_valid():
        event = _form_errors(
            form, lambda: custody.custody_record(actor=request.user, sample=sample, **form.service_kwargs())
        )
        if event is not None:
            messages.success(request, _("已记录%(k)s。请确认并请对方确认。") % {"k": event.get_kind_display()})
            return redirect("sampling:sample_detail", pk=sample.pk)
    status = 400 if request.method == "POST" else 200
    title = CustodyEventKind(kind).label
    return render(
        request,
        "sampling/custody_record.html",
        {
            "form": form,
            "sample": sample,
            "kind": kind,
            "title": title,
            "code_display": display(sample.code),
            "photo_inputs": [("photos", _("拍摄现场照片"))],
        },
        status=status,
    )


def custody_context(request: HttpRequest, sample: Sample) -> dict[str, Any]:
    """What the sample's page shows of its custody events: the timeline, the events the
    person may record now, the confirm card of the pending event if theirs."""

    events = list(
        sample.custody_events.select_related("recorded_by", "to_person")
        .prefetch_related("confirmations__person", "photos")
        .order_by("at", "pk")
    )
    pending = next((e for e in events if e.confirmed_at is None), None)
    mine = pending is not None and permissions.may_confirm_custody(request.user, pending)
    first = pending is not None and not pending.confirmations.exists()
    return {
        "custody_events": events,
        "custody_actions": [(k, CustodyEventKind(k).label) for k in custody.custody_actions(request.user, sample)],
        "custody_pending": pending if mine else None,
        "confirm_base": f"/api/v1/sampling/custody-events/{pending.pk}" if mine and pending else "",
        "confirm_title": (
            (
                _("记录人确认")
                if first
                else _("接收人确认")
                if pending.kind == CustodyEventKind.TRANSPORT
                else _("见证人确认")
            )
            if mine and pending
            else ""
        ),
        "confirm_hint": _("核对该流转记录和照片，拍一张本人现场照片，再用手机指纹或面容确认。") if mine else "",
    }
