"""Every write of reports (STYLE.md 4): submission with checks, numbering and logging;
amendments; revocation; printed date; check configuration.

Sources: T/CECS 4.1.2 (verification, e-signatures), 4.3.3 (logged records); Nanchang
三(一) (report fields, three-level approval, city-wide serial numbers after approval),
三(二) (printed date, no editing, amendments approved by the authority), 三(三);
Guangxi 第十一条-第十三条 (real-time upload, approval trail, change audit trail);
Guangdong 附件2 二(十四) (unified report codes, QR verification).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.models import User
from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_bulk_history
from inspecta.core.counters import sequence_next
from inspecta.core.decisions import DECISION_FIELDS
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.files import file_read, file_store_many
from inspecta.core.models import StoredFile, TestItem, TestItemParameter
from inspecta.ledger.services import log_append, log_append_many
from inspecta.projects.models import Project
from inspecta.registry.models import Agency, Staff

from . import codes, pdfsig, permissions
from .checks import PLATFORM, CheckContext, CheckInput, check_actions, province_of, run_checks, split_failures
from .choices import AmendmentStatus, CheckAction, CheckCode, Conclusion, ReportLogKind, ReportStatus
from .codes import SERIAL_COUNTER
from .models import (
    Amendment,
    CheckRule,
    NonconformanceEntry,
    ProjectItemAgency,
    Report,
    ReportFinding,
    ReportVersion,
)

__all__ = [
    "AMENDABLE_FIELDS",
    "ReportFields",
    "amendment_apply",
    "amendment_approve",
    "amendment_reject",
    "check_rule_set",
    "issuing_region",
    "report_print",
    "report_revoke",
    "report_submit",
    "report_submit_many",
    "serial_issue",
    "serial_issue_many",
    "stamped_copies",
]


class _RequiredReportFields(TypedDict):
    """The fields every submitted report carries (see ``ReportFields``)."""

    project_id: int
    report_number: str
    test_item: str
    parameters: list[str]
    conclusion: str
    tested_on: datetime.date
    reported_on: datetime.date
    pdf_id: Any
    tester_id: int
    tested_at: datetime.datetime
    reviewer_id: int
    reviewed_at: datetime.datetime
    signatory_id: int
    approved_at: datetime.datetime


class ReportFields(_RequiredReportFields, total=False):
    """One submitted report (Nanchang 三(一) fields; Guangxi 第十一条 approval trail): what
    ``report_submit`` takes as keyword arguments and ``report_submit_many`` as each item.
    The API (``api.ReportIn``), the web form (``forms.ReportSubmitForm``) and the batch
    endpoint all build it; optional keys default as in ``_version_data``."""

    delivered_on: datetime.date | None
    commissioning_unit: str
    commission_number: str
    contractor: str
    deliverer: str
    project_part: str
    test_basis: list[str] | None
    environment: str
    results: Any
    equipment: list[str] | None
    site_id: int | None
    samples: list[str] | None


def _require_fields(fields: Mapping[str, Any]) -> None:
    """Missing or unknown fields are a programming error, as a wrong keyword argument."""

    missing = ReportFields.__required_keys__ - fields.keys()
    unknown = fields.keys() - ReportFields.__required_keys__ - ReportFields.__optional_keys__
    if missing or unknown:
        raise TypeError(f"report_submit(): missing {sorted(missing)}, unexpected {sorted(unknown)}")


AMENDABLE_FIELDS = frozenset(
    {
        "report_number",
        "commissioning_unit",
        "commission_number",
        "contractor",
        "deliverer",
        "project_part",
        "test_basis",
        "parameters",
        "environment",
        "delivered_on",
        "tested_on",
        "reported_on",
        "results",
        "conclusion",
        "equipment",
    }
)


def _require_agency_actor(actor: Any, agency: Agency) -> None:
    if not permissions.acts_for_agency(actor, agency):
        raise PermissionDenied(_("只能报送本机构的检测报告。"))


def _require_competent_authority(actor: Any, report: Report) -> None:
    """The authority of the project's region decides amendments and revokes (Nanchang 三(二))."""

    if not permissions.may_decide(actor, report):
        raise PermissionDenied(_("只有项目所在地的主管部门可以审批报告变更或撤销报告。"))


def issuing_region(project: Project) -> str:
    """The region whose counter numbers the report: the project's city (Nanchang 三(一)
    city-wide numbers) or, with ``INSPECTA_REPORT_SERIAL_SCOPE = "province"``, its
    province (Guangdong 附件2 二(十四) province-wide codes)."""

    code = project.region_id
    if settings.INSPECTA_REPORT_SERIAL_SCOPE == "province":
        return code[:2] + "0000"
    return code[:4] + "00"


def serial_issue(*, region_code: str, year: int) -> int:
    """The next serial number of ``region_code`` and ``year`` (CONTRACT §6)."""

    return serial_issue_many(region_code=region_code, year=year, count=1)


def serial_issue_many(*, region_code: str, year: int, count: int) -> int:
    """Take ``count`` consecutive serial numbers of ``region_code`` and ``year``; returns
    the first (CONTRACT §6).

    Must run inside the accepting transaction: the counter row is locked with
    ``SELECT ... FOR UPDATE`` (PostgreSQL; SQLite serialises writers) until commit, so
    concurrent acceptances queue, and a rollback returns the numbers: no gap, no reuse.
    """

    return sequence_next(SERIAL_COUNTER, region_code, year, count=count)


