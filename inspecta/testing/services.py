"""Every write of test data (T/CECS 2.0.7-2.0.9, 3.0.3; Guangxi 第七条(二)(三)(八),
第十一条, 第十三条).

* ``test_record_upload_many``: up to ``BATCH_MAX`` records of one agency at once (its
  LIMS over the signed API, T/CECS 6.0.6 per-record answers), each checked on its own:
  a refused record changes nothing, the accepted ones are stored together with their
  first revision and one log entry each. ``test_record_upload`` is a batch of one.
* ``test_record_revise``: a change after the first upload is a new revision with its
  reason, who and when; the earlier revisions stay readable.

A record is checked against the chain and the registry as it is stored: a lab record
names a sample that this agency received, of the same test item, tested after its
receipt; an on-site record names a filed plan of this agency for the same item, one of
its testers, and the place; the tester holds a post certificate of the item's specialty
valid on the test date; every piece of equipment is registered, in service and
calibrated on that date (the report checks' own readings, ``registry.models``,
``reports.checks.equipment_failure``); the parameters are the item's (the catalog),
each once, and the conclusion agrees with their judgements.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_bulk_history, audit_stamp
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.models import StoredFile, TestItem, TestItemParameter
from inspecta.ledger.services import log_append, log_append_many
from inspecta.projects.choices import PlanStatus
from inspecta.projects.models import InspectionPlan
from inspecta.registry.models import Agency, Equipment, PostCertificate, Site, Staff, certificate_covers
from inspecta.reports.checks import EQUIPMENT_MESSAGES, equipment_failure
from inspecta.sampling import codes as sample_codes
from inspecta.sampling.choices import SampleStatus
from inspecta.sampling.models import Sample
from inspecta.sampling.public import in_force

from .canonical import BODY_FIELDS, body_sha256, record_body
from .choices import Judgement, MediaKind, TestingLogKind, TestKind, ValueSource
from .models import TestRecord, TestRecordFile, TestRecordRevision
from .overdue import late_findings, manual_findings
from .permissions import may_revise, may_upload_tests

__all__ = [
    "BATCH_MAX",
    "CLOCK_SKEW",
    "REVISABLE",
    "FileFields",
    "ParameterFields",
    "RecordFields",
    "instant",
    "record_fields",
    "require_uploader",
    "test_record_revise",
    "test_record_upload",
    "test_record_upload_many",
]

BATCH_MAX = 100
"""Records per batch (the exchange API's batch limit, T/CECS 6.0.6)."""

CLOCK_SKEW = datetime.timedelta(minutes=5)
"""How far in the future a test's end may lie (the LIMS's clock against ours)."""

REVISABLE = frozenset(
    {
        "test_item",
        "site_id",
        "tester_id",
        "equipment",
        "started_at",
        "ended_at",
        "temperature_c",
        "humidity_pct",
        "latitude",
        "longitude",
        "standard",
        "parameters",
        "conclusion",
        "files",
    }
)
"""What a revision may change. What the record is about (its number, kind, sample or
plan) never changes: a record of another sample is another record."""


class ParameterFields(TypedDict):
    """One parameter's data: the catalog code, unit, raw values per specimen, result,
    limit of the standard, judgement (``Judgement``) and source (``ValueSource``)."""

    parameter: str
    unit: str
    values: list[str]
    result: str
    limit: str
    judgement: str
    source: str


class FileFields(TypedDict):
    """A key image or clip: a stored file (tus upload or page) and what it shows."""

    id: uuid.UUID
    kind: str
    caption: NotRequired[str]


class RecordFields(TypedDict, total=False):
    """What an upload carries (the API's ``TestRecordIn``; the page's form)."""

    number: str
    kind: str
    sample: str
    plan_id: int | None
    test_item: str
    site_id: int | None
    tester_id: int
    equipment: list[str]
    started_at: datetime.datetime
    ended_at: datetime.datetime
    temperature_c: Decimal | None
    humidity_pct: Decimal | None
    latitude: Decimal | None
    longitude: Decimal | None
    standard: str
    parameters: list[ParameterFields]
    conclusion: str
    files: list[FileFields]


@dataclass
class _Context:
    """What the checks read, loaded once for a batch with set-wise queries (one per kind
    of fact), so a batch of 100 costs about as many queries as one record."""

    agency: Agency
    actor: Any
    items: dict[str, TestItem] = field(default_factory=dict)
    item_parameters: dict[str, set[str]] = field(default_factory=dict)
    samples: dict[str, Sample] = field(default_factory=dict)
    plans: dict[int, InspectionPlan] = field(default_factory=dict)
    plan_testers: dict[int, set[int]] = field(default_factory=dict)
    staff: dict[int, Staff] = field(default_factory=dict)
    certificates: dict[int, list[tuple[str, datetime.date | None, datetime.date]]] = field(default_factory=dict)
    equipment: dict[str, Equipment] = field(default_factory=dict)
    sites: set[int] = field(default_factory=set)
    files: dict[uuid.UUID, StoredFile] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, *, actor: Any, agency: Agency, items: Sequence[RecordFields]) -> _Context:
        ctx = cls(agency=agency, actor=actor)
        codes = {str(i.get("test_item", "")) for i in items}
        ctx.items = {t.pk: t for t in TestItem.objects.filter(pk__in=codes)}
        for item_id, parameter_id in TestItemParameter.objects.filter(test_item_id__in=ctx.items).values_list(
            "test_item_id", "parameter_id"
        ):
            ctx.item_parameters.setdefault(item_id, set()).add(parameter_id)
        sample_codes_given = {sample_codes.normalise(str(i.get("sample") or "")) for i in items} - {""}
        if sample_codes_given:
            ctx.samples = {
                s.code: s
                for s in Sample.objects.filter(agency=agency, code__in=sample_codes_given).select_related(
                    "receipt", "project"
                )
            }
        plan_ids = {int(i.get("plan_id") or 0) for i in items} - {0}
        if plan_ids:
            ctx.plans = {
                p.pk: p for p in InspectionPlan.objects.filter(agency=agency, pk__in=plan_ids).select_related("project")
            }
            for plan_id, staff_id in InspectionPlan.testers.through.objects.filter(
                inspectionplan_id__in=ctx.plans
            ).values_list("inspectionplan_id", "staff_id"):
                ctx.plan_testers.setdefault(plan_id, set()).add(staff_id)
        staff_ids = {int(i["tester_id"]) for i in items if i.get("tester_id")}
        ctx.staff = {s.pk: s for s in Staff.objects.filter(agency=agency, pk__in=staff_ids)}
        for staff_id, category_id, issued_on, valid_until in PostCertificate.objects.filter(
            staff_id__in=ctx.staff
        ).values_list("staff_id", "category_id", "issued_on", "valid_until"):
            ctx.certificates.setdefault(staff_id, []).append((category_id, issued_on, valid_until))
        assets = {a for i in items for a in i.get("equipment", [])}
        if assets:
            ctx.equipment = {e.asset_no: e for e in Equipment.objects.filter(agency=agency, asset_no__in=assets)}
        site_ids = {int(i.get("site_id") or 0) for i in items} - {0}
        if site_ids:
            ctx.sites = set(Site.objects.filter(agency=agency, pk__in=site_ids).values_list("pk", flat=True))
        file_ids = {f["id"] for i in items for f in i.get("files", [])}
        if file_ids:
            ctx.files = {f.pk: f for f in StoredFile.objects.restrict(actor, "change").filter(pk__in=file_ids)}
        numbers = {str(i.get("number", "")) for i in items}
        ctx.numbers = set(TestRecord.objects.filter(agency=agency, number__in=numbers).values_list("number", flat=True))
        return ctx


