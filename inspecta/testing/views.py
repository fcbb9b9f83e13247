"""The pages of test data (T/CECS 4.3.4-4/-5: supervisors query test records by region,
agency, project, item, result and time, with the values and the curve beside them;
Guangxi 第十三条: every revision readable with its reason)."""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from inspecta.core.generic import ObjectDetailView, ObjectListView
from inspecta.core.models import Parameter
from inspecta.ledger.selectors import entry_for_record
from inspecta.sampling.codes import display

from . import selectors
from .canonical import BODY_FIELDS
from .choices import Judgement
from .filtersets import TestRecordFilterSet
from .models import TestRecord
from .tables import TestRecordTable


class RecordListView(ObjectListView):
    """The test records in the actor's scope."""

    filterset_class = TestRecordFilterSet
    table_class = TestRecordTable
    template_name = "testing/record_list.html"
    per_page = 25  # a screen of records; the table's cells cost more than the queries at 10M rows
    title = gettext_lazy("检测数据")
    description = gettext_lazy("检测机构上传的室内和现场检测原始数据：参数、原始值、设备、人员、环境和修订记录。")

    def get_queryset(self, request: HttpRequest) -> Any:
        return selectors.record_list(actor=request.user)

    def get_extra_context(self, request: HttpRequest) -> dict[str, Any]:
        return {"query": request.GET.urlencode()}


record_list_view = RecordListView.as_view()


@login_required
def record_export_view(request: HttpRequest) -> HttpResponse:
    """The filtered records as an Excel workbook, with their pass rates on a second sheet."""

    from openpyxl import Workbook

    _filterset, rows = selectors.record_rows(request.user, request.GET, request=request)
    wb = Workbook()
    ws = wb.active
    ws.title = "检测数据"
    ws.append(
        ["原始记录编号", "类别", "检测机构", "工程项目", "检测项目", "样品", "检测开始", "检测结束", "结论", "修订次数"]
    )
    for r in rows[:50000]:
        ws.append(
            [
                r.number,
                r.get_kind_display(),
                r.agency.name,
                r.project.name,
                r.test_item.name,
                display(r.sample.code) if r.sample is not None else "",
                timezone.localtime(r.started_at).replace(tzinfo=None),
                timezone.localtime(r.ended_at).replace(tzinfo=None),
                r.get_conclusion_display(),
                r.revision - 1,
            ]
        )
    stats = wb.create_sheet("合格率")
    stats.append(["检测机构", "检测项目", "检测数据", "不合格", "合格率"])
    for g in selectors.pass_rates(rows):
        stats.append([g["agency__name"], g["test_item__name"], g["total"], g["failed"], round(g["rate"], 4)])
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="test-records.xlsx"'
    return response


@login_required
def record_stats_view(request: HttpRequest) -> HttpResponse:
    """Pass rates per agency and test item of the records in scope, filtered as the list."""

    filterset, rows = selectors.record_rows(request.user, request.GET, request=request)
    groups = selectors.pass_rates(rows)
    return render(
        request,
        "testing/record_stats.html",
        {
            "form": filterset.form,
            "filterset": filterset,
            "groups": groups,
            "total": sum(g["total"] for g in groups),
            "failed": sum(g["failed"] for g in groups),
            "query": request.GET.urlencode(),
        },
        status=400 if filterset.is_bound and not filterset.is_valid() else 200,
    )


FIELD_LABELS = {
    name: getattr(TestRecord._meta.get_field(name), "verbose_name", name) for name in BODY_FIELDS if name != "files"
} | {"files": gettext_lazy("检测图像/视频")}


def _time(value: str) -> str:
    try:
        return timezone.localtime(datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
    except (AttributeError, ValueError):
        return str(value)


def _parameter(p: dict[str, Any], names: dict[str, str]) -> str:
    judgement = Judgement(p["judgement"]).label if p.get("judgement") in Judgement.values else p.get("judgement")
    return (
        f"{names.get(p['parameter'], p['parameter'])}：{' / '.join(p.get('values', []))} {p.get('unit', '')}".strip()
        + (f"，{p.get('result', '')}（{judgement}）")
    )


def _shown(name: str, value: Any, names: dict[str, str], other: Any = None) -> str:
    """A field of a revision's canonical form as a person reads it; of the parameters,
    only those that differ from ``other`` (the value on the other side)."""

    if value in (None, "", []):
        return "—"
    if name == "parameters":
        theirs = {p["parameter"]: p for p in other or []}
        changed = [p for p in value if theirs.get(p["parameter"]) != p]
        return "；".join(_parameter(p, names) for p in changed) or "—"
    if name in ("started_at", "ended_at"):
        return _time(value)
    if name == "conclusion":
        return str(Judgement(value).label) if value in Judgement.values else str(value)
    if name == "files":
        return "、".join(f.get("caption") or f["sha256"][:12] for f in value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _changes(revisions: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Each revision with the fields it changed, before and after (Guangxi 第十三条),
    the latest first."""

    out: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    for r in revisions:
        fields = []
        for name in r.changed:
            old, new = before.get(name), r.body.get(name)
            fields.append(
                {
                    "label": FIELD_LABELS.get(name, name),
                    "before": _shown(name, old, names, new),
                    "after": _shown(name, new, names, old),
                }
            )
        out.append({"revision": r, "fields": fields})
        before = r.body
    return list(reversed(out))


class RecordDetailView(ObjectDetailView):
    template_name = "testing/record_detail.html"
    context_object_name = "record"

    def get_object(self, request: HttpRequest, **kwargs: Any) -> TestRecord:
        return selectors.record_get(actor=request.user, pk=kwargs["pk"])

    def get_extra_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        revisions = list(obj.revisions.all())
        codes = {p["parameter"] for r in revisions for p in r.body.get("parameters", [])}
        names = dict(Parameter.objects.filter(pk__in=codes).values_list("pk", "name"))
        entry = entry_for_record(obj)
        curves = selectors.record_curves(actor=request.user, record=obj)
        missing = {c["parameter"] for c in curves} - set(names)
        if missing:
            names |= dict(Parameter.objects.filter(pk__in=missing).values_list("pk", "name"))
        for c in curves:
            c["name"] = names.get(c["parameter"], c["parameter"])
        return {
            "sample_code": display(obj.sample.code) if obj.sample is not None else "",
            "parameters": [p | {"name": names.get(p["parameter"], p["parameter"])} for p in obj.parameters],
            "changes": _changes(revisions, names),
            "log_index": entry.index if entry is not None else None,
            "curves": curves,
        }


record_detail_view = RecordDetailView.as_view()