def _read_file(stored: StoredFile) -> bytes:
    return file_read(stored)


def _read_files(files: list[StoredFile]) -> dict[Any, bytes | OSError]:
    """The content of each file by id (an ``OSError`` for one that cannot be read). On a
    remote storage (S3-compatible object storage) the reads of a batch run on a few
    threads, as each is a network round trip; local files are read in turn."""

    from concurrent.futures import ThreadPoolExecutor

    from django.core.files.storage import FileSystemStorage

    unique = list({f.pk: f for f in files}.values())

    def read(stored: StoredFile) -> bytes | OSError:
        try:
            return _read_file(stored)
        except OSError as exc:
            return exc

    if len(unique) <= 1 or isinstance(default_storage, FileSystemStorage):
        return {f.pk: read(f) for f in unique}
    with ThreadPoolExecutor(max_workers=min(8, len(unique))) as pool:
        return dict(zip([f.pk for f in unique], pool.map(read, unique), strict=True))


def _signatures_of(content: bytes) -> list[dict[str, Any]]:
    """pyHanko validation of the PDF's embedded signatures (T/CECS 4.1.2). A PDF
    signature's ``/ByteRange`` must stand in the file's raw bytes (it delimits the
    ``/Contents`` gap in them), so a file without it has no signature to validate and
    skips the parse, which costs far more than everything else of a submission."""

    if b"/ByteRange" not in content and b"/Byte#" not in content:
        return []
    return pdfsig.signature_check(content)


def stamped_copies(versions: list[tuple[Report, int, bytes | OSError | None]]) -> list[StoredFile | None]:
    """The platform-stamped copy of each ``(report, version number, PDF content)``
    (serial number and QR on page 1, Guangdong 附件2 二(十四); Nanchang 三(一)), stored
    once as files of the agency (one INSERT for all): its SHA-256 goes into the version
    and its log entry, so the copy the agency hands out verifies on the public page
    (CONTRACT §6 file check). ``None`` for a PDF that cannot be read or stamped, or is
    over the size limit once stamped (the version keeps its original only)."""

    stamped: list[tuple[int, bytes, str]] = []
    for i, (report, number, content) in enumerate(versions):
        if not isinstance(content, bytes):
            continue
        try:
            data = codes.stamp_pdf(content, code=report.verification_code, serial=report.serial_number)
        except Exception:  # noqa: S112 - a PDF pypdf cannot rewrite is registered without a stamped copy
            continue
        stamped.append((i, data, f"{report.serial_number}-v{number}-stamped.pdf"))
    out: list[StoredFile | None] = [None] * len(versions)
    if not stamped:
        return out
    organisation_id = versions[0][0].agency.organisation_id
    files = file_store_many(
        [(data, name) for _, data, name in stamped], organisation_id=organisation_id, purpose="report"
    )
    for (i, _data, _name), stored in zip(stamped, files, strict=True):
        out[i] = stored if isinstance(stored, StoredFile) else None
    return out


def _require_pdf(stored: StoredFile | None, pdf_id: Any) -> StoredFile:
    """``stored`` (the agency's stored file ``pdf_id``), refused when missing or not a PDF."""

    if stored is None:
        raise AppError(ErrorCode.UNKNOWN_FILE, _("报告文件不存在或不属于本机构：%(f)s。") % {"f": pdf_id})
    if stored.content_type != "application/pdf":
        raise AppError(ErrorCode.NOT_A_PDF, _("报告文件须为 PDF。"))
    return stored


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


@dataclass
class _Submission:
    """One report of a submission on its way through validation, checks and insertion."""

    index: int
    fields: dict[str, Any]
    project: Project | None = None
    test_item: TestItem | None = None
    parameters: list[str] = dc_field(default_factory=list)
    tester: Staff | None = None
    reviewer: Staff | None = None
    signatory: Staff | None = None
    stored: StoredFile | None = None
    check_input: CheckInput | None = None
    flagged: list[Any] = dc_field(default_factory=list)
    signatures: list[dict[str, Any]] = dc_field(default_factory=list)
    error: AppError | None = None
    # the agency already has a ProjectItemAgency row for this project and item
    item_reported: bool = False
    # the PDF's bytes once read (signature validation, stamping)
    content: bytes | OSError | None = None