def require_uploader(actor: Any, agency: Agency) -> None:
    who = actor_of(actor)
    if not may_upload_tests(who) or who.organisation is None or who.organisation.pk != agency.organisation_id:
        raise PermissionDenied(_("只有本检测机构的检测人员、管理员或其检测管理系统可以上传检测数据。"))


def _refuse(code: ErrorCode, message: str, **details: Any) -> AppError:
    return AppError(code, message, details or None)


def _subject(ctx: _Context, f: RecordFields, item: TestItem) -> dict[str, Any]:
    """The sample or plan a record is about, and so its project: a lab record's sample
    was received by this agency and is of this item; an on-site record's plan is this
    agency's, filed (not cancelled), of this item, and names the tester."""

    kind = f.get("kind")
    if kind == TestKind.LAB:
        if f.get("plan_id"):
            raise _refuse(ErrorCode.TEST_PLAN_INVALID, _("室内检测数据不关联现场检测方案。"))
        code = sample_codes.normalise(str(f.get("sample") or ""))
        sample = ctx.samples.get(code)
        if sample is None:
            raise _refuse(
                ErrorCode.TEST_SAMPLE_INVALID,
                _("样品不存在或不是送本机构检测的样品：%(c)s。") % {"c": f.get("sample") or "—"},
                sample=f.get("sample") or "",
            )
        if sample.status != SampleStatus.RECEIVED:
            raise _refuse(
                ErrorCode.TEST_SAMPLE_INVALID,
                _("样品 %(c)s 尚未经本机构收样，不能上传检测数据。") % {"c": sample_codes.display(sample.code)},
                sample=sample.code,
                status=sample.status,
            )
        if sample.test_item_id != item.pk:
            raise _refuse(
                ErrorCode.TEST_SAMPLE_INVALID,
                _("样品 %(c)s 的检测项目是 %(i)s，与检测数据不一致。")
                % {"c": sample_codes.display(sample.code), "i": sample.test_item_id},
                sample=sample.code,
                test_item=sample.test_item_id,
            )
        received_at = sample.receipt.received_at
        if f["started_at"] < received_at:
            raise _refuse(
                ErrorCode.TEST_TIMES_INVALID,
                _("检测开始时间早于样品的收样时间（%(t)s）。")
                % {"t": timezone.localtime(received_at).strftime("%Y-%m-%d %H:%M")},
                received_at=received_at.isoformat(),
            )
        return {"kind": TestKind.LAB, "sample": sample, "plan": None, "project": sample.project}
    if kind == TestKind.ONSITE:
        if f.get("sample"):
            raise _refuse(ErrorCode.TEST_SAMPLE_INVALID, _("现场检测数据不关联样品，请填写现场检测方案。"))
        plan = ctx.plans.get(int(f.get("plan_id") or 0))
        if plan is None:
            raise _refuse(
                ErrorCode.TEST_PLAN_INVALID,
                _("现场检测方案不存在或不是本机构的方案：%(p)s。") % {"p": f.get("plan_id") or "—"},
                plan=f.get("plan_id"),
            )
        if plan.status != PlanStatus.FILED:
            raise _refuse(ErrorCode.TEST_PLAN_INVALID, _("现场检测方案已取消，不能上传检测数据。"), plan=plan.pk)
        if plan.test_item_id != item.pk:
            raise _refuse(
                ErrorCode.TEST_PLAN_INVALID,
                _("现场检测方案的检测项目是 %(i)s，与检测数据不一致。") % {"i": plan.test_item_id},
                plan=plan.pk,
                test_item=plan.test_item_id,
            )
        if int(f.get("tester_id") or 0) not in ctx.plan_testers.get(plan.pk, set()):
            raise _refuse(ErrorCode.TEST_PLAN_INVALID, _("检测人员不在现场检测方案所列的检测人员中。"), plan=plan.pk)
        if f.get("latitude") is None or f.get("longitude") is None:
            raise _refuse(ErrorCode.LOCATION_REQUIRED, _("现场检测数据须有检测位置（经纬度）。"))
        return {"kind": TestKind.ONSITE, "sample": None, "plan": plan, "project": plan.project}
    raise _refuse(ErrorCode.VALIDATION_FAILED, _("检测类别只能是室内检测（lab）或现场检测（onsite）。"), kind=kind)


def _parameters(ctx: _Context, f: RecordFields, item: TestItem) -> list[dict[str, Any]]:
    """The parameters as stored: the item's own (the catalog), each once, with a known
    judgement and source, and the conclusion agreeing with the judgements."""

    given = f.get("parameters") or []
    if not given:
        raise _refuse(ErrorCode.TEST_PARAMETER_INVALID, _("请至少填写一个检测参数的数据。"))
    allowed = ctx.item_parameters.get(item.pk, set())
    stored: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, p in enumerate(given):
        code = str(p.get("parameter", ""))
        if code not in allowed:
            raise _refuse(
                ErrorCode.TEST_PARAMETER_INVALID,
                _("参数 %(p)s 不是检测项目 %(i)s 的参数。") % {"p": code or "—", "i": item.pk},
                index=index,
                parameter=code,
            )
        if code in seen:
            raise _refuse(
                ErrorCode.TEST_PARAMETER_INVALID, _("参数 %(p)s 重复。") % {"p": code}, index=index, parameter=code
            )
        seen.add(code)
        if p.get("judgement") not in Judgement.values or p.get("source") not in ValueSource.values:
            raise _refuse(
                ErrorCode.TEST_PARAMETER_INVALID,
                _("参数 %(p)s 的判定或数据来源不正确。") % {"p": code},
                index=index,
                parameter=code,
            )
        stored.append(
            {
                "parameter": code,
                "unit": str(p.get("unit", "")),
                "values": [str(v) for v in p.get("values", [])],
                "result": str(p.get("result", "")),
                "limit": str(p.get("limit", "")),
                "judgement": str(p["judgement"]),
                "source": str(p["source"]),
            }
        )
    conclusion = f.get("conclusion")
    failed = [p["parameter"] for p in stored if p["judgement"] == Judgement.NONCONFORMING]
    if conclusion not in Judgement.values:
        raise _refuse(ErrorCode.TEST_PARAMETER_INVALID, _("检测结论只能是合格、不合格或不作判定。"))
    if failed and conclusion != Judgement.NONCONFORMING:
        raise _refuse(
            ErrorCode.TEST_PARAMETER_INVALID,
            _("参数 %(p)s 判定不合格，检测结论却不是不合格。") % {"p": "、".join(failed)},
            parameters=failed,
        )
    if conclusion == Judgement.NONCONFORMING and not failed:
        raise _refuse(ErrorCode.TEST_PARAMETER_INVALID, _("检测结论为不合格，但没有判定不合格的参数。"))
    return stored