class _Lookups:
    """The rows a submission refers to, loaded once for all the reports of a call
    (one set-wise query per model)."""

    def __init__(self, actor: Any, agency: Agency, items: Sequence[ReportFields]) -> None:
        project_ids = {p for p in (_as_int(i.get("project_id")) for i in items) if p is not None}
        # only the projects the submitter may see: another's project is refused exactly
        # as a missing one (unknown_project), never by a later check that tells it exists;
        # except in a province that only flags a report of an agency that is not a party
        # (``agency_not_party`` set to flag): there any project of it may be reported on
        self.projects = Project.objects.restrict(actor).in_bulk(project_ids) if project_ids else {}
        unseen = project_ids - set(self.projects)
        if unseen:
            others = Project.objects.in_bulk(unseen)
            actions = check_actions({province_of(p.region_id) for p in others.values()})
            self.projects.update(
                {
                    pk: p
                    for pk, p in others.items()
                    if actions[province_of(p.region_id)][CheckCode.AGENCY_NOT_PARTY] != CheckAction.REJECT
                }
            )
        item_ids = {str(i.get("test_item")) for i in items if i.get("test_item") is not None}
        self.test_items = TestItem.objects.in_bulk(item_ids) if item_ids else {}
        self.parameters = set(
            TestItemParameter.objects.filter(test_item_id__in=self.test_items).values_list(
                "test_item_id", "parameter_id"
            )
        )
        numbers = {i.get("report_number") for i in items if isinstance(i.get("report_number"), str)}
        self.taken = set(
            Report.objects.filter(agency=agency, report_number__in=numbers).values_list("report_number", flat=True)
        )
        staff_ids = {
            s
            for i in items
            for k in ("tester_id", "reviewer_id", "signatory_id")
            if (s := _as_int(i.get(k))) is not None
        }
        self.staff = Staff.objects.filter(agency=agency).in_bulk(staff_ids) if staff_ids else {}
        file_ids = {f for f in (_as_uuid(i.get("pdf_id")) for i in items) if f is not None}
        self.files = (
            StoredFile.objects.filter(organisation_id=agency.organisation_id).in_bulk(file_ids) if file_ids else {}
        )


def _validate(lookups: _Lookups, agency: Agency, s: _Submission) -> None:
    """The refusals that need no check rule (nothing changed; same order for a single
    report and a batch)."""

    f = s.fields
    project = lookups.projects.get(_as_int(f.get("project_id")))  # type: ignore[arg-type]
    if project is None:
        raise AppError(ErrorCode.UNKNOWN_PROJECT, _("工程项目不存在：%(p)s。") % {"p": f.get("project_id")})
    item = lookups.test_items.get(str(f.get("test_item")))
    if item is None:
        raise AppError(ErrorCode.UNKNOWN_TEST_ITEM, _("检测项目不存在：%(i)s。") % {"i": f.get("test_item")})
    parameters = list(dict.fromkeys(f.get("parameters") or []))
    unknown = [p for p in parameters if (item.pk, p) not in lookups.parameters]
    if not parameters or unknown:
        raise AppError(ErrorCode.UNKNOWN_PARAMETER, _("检测参数不属于该检测项目或为空。"), {"parameters": unknown})
    if f.get("conclusion") not in Conclusion.values:
        raise AppError(ErrorCode.INVALID_CONCLUSION, _("检测结论不合法：%(c)s。") % {"c": f.get("conclusion")})
    if f["report_number"] in lookups.taken:
        raise AppError(ErrorCode.REPORT_NUMBER_TAKEN, _("本机构已报送该报告编号：%(n)s。") % {"n": f["report_number"]})
    if f["reported_on"] < f["tested_on"]:
        raise AppError(ErrorCode.INVALID_DATES, _("报告日期不能早于检测日期。"))
    people = []
    for key, label in (("tester_id", _("检测人")), ("reviewer_id", _("审核人")), ("signatory_id", _("批准人"))):
        staff = lookups.staff.get(_as_int(f.get(key)))  # type: ignore[arg-type]
        if staff is None:
            raise AppError(
                ErrorCode.UNKNOWN_STAFF, _("%(l)s不是本机构登记的人员。") % {"l": label}, {"staff": f.get(key)}
            )
        people.append(staff)
    stored = _require_pdf(lookups.files.get(_as_uuid(f.get("pdf_id"))), f.get("pdf_id"))  # type: ignore[arg-type]
    s.project, s.test_item, s.parameters, s.stored = project, item, parameters, stored
    s.tester, s.reviewer, s.signatory = people
    s.check_input = CheckInput(
        agency=agency,
        project=project,
        test_item=item,
        parameters=parameters,
        tested_on=f["tested_on"],
        site_id=f.get("site_id"),
        tester=people[0],
        reviewer=people[1],
        signatory=people[2],
        tested_at=f["tested_at"],
        reviewed_at=f["reviewed_at"],
        approved_at=f["approved_at"],
        equipment=list(f.get("equipment") or []),
        samples=_sample_codes(f.get("samples")),
        conclusion=str(f.get("conclusion") or ""),
        results=f["results"] if isinstance(f.get("results"), dict) else {},
    )


def _sample_codes(raw: Any) -> list[str]:
    """The sample codes a report names, as printed or typed (hyphens, spaces, lower case
    accepted), normalised and de-duplicated in their order."""

    codes: list[str] = []
    for value in raw or []:
        code = str(value).strip().upper().replace("-", "").replace(" ", "")
        if code and code not in codes:
            codes.append(code)
    return codes


def _refusal(rejected: list[Any]) -> AppError:
    """A refusal with the first rejecting failure's error code and every rejecting
    failure (``code``: its error code, ``check``: the check whose rule refused it)."""

    first = rejected[0]
    return AppError(
        ErrorCode(first.error_code),
        first.message,
        {
            "failures": [
                {"code": f.error_code, "check": str(f.code), "message": f.message, **f.details} for f in rejected
            ]
        },
        status=422,
    )