def _tester(ctx: _Context, f: RecordFields, item: TestItem, day: datetime.date) -> Staff:
    staff = ctx.staff.get(int(f.get("tester_id") or 0))
    if staff is None:
        raise _refuse(ErrorCode.UNKNOWN_STAFF, _("检测人员不是本机构登记的人员：%(s)s。") % {"s": f.get("tester_id")})
    certified = any(
        certificate_covers(category, issued_on, valid_until, specialty_id=item.specialty_id, day=day)
        for category, issued_on, valid_until in ctx.certificates.get(staff.pk, ())
    )
    if not staff.active or not certified:
        raise _refuse(
            ErrorCode.TESTER_CERTIFICATE_INVALID,
            _("检测人员在检测日期没有该类别的有效上岗证。"),
            tester=staff.pk,
            category=item.specialty_id,
            tested_on=day.isoformat(),
        )
    return staff


def _equipment(ctx: _Context, f: RecordFields, day: datetime.date) -> list[str]:
    assets = [str(a) for a in f.get("equipment", [])]
    if len(set(assets)) != len(assets):
        raise _refuse(ErrorCode.VALIDATION_FAILED, _("仪器设备编号重复。"))
    for asset_no in assets:
        cause = equipment_failure(ctx.equipment.get(asset_no), day)
        if cause:
            raise _refuse(
                ErrorCode(cause), EQUIPMENT_MESSAGES[ErrorCode(cause)] % {"e": asset_no}, equipment=[asset_no]
            )
    return assets


def _files(ctx: _Context, f: RecordFields) -> list[tuple[StoredFile, str, str]]:
    out: list[tuple[StoredFile, str, str]] = []
    for given in f.get("files", []):
        stored = ctx.files.get(given["id"])
        if stored is None:
            raise _refuse(ErrorCode.UNKNOWN_FILE, _("文件不存在：%(id)s。") % {"id": given["id"]})
        kind = given.get("kind")
        wanted = "image/" if kind == MediaKind.IMAGE else "video/" if kind == MediaKind.CLIP else None
        if wanted is None or not stored.content_type.startswith(wanted):
            raise _refuse(
                ErrorCode.UNSUPPORTED_FILE_TYPE,
                _("文件 %(n)s 不是%(k)s。")
                % {"n": stored.original_name or stored.pk, "k": MediaKind(kind).label if wanted else _("图像或视频")},
                file=str(stored.pk),
            )
        out.append((stored, str(kind), str(given.get("caption", ""))[:200]))
    return out


EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
"""No test on the platform is older than this: an earlier time is a typing error."""


def instant(value: datetime.datetime) -> datetime.datetime:
    """``value`` in UTC, refused (``test_times_invalid``) outside 2000 to the end of the
    calendar, whatever its offset (RFC 3339 allows ±23:59)."""

    try:
        utc = value.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or utc < EARLIEST:
        raise _refuse(ErrorCode.TEST_TIMES_INVALID, _("时间超出合理范围：%(t)s。") % {"t": value.isoformat()})
    return utc


TENTH = Decimal("0.1")
MICRO = Decimal("0.000001")


def _quantised(value: Any, step: Decimal) -> Decimal | None:
    """``value`` with the column's decimal places, as it reads back from the database:
    the canonical form hashed at upload is the one re-rendered later."""

    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(step)
    except ArithmeticError:
        raise _refuse(ErrorCode.VALIDATION_FAILED, _("数值格式不正确：%(v)s。") % {"v": value}) from None


@dataclass
class _Evaluated:
    values: dict[str, Any]
    files: list[tuple[StoredFile, str, str]]


def _evaluate(ctx: _Context, f: RecordFields) -> _Evaluated:
    """The model values of one record, or the ``AppError`` that refuses it."""

    item = ctx.items.get(str(f.get("test_item", "")))
    if item is None:
        raise _refuse(ErrorCode.UNKNOWN_TEST_ITEM, _("检测项目编码不存在：%(c)s。") % {"c": f.get("test_item", "")})
    started, ended = instant(f["started_at"]), instant(f["ended_at"])
    if ended < started:
        raise _refuse(ErrorCode.TEST_TIMES_INVALID, _("检测结束时间早于开始时间。"))
    if ended > timezone.now() + CLOCK_SKEW:
        raise _refuse(ErrorCode.TEST_TIMES_INVALID, _("检测结束时间晚于当前时间。"))
    day = timezone.localdate(started)
    subject = _subject(ctx, f, item)
    site_id = f.get("site_id")
    if site_id and int(site_id) not in ctx.sites:
        raise _refuse(ErrorCode.VALIDATION_FAILED, _("检测场所不是本机构登记的场所：%(s)s。") % {"s": site_id})
    values = {
        "agency": ctx.agency,
        "project": subject["project"],
        "number": str(f.get("number", "")).strip(),
        "kind": subject["kind"],
        "sample": subject["sample"],
        "plan": subject["plan"],
        "test_item": item,
        "site_id": int(site_id) if site_id else None,
        "tester": _tester(ctx, f, item, day),
        "equipment": _equipment(ctx, f, day),
        "started_at": started,
        "ended_at": ended,
        "temperature_c": _quantised(f.get("temperature_c"), TENTH),
        "humidity_pct": _quantised(f.get("humidity_pct"), TENTH),
        "latitude": _quantised(f.get("latitude"), MICRO),
        "longitude": _quantised(f.get("longitude"), MICRO),
        "standard": str(f.get("standard", "")).strip(),
        "parameters": _parameters(ctx, f, item),
        "conclusion": f.get("conclusion"),
    }
    if not values["number"]:
        raise _refuse(ErrorCode.VALIDATION_FAILED, _("请填写原始记录编号。"))
    if not values["standard"]:
        raise _refuse(ErrorCode.VALIDATION_FAILED, _("请填写检测依据（标准）。"))
    return _Evaluated(values, _files(ctx, f))


def _exists(number: str) -> AppError:
    return _refuse(
        ErrorCode.TEST_RECORD_EXISTS,
        _("本机构已上传原始记录编号为 %(n)s 的检测数据；修改请提交修订。") % {"n": number},
        number=number,
    )


class _NumbersTaken(Exception):
    def __init__(self, taken: set[str]) -> None:
        self.taken = taken