def _known_signatures(stored: list[StoredFile]) -> dict[str, list[dict[str, Any]]]:
    """Signature results already recorded for files of the same content: a stored file
    that was validated once is not parsed again. One query, and one version per digest
    (an index look-up with ``LIMIT 1`` in a subquery), however many versions share a
    file: every version of one content carries the result recorded for it first."""

    from django.db.models import OuterRef, Subquery

    if not stored:
        return {}
    first = ReportVersion.objects.filter(pdf_sha256=OuterRef("sha256")).order_by().values("signatures")[:1]
    known: dict[str, list[dict[str, Any]]] = {}
    for digest, signatures in (
        StoredFile.objects.filter(pk__in={s.pk for s in stored})
        .order_by()
        .annotate(known_signatures=Subquery(first))
        .values_list("sha256", "known_signatures")
    ):
        if signatures is not None:  # None: no version has this content yet
            known.setdefault(digest, signatures)
    return known


def _evaluate(actor: Any, agency: Agency, items: Sequence[ReportFields]) -> list[_Submission]:
    """Validate and check every report of a call against data loaded once; each
    ``_Submission`` ends with ``error`` set (refused) or ready to insert. The steps run
    in this order for a single report and a batch alike, so both refuse alike."""

    subs = [_Submission(index=i, fields=dict(item)) for i, item in enumerate(items)]
    _resolve(agency, subs, _Lookups(actor, agency, items))
    _check(agency, [s for s in subs if s.error is None])
    _verify_signatures([s for s in subs if s.error is None and s.stored is not None])
    _refuse_repeated_numbers(subs)
    return subs


def _resolve(agency: Agency, subs: list[_Submission], lookups: _Lookups) -> None:
    """Resolve each report's ids to the agency's rows and refuse what needs no check
    rule (Nanchang 三(一) report fields; Guangxi 第十一条 approval trail)."""

    for s in subs:
        try:
            _validate(lookups, agency, s)
        except AppError as exc:
            s.error = exc


def _check(agency: Agency, valid: list[_Submission]) -> None:
    """Load the check context once, run the acceptance checks (``checks.py``) and split
    each report's failures into refusals and findings by the province's rule for each
    check (T/CECS 4.3.4; Nanchang 三(一); Guangxi 第十一条)."""

    ctx = CheckContext.load(agency=agency, inputs=[s.check_input for s in valid if s.check_input is not None])
    for s in valid:
        assert s.check_input is not None and s.project is not None
        failures = run_checks(s.check_input, ctx)
        s.item_reported = (s.project.pk, s.check_input.test_item.pk) in ctx.reported_items
        actions = {f.code: ctx.action(f.code, s.project) for f in failures}
        rejected, s.flagged = split_failures(failures, actions)
        if rejected:
            s.error = _refusal(rejected)


def _verify_signatures(passing: list[_Submission]) -> None:
    """The embedded signatures of each report's PDF (T/CECS 4.1.2): recorded results
    reused by content digest, the other files read (a batch's at once) and validated; a
    file that cannot be read refuses its report."""

    known = _known_signatures([s.stored for s in passing if s.stored is not None])
    contents = _read_files([s.stored for s in passing if s.stored is not None and s.stored.sha256 not in known])
    for s in passing:
        assert s.stored is not None
        if s.stored.sha256 in known:
            s.signatures = known[s.stored.sha256]
            continue
        content = s.content = contents.get(s.stored.pk)
        if not isinstance(content, bytes):
            s.error = AppError(ErrorCode.FILE_UNAVAILABLE, _("报告文件无法读取。"))
            continue
        s.signatures = known[s.stored.sha256] = _signatures_of(content)


def _refuse_repeated_numbers(subs: list[_Submission]) -> None:
    """A report number repeated inside the call (Nanchang 三(一): one number per report
    of an agency): the later report is refused as it would be if the reports had been
    sent one by one (the number is checked after these codes)."""

    earlier = {"unknown_project", "unknown_test_item", "unknown_parameter", "invalid_conclusion"}
    accepted_numbers: set[str] = set()
    for s in subs:
        number = s.fields.get("report_number")
        if number in accepted_numbers and (s.error is None or s.error.code not in earlier):
            s.error = AppError(ErrorCode.REPORT_NUMBER_TAKEN, _("本机构已报送该报告编号：%(n)s。") % {"n": number})
        elif s.error is None:
            accepted_numbers.add(number)  # type: ignore[arg-type]


def _version_data(s: _Submission) -> dict[str, Any]:
    f = s.fields
    assert s.test_item is not None
    return {
        "report_number": f["report_number"],
        "commissioning_unit": f.get("commissioning_unit", ""),
        "commission_number": f.get("commission_number", ""),
        "contractor": f.get("contractor", ""),
        "deliverer": f.get("deliverer", ""),
        "project_part": f.get("project_part", ""),
        "test_basis": list(f.get("test_basis") or []),
        "category": s.test_item.specialty_id,
        "test_item": s.test_item.pk,
        "parameters": s.parameters,
        "environment": f.get("environment", ""),
        "delivered_on": _date(f.get("delivered_on")),
        "tested_on": f["tested_on"].isoformat(),
        "reported_on": f["reported_on"].isoformat(),
        "results": f["results"] if f.get("results") is not None else {},
        "conclusion": f["conclusion"],
        "equipment": list(f.get("equipment") or []),
        "site_id": f.get("site_id"),
        # the samples behind the report, by unique code (T/CECS 1.0.1, 3.0.3), when named
        **({"samples": codes} if (codes := _sample_codes(f.get("samples"))) else {}),
    }