def _store(actor: Any, accepted: list[_Evaluated]) -> list[TestRecord]:
    """Insert the accepted records, their files, first revisions, audit rows and log
    entries, in one savepoint; a number taken meanwhile by a concurrent upload rolls the
    savepoint back and names the numbers (``_NumbersTaken``)."""

    if not accepted:
        return []
    now = timezone.now()
    who = actor_of(actor)
    records: list[TestRecord] = []
    files: list[TestRecordFile] = []
    revisions: list[TestRecordRevision] = []
    for e in accepted:  # the canonical form names no row id: it is hashed before the insert
        record = TestRecord(uploaded_at=now, updated_at=now, **e.values)
        rows = [
            TestRecordFile(record=record, file=stored, kind=kind, sha256=stored.sha256, caption=caption)
            for stored, kind, caption in e.files
        ]
        body = record_body(record, rows)
        record.sha256 = body_sha256(body)
        records.append(record)
        files.extend(rows)
        revisions.append(
            TestRecordRevision(
                record=record,
                number=1,
                body=body,
                sha256=record.sha256,
                changed=[],
                by=who.user,
                client=who.client,
                at=now,
            )
        )
    try:
        with transaction.atomic():
            TestRecord.objects.bulk_create(records)
    except IntegrityError:
        numbers = [str(e.values["number"]) for e in accepted]
        taken = set(
            TestRecord.objects.filter(agency=accepted[0].values["agency"], number__in=numbers).values_list(
                "number", flat=True
            )
        )
        if not taken:
            raise
        raise _NumbersTaken(taken) from None
    TestRecordFile.objects.bulk_create(files)
    TestRecordRevision.objects.bulk_create(revisions)
    audit_bulk_history(TestRecord, records, actor=actor)
    if files:
        audit_bulk_history(TestRecordFile, files, actor=actor)
    log_append_many(kind=TestingLogKind.TEST_RECORD, records=records)
    late_findings(records)
    manual_findings(records)
    return records


@transaction.atomic
def test_record_upload_many(
    *, actor: Any, agency: Agency, items: Sequence[RecordFields]
) -> list[TestRecord | AppError]:
    """Upload up to ``BATCH_MAX`` test records of ``agency``; each answers with its
    ``TestRecord`` or the ``AppError`` that refused it (a refused record changes nothing).
    Refuses the whole call when ``actor`` may not upload for ``agency`` or the batch is
    too large."""

    require_uploader(actor, agency)
    if len(items) > BATCH_MAX:
        raise AppError(
            ErrorCode.BATCH_TOO_LARGE, _("每批最多上传 %(n)d 条检测数据。") % {"n": BATCH_MAX}, {"max": BATCH_MAX}
        )
    ctx = _Context.load(actor=actor, agency=agency, items=items)
    outcomes: list[_Evaluated | AppError] = []
    numbers: set[str] = set(ctx.numbers)
    for f in items:
        try:
            evaluated = _evaluate(ctx, f)
        except AppError as exc:
            outcomes.append(exc)
            continue
        number = str(evaluated.values["number"])
        if number in numbers:
            outcomes.append(_exists(number))
            continue
        numbers.add(number)
        outcomes.append(evaluated)
    while True:
        accepted = [o for o in outcomes if isinstance(o, _Evaluated)]
        try:
            stored = iter(_store(actor, accepted))
            break
        except _NumbersTaken as race:  # refused as if the rival had come first
            outcomes = [
                _exists(str(o.values["number"]))
                if isinstance(o, _Evaluated) and o.values["number"] in race.taken
                else o
                for o in outcomes
            ]
    return [next(stored) if isinstance(o, _Evaluated) else o for o in outcomes]


def test_record_upload(*, actor: Any, agency: Agency, **fields: Any) -> TestRecord:
    """Upload one test record (``RecordFields``): a batch of one. Refusals raise
    ``AppError`` and change nothing."""

    (outcome,) = test_record_upload_many(actor=actor, agency=agency, items=[RecordFields(**fields)])  # type: ignore[typeddict-item]
    if isinstance(outcome, AppError):
        raise outcome
    return outcome


def record_fields(record: TestRecord) -> RecordFields:
    """The record as an upload would carry it (what a revision changes)."""

    return RecordFields(
        number=record.number,
        kind=record.kind,
        sample=record.sample.code if record.sample_id else "",  # type: ignore[union-attr]
        plan_id=record.plan_id,
        test_item=record.test_item_id,
        site_id=record.site_id,
        tester_id=record.tester_id,
        equipment=list(record.equipment),
        started_at=record.started_at,
        ended_at=record.ended_at,
        temperature_c=record.temperature_c,
        humidity_pct=record.humidity_pct,
        latitude=record.latitude,
        longitude=record.longitude,
        standard=record.standard,
        parameters=list(record.parameters),
        conclusion=record.conclusion,
        files=[],
    )


@transaction.atomic
def test_record_revise(
    *, actor: Any, record: TestRecord, reason: str, amendment_id: int | None = None, **changes: Any
) -> TestRecord:
    """Change an uploaded record (Guangxi 第七条(八), 第十三条): checked as an upload, then
    a new revision with the changed fields, the reason, who and when, and a new log
    entry; ``files`` in ``changes`` are added to the record's. The earlier revisions stay
    as they were.

    Once a report in force names the record's sample, the record changes only through
    the report's amendment: the revision cites (``amendment_id``) an amendment of such a
    report that the authority approved, once per record (``test_record_locked`` without
    one, ``test_amendment_invalid`` for any other)."""

    record = TestRecord.objects.select_for_update().get(pk=record.pk)
    if not may_revise(actor, record):
        raise PermissionDenied(_("只有检测该数据的检测机构可以修订检测数据。"))
    amendment = _amendment_cited(record, amendment_id) if amendment_id is not None else None
    if amendment is None and record.sample is not None and in_force(record.sample.code, record.sample):
        raise AppError(
            ErrorCode.TEST_RECORD_LOCKED,
            _(
                "该样品的检测报告已出具，检测数据只能依据已批准的报告变更修订：请先申请报告变更，批准后在修订中注明该变更。"
            ),
            {"sample": record.sample.code},
        )
    reason = (reason or "").strip()
    if not reason:
        raise AppError(ErrorCode.REASON_REQUIRED, _("请填写修改原因。"))
    unknown = sorted(set(changes) - REVISABLE)
    if unknown:
        raise AppError(
            ErrorCode.FIELD_NOT_UPDATABLE,
            _("以下字段不可修改：%(f)s。") % {"f": "、".join(unknown)},
            {"fields": unknown},
        )
    fields = record_fields(record) | RecordFields(**changes)  # type: ignore[typeddict-item]
    agency = record.agency
    ctx = _Context.load(actor=actor, agency=agency, items=[fields])
    evaluated = _evaluate(ctx, fields)
    before = record_body(record)
    for name, value in evaluated.values.items():
        setattr(record, name, value)
    existing = list(record.files.order_by("pk"))
    added = [
        TestRecordFile(
            record=record, file=stored, kind=kind, sha256=stored.sha256, caption=caption, revision=record.revision + 1
        )
        for stored, kind, caption in evaluated.files
        if stored.pk not in {f.file_id for f in existing}
    ]
    after = record_body(record, [*existing, *added])
    changed = [name for name in BODY_FIELDS if before.get(name) != after.get(name)]
    if not changed:
        raise AppError(ErrorCode.NOTHING_TO_AMEND, _("没有要修改的内容。"))
    now = timezone.now()
    record.revision += 1
    record.sha256 = body_sha256(after)
    record.updated_at = now
    audit_stamp(record, actor, reason)
    record.save()
    for row in added:
        audit_stamp(row, actor, reason)
        row.save()
    who = actor_of(actor)
    TestRecordRevision.objects.create(
        record=record,
        number=record.revision,
        body=after,
        sha256=record.sha256,
        changed=changed,
        reason=reason[:500],
        by=who.user,
        client=who.client,
        at=now,
        amendment=amendment,
    )
    log_append(kind=TestingLogKind.TEST_RECORD, record=record)
    manual_findings([record])
    return record


def _amendment_cited(record: TestRecord, amendment_id: int) -> Any:
    """The approved amendment ``amendment_id`` of a report of the record's agency whose
    current version names the record's sample, not cited by the record before;
    ``test_amendment_invalid`` otherwise (the answer does not say which)."""

    from inspecta.reports.choices import AmendmentStatus
    from inspecta.reports.models import Amendment

    amendment = (
        Amendment.objects.select_related("report")
        .filter(pk=amendment_id, status=AmendmentStatus.APPROVED, report__agency_id=record.agency_id)
        .first()
    )
    names = (
        amendment is not None
        and record.sample is not None
        and record.sample.code in (amendment.report.current_version().data.get("samples") or [])
    )
    if not names or TestRecordRevision.objects.filter(record=record, amendment=amendment).exists():
        raise AppError(
            ErrorCode.TEST_AMENDMENT_INVALID,
            _("注明的报告变更不存在、未获批准、与该检测数据的样品无关，或已用于修订该检测数据。"),
            {"amendment": amendment_id},
        )
    return amendment