def _accept(actor: Any, agency: Agency, subs: list[_Submission]) -> list[Report]:
    """Insert the accepted reports in one transaction: one counter lock per issuing
    region for consecutive serial numbers, bulk inserts of reports (with their audit
    rows), versions, findings, log entries, nonconformance entries and the acceptance
    facts. A failure rolls everything back, serial numbers included (no gap, no reuse)."""

    if not subs:
        return []
    # the PDFs to stamp, read before the serial-number lock is taken
    unread = [s for s in subs if s.content is None and s.stored is not None]
    contents = _read_files([s.stored for s in unread if s.stored is not None])
    for s in unread:
        assert s.stored is not None
        s.content = contents.get(s.stored.pk)
    try:
        return _accept_once(actor, agency, subs)
    except IntegrityError:
        # A concurrent submission took one of the numbers between the look in
        # ``_Lookups`` and the insert: the unique constraint refused the whole
        # transaction (nothing written, no serial number burnt).
        numbers = [s.fields["report_number"] for s in subs]
        taken = set(
            Report.objects.filter(agency=agency, report_number__in=numbers).values_list("report_number", flat=True)
        )
        if not taken:
            raise
        raise _NumbersTaken(taken) from None


class _NumbersTaken(Exception):
    def __init__(self, taken: set[str]) -> None:
        super().__init__(sorted(taken))
        self.taken = taken


def _number_taken(number: str) -> AppError:
    return AppError(ErrorCode.REPORT_NUMBER_TAKEN, _("本机构已报送该报告编号：%(n)s。") % {"n": number})


def _accept_once(actor: Any, agency: Agency, subs: list[_Submission]) -> list[Report]:
    with transaction.atomic():
        now = timezone.now()
        year = timezone.localdate(now).year
        serials = _issue_serials(subs, year)
        reports = _insert_reports(actor, agency, subs, serials, year=year, now=now)
        versions = _insert_versions(reports, subs, now=now)
        _insert_findings(reports, subs)
        entries = log_append_many(kind=ReportLogKind.REPORT_VERSION, records=versions)
        _open_nonconformance(reports, now=now)
        _record_reported_items(agency, reports, subs)
    _attach_fresh(reports, versions, entries, subs)
    return reports


def _issue_serials(subs: list[_Submission], year: int) -> dict[int, tuple[str, int]]:
    """The issuing region and serial number of each report, by its index: consecutive
    numbers per region, taken after approval (Nanchang 三(一); CONTRACT §6)."""

    regions: dict[str, list[_Submission]] = {}
    for s in subs:
        assert s.project is not None
        regions.setdefault(issuing_region(s.project), []).append(s)
    serials: dict[int, tuple[str, int]] = {}
    for region in sorted(regions):  # a fixed lock order: concurrent batches cannot deadlock
        first = serial_issue_many(region_code=region, year=year, count=len(regions[region]))
        for offset, s in enumerate(regions[region]):
            serials[s.index] = (region, first + offset)
    return serials


def _insert_reports(
    actor: Any,
    agency: Agency,
    subs: list[_Submission],
    serials: dict[int, tuple[str, int]],
    *,
    year: int,
    now: datetime.datetime,
) -> list[Report]:
    """The report rows, with their unified code and verification code (Guangdong 附件2
    二(十四)), and their audit rows (Guangxi 第十三条 change audit trail)."""

    who = actor_of(actor)
    reports = []
    for s in subs:
        region, serial_no = serials[s.index]
        assert s.project is not None and s.test_item is not None
        reports.append(
            Report(
                agency=agency,
                project=s.project,
                issuing_region=region,
                year=year,
                serial_no=serial_no,
                serial_number=codes.serial_number(region, year, serial_no),
                verification_code=codes.new_verification_code(),
                report_number=s.fields["report_number"],
                test_item=s.test_item,
                conclusion=s.fields["conclusion"],
                tested_on=s.fields["tested_on"],
                reported_on=s.fields["reported_on"],
                issued_at=now,
                submitted_by=who.user,
                client=who.client,
            )
        )
    Report.objects.bulk_create(reports)
    audit_bulk_history(Report, reports, actor=actor, date=now)
    return reports


def _insert_versions(reports: list[Report], subs: list[_Submission], *, now: datetime.datetime) -> list[ReportVersion]:
    """Version 1 of each report: its fields, file digest, approval trail, signature
    results and platform-stamped copy (Nanchang 三(一); Guangxi 第十一条; T/CECS 4.1.2;
    Guangdong 附件2 二(十四))."""

    stamped = stamped_copies([(report, 1, s.content) for report, s in zip(reports, subs, strict=True)])
    versions = [
        ReportVersion(
            report=report,
            number=1,
            data=_version_data(s),
            pdf=s.stored,
            pdf_sha256=s.stored.sha256 if s.stored else "",
            stamped_pdf=copy,
            stamped_sha256=copy.sha256 if copy is not None else "",
            tester=s.tester,
            tested_at=s.fields["tested_at"],
            reviewer=s.reviewer,
            reviewed_at=s.fields["reviewed_at"],
            signatory=s.signatory,
            approved_at=s.fields["approved_at"],
            signatures=s.signatures,
            created_at=now,
        )
        for report, s, copy in zip(reports, subs, stamped, strict=True)
    ]
    ReportVersion.objects.bulk_create(versions)
    return versions


def _insert_findings(reports: list[Report], subs: list[_Submission]) -> None:
    """The failures of flagging checks, kept on the accepted report (T/CECS 4.3.4)."""

    findings = [
        ReportFinding.of(report, rule=f.code, detail=f.message, details=f.details)
        for report, s in zip(reports, subs, strict=True)
        for f in s.flagged
    ]
    if findings:
        ReportFinding.objects.bulk_create(findings)


def _open_nonconformance(reports: list[Report], *, now: datetime.datetime) -> None:
    """不合格台账: one entry per report with a nonconforming conclusion, as
    ``_nonconformance_open`` opens for an amended one."""

    nonconforming = [
        NonconformanceEntry(
            report=r, project_id=r.project_id, agency_id=r.agency_id, test_item_id=r.test_item_id, created_at=now
        )
        for r in reports
        if r.conclusion == Conclusion.NONCONFORMING
    ]
    if nonconforming:
        NonconformanceEntry.objects.bulk_create(nonconforming)


def _record_reported_items(agency: Agency, reports: list[Report], subs: list[_Submission]) -> None:
    """The fact the "too many agencies" check reads (``checks.CheckContext.load``): the
    agency has reported on this project and item. A concurrent first report of the same
    pair is absorbed by ``ignore_conflicts``."""

    pairs = sorted(
        {(r.project_id, r.test_item_id) for r, sub in zip(reports, subs, strict=True) if not sub.item_reported}
    )
    if pairs:
        ProjectItemAgency.objects.bulk_create(
            [ProjectItemAgency(project_id=p, test_item_id=i, agency_id=agency.pk) for p, i in pairs],
            ignore_conflicts=True,
        )


def _attach_fresh(
    reports: list[Report], versions: list[ReportVersion], entries: list[Any], subs: list[_Submission]
) -> None:
    """What the API answers (``api.report_json``), without reading back what was just
    written: each report's version and findings, each version's log index (T/CECS 4.3.3)."""

    for report, version, s in zip(reports, versions, subs, strict=True):
        report._fresh = {  # type: ignore[attr-defined]
            "versions": [version],
            "findings": [ReportFinding.of(report, rule=f.code, detail=f.message) for f in s.flagged],
        }
    for entry, version in zip(entries, versions, strict=True):
        version._log_index = entry.index  # type: ignore[attr-defined]


BATCH_MAX = 100


def report_submit_many(*, actor: Any, agency: Agency, items: Sequence[ReportFields]) -> list[Report | AppError]:
    """Submit up to ``BATCH_MAX`` reports of one agency in one call (T/CECS
    6.0.6 per-record results): every report is validated and checked exactly as by
    ``report_submit`` (the same code, with the registry, project and catalog rows
    loaded once for all), then the accepted ones are inserted together. Each item
    answers with its ``Report`` or the ``AppError`` that refused it; a refused item
    changes nothing.

    ``items``: what ``report_submit`` takes (``ReportFields``), checked as it is.
    """

    for item in items:
        _require_fields(item)
    _require_agency_actor(actor, agency)
    if len(items) > BATCH_MAX:
        raise AppError(
            ErrorCode.BATCH_TOO_LARGE, _("每批最多报送 %(n)d 份报告。") % {"n": BATCH_MAX}, {"max": BATCH_MAX}
        )
    subs = _evaluate(actor, agency, items)
    while True:
        accepted = [s for s in subs if s.error is None]
        try:
            reports = iter(_accept(actor, agency, accepted))
            break
        except _NumbersTaken as race:  # refused as if the rival had come first
            for s in accepted:
                if s.fields["report_number"] in race.taken:
                    s.error = _number_taken(s.fields["report_number"])
    return [s.error if s.error is not None else next(reports) for s in subs]


def report_submit(*, actor: Any, agency: Agency, **fields: Unpack[ReportFields]) -> Report:
    """Accept a report from an agency's LIMS (signed API) or web form (Nanchang 三(一)):
    validate, run the acceptance checks (``checks.py``), then in one transaction issue
    the serial number and verification code, store version 1, record findings, log the
    version and open a nonconformance entry for a nonconforming conclusion. The same
    code as a batch of one (``report_submit_many``); ``fields`` as ``ReportFields``.

    Refusals raise ``AppError`` (4xx with a stable code) and change nothing.
    """

    (outcome,) = report_submit_many(actor=actor, agency=agency, items=[fields])
    if isinstance(outcome, AppError):
        raise outcome
    return outcome


def _nonconformance_open(report: Report) -> None:
    """不合格台账: one entry per nonconforming report."""

    NonconformanceEntry.objects.get_or_create(
        report=report,
        defaults={"project_id": report.project_id, "agency_id": report.agency_id, "test_item_id": report.test_item_id},
    )


def _touch(report: Report) -> None:
    """The report's amendments changed while its row did not: put it at the end of the
    change feed (``updated_at``) without an audit row of its own (the amendment has
    one). A change of the row itself sets ``updated_at`` in its save (``auto_now``)."""

    report.updated_at = timezone.now()
    Report.objects.filter(pk=report.pk).update(updated_at=report.updated_at)


@transaction.atomic
def report_print(*, actor: Any, report: Report, printed_at: datetime.datetime | None = None) -> Report:
    """The agency reports when it printed the report (Nanchang 三(二)). Audited."""

    _require_agency_actor(actor, report.agency)
    if report.status == ReportStatus.REVOKED:
        raise AppError(ErrorCode.REPORT_REVOKED, _("报告已撤销。"))
    moment = printed_at or timezone.now()
    if moment < report.issued_at or moment > timezone.now() + datetime.timedelta(minutes=5):
        raise AppError(ErrorCode.INVALID_PRINTED_AT, _("打印时间须在发号之后且不晚于当前时间。"))
    report.printed_at = moment
    report.save(update_fields=["printed_at", "updated_at"])
    return report


@transaction.atomic
def amendment_apply(
    *, actor: Any, report: Report, reason: str, data: dict[str, Any] | None = None, pdf_id: Any = None
) -> Amendment:
    """The agency applies to amend an accepted report (Nanchang 三(二); Guangxi 第十三条):
    reasons plus new data and/or a new file. Logged as ``report_amendment``."""

    _require_agency_actor(actor, report.agency)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.REVOKED:
        raise AppError(ErrorCode.REPORT_REVOKED, _("报告已撤销，不能变更。"))
    if report.amendments.filter(status=AmendmentStatus.PENDING).exists():
        raise AppError(ErrorCode.AMENDMENT_PENDING, _("该报告已有待审批的变更申请。"))
    if not reason or not reason.strip():
        raise AppError(ErrorCode.REASON_REQUIRED, _("请填写变更理由。"))
    data = dict(data or {})
    unknown = sorted(set(data) - AMENDABLE_FIELDS)
    if unknown:
        raise AppError(ErrorCode.FIELD_NOT_AMENDABLE, _("以下字段不可变更：%(f)s。") % {"f": "、".join(unknown)})
    if "conclusion" in data and data["conclusion"] not in Conclusion.values:
        raise AppError(ErrorCode.INVALID_CONCLUSION, _("检测结论不合法。"))
    _check_amended_values(report, data)
    if not data and pdf_id is None:
        raise AppError(ErrorCode.NOTHING_TO_AMEND, _("请提供变更后的内容或报告文件。"))
    stored = None
    if pdf_id is not None:  # its signatures are validated when the amendment is approved
        stored = _require_pdf(
            StoredFile.objects.filter(pk=pdf_id, organisation_id=report.agency.organisation_id).first(), pdf_id
        )
        try:
            _read_file(stored)
        except OSError as exc:
            raise AppError(ErrorCode.FILE_UNAVAILABLE, _("报告文件无法读取。")) from exc
    amendment = Amendment.objects.create(
        report=report,
        reason=reason.strip(),
        data=data,
        pdf=stored,
        pdf_sha256=stored.sha256 if stored else "",
        applied_by=actor_of(actor).user,
    )
    _touch(report)
    log_append(kind=ReportLogKind.REPORT_AMENDMENT, record=amendment)
    return amendment


def _check_amended_values(report: Report, data: dict[str, Any]) -> None:
    """What the amended version would hold must be as valid as a submission: dates in
    ISO form and in order, a report number the agency has not used on another report."""

    current = report.versions.order_by("-number").values_list("data", flat=True).first() or {}
    merged = {**current, **data}
    dates: dict[str, datetime.date] = {}
    for key in ("delivered_on", "tested_on", "reported_on"):
        value = merged.get(key)
        if value in (None, ""):
            continue
        try:
            dates[key] = datetime.date.fromisoformat(str(value))
        except ValueError:
            raise AppError(ErrorCode.INVALID_DATES, _("日期格式应为 YYYY-MM-DD：%(f)s。") % {"f": key}) from None
    if "tested_on" in dates and "reported_on" in dates and dates["reported_on"] < dates["tested_on"]:
        raise AppError(ErrorCode.INVALID_DATES, _("报告日期不能早于检测日期。"))
    number = data.get("report_number")
    if number is not None:
        if not isinstance(number, str) or not number.strip() or len(number) > 64:
            raise AppError(ErrorCode.INVALID_INPUT, _("报告编号不合法。"), status=400)
        taken = Report.objects.filter(agency_id=report.agency_id, report_number=number).exclude(pk=report.pk)
        if taken.exists():
            raise AppError(ErrorCode.REPORT_NUMBER_TAKEN, _("本机构已报送该报告编号：%(n)s。") % {"n": number})


@transaction.atomic
def amendment_approve(*, actor: User, amendment: Amendment, reason: str = "") -> ReportVersion:
    """The competent authority approves: a new version (same serial number, next version
    number); the old version stays readable, marked superseded (Nanchang 三(二))."""

    amendment = Amendment.objects.select_for_update().select_related("report__project").get(pk=amendment.pk)
    report = amendment.report
    _require_competent_authority(actor, report)
    if amendment.status != AmendmentStatus.PENDING:
        raise AppError(ErrorCode.AMENDMENT_DECIDED, _("该变更申请已审批。"))
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.REVOKED:
        raise AppError(ErrorCode.REPORT_REVOKED, _("报告已撤销。"))
    old = report.versions.order_by("-number").first()
    assert old is not None
    now = timezone.now()
    data = {**old.data, **amendment.data}
    signatures = old.signatures
    pdf, pdf_sha = old.pdf, old.pdf_sha256
    if amendment.pdf is not None:
        pdf, pdf_sha = amendment.pdf, amendment.pdf_sha256
        signatures = _signatures_of(_read_file(amendment.pdf))
    try:
        content: bytes | OSError = _read_file(pdf)
    except OSError as exc:
        content = exc
    (copy,) = stamped_copies([(report, old.number + 1, content)])
    version = ReportVersion.objects.create(
        report=report,
        number=old.number + 1,
        data=data,
        pdf=pdf,
        pdf_sha256=pdf_sha,
        stamped_pdf=copy,
        stamped_sha256=copy.sha256 if copy is not None else "",
        tester_id=old.tester_id,
        tested_at=old.tested_at,
        reviewer_id=old.reviewer_id,
        reviewed_at=old.reviewed_at,
        signatory_id=old.signatory_id,
        approved_at=old.approved_at,
        signatures=signatures,
        amendment=amendment,
        created_at=now,
    )
    ReportVersion.objects.filter(pk=old.pk).update(superseded_at=now)
    amendment.approve(actor, reason)
    amendment.save(update_fields=DECISION_FIELDS)
    report.status = ReportStatus.AMENDED
    report.version_count = version.number
    report.report_number = data.get("report_number", report.report_number)
    report.conclusion = data.get("conclusion", report.conclusion)
    if data.get("tested_on"):
        report.tested_on = datetime.date.fromisoformat(data["tested_on"])
    if data.get("reported_on"):
        report.reported_on = datetime.date.fromisoformat(data["reported_on"])
    try:
        with transaction.atomic():
            report.save(
                update_fields=[
                    "status",
                    "version_count",
                    "report_number",
                    "conclusion",
                    "tested_on",
                    "reported_on",
                    "updated_at",
                ]
            )
    except IntegrityError:  # the number was taken by another report since the request
        raise _number_taken(report.report_number) from None
    log_append(kind=ReportLogKind.REPORT_VERSION, record=version)
    log_append(kind=ReportLogKind.REPORT_AMENDMENT, record=amendment)
    if report.conclusion == Conclusion.NONCONFORMING:
        _nonconformance_open(report)
    return version


@transaction.atomic
def amendment_reject(*, actor: User, amendment: Amendment, reason: str) -> Amendment:
    """The competent authority rejects, with reasons; the report's content is unchanged
    (it comes again in the change feed, with the rejected amendment)."""

    amendment = Amendment.objects.select_for_update().select_related("report__project").get(pk=amendment.pk)
    _require_competent_authority(actor, amendment.report)
    if amendment.status != AmendmentStatus.PENDING:
        raise AppError(ErrorCode.AMENDMENT_DECIDED, _("该变更申请已审批。"))
    if not reason or not reason.strip():
        raise AppError(ErrorCode.REASON_REQUIRED, _("驳回须填写理由。"))
    amendment.reject(actor, reason)
    amendment.save(update_fields=DECISION_FIELDS)
    _touch(amendment.report)
    log_append(kind=ReportLogKind.REPORT_AMENDMENT, record=amendment)
    return amendment


@transaction.atomic
def report_revoke(*, actor: User, report: Report, reason: str) -> Report:
    """An authority revokes a report with reasons (Nanchang 三(二); Guangxi 第十三条).
    Logged as ``report_revocation``."""

    report = Report.objects.select_for_update().select_related("project").get(pk=report.pk)
    _require_competent_authority(actor, report)
    if report.status == ReportStatus.REVOKED:
        raise AppError(ErrorCode.REPORT_REVOKED, _("报告已撤销。"))
    if not reason or not reason.strip():
        raise AppError(ErrorCode.REASON_REQUIRED, _("撤销须填写理由。"))
    report.status = ReportStatus.REVOKED
    report.revoked_at = timezone.now()
    report.revoke_reason = reason.strip()
    report.revoked_by = actor
    report.save(update_fields=["status", "revoked_at", "revoke_reason", "revoked_by", "updated_at"])
    log_append(kind=ReportLogKind.REPORT_REVOCATION, record=report)
    return report


@transaction.atomic
def check_rule_set(*, actor: User, code: str, action: str, province: str | None = None) -> CheckRule:
    """The province decides whether a check rejects or flags reports on its projects: a province authority admin sets its own province's rule; an
    operator sets ``province``'s, or the platform-wide rule without one. The change is
    audited (``CheckRule.history``: who, when, before and after)."""

    if not permissions.may_change_check_rules(actor):
        raise PermissionDenied(_("只有省级主管部门管理员可以配置本省的报告接收检查规则。"))
    own = actor_of(actor)
    if own.is_operator:
        target = province if province is not None else PLATFORM
    elif province in (None, province_of(own.region_code)):
        target = province_of(own.region_code)
    else:
        raise PermissionDenied(_("只有省级主管部门管理员可以配置本省的报告接收检查规则。"))
    if code not in CheckCode.values or action not in CheckAction.values:
        raise AppError(ErrorCode.INVALID_CHECK_RULE, _("检查项或处理方式不合法。"))
    if target and (len(target) != 6 or not target.isdigit() or not target.endswith("0000")):
        raise AppError(ErrorCode.INVALID_CHECK_RULE, _("检查项或处理方式不合法。"))
    rule = CheckRule.objects.select_for_update().filter(province=target, code=code).first()
    if rule is None:
        rule = CheckRule(province=target, code=code)
    elif rule.action == action:
        return rule
    rule.action = action
    rule.updated_by = actor
    rule.save()
    return rule
