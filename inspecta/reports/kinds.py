"""Log kinds of reports (CONTRACT §5; T/CECS 4.1.2, 4.3.3): ``report_version`` (each version
with the SHA-256 of the PDF and of its platform-stamped copy, and the approval trail by
staff id), ``report_amendment`` (every
application and decision) and ``report_revocation`` (the revoked report as
``reports.revocation``: serial number, time and the revoking authority; the reason stays
on the report). No names or verification codes: the log is public and the code is the
key to the public page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from inspecta.ledger.registry import Rendered, Subject, register_kind

from .choices import ReportLogKind
from .models import Amendment, Report, ReportVersion


def _time(value: object) -> str | None:
    from inspecta.ledger.services import format_time

    return format_time(value) if value is not None else None  # type: ignore[arg-type]


def render_report_version(v: ReportVersion) -> Rendered:
    report = v.report
    return Rendered(
        {
            "report": report.pk,
            "version": v.number,
            "serial_number": report.serial_number,
            "agency": report.agency_id,
            "project": report.project_id,
            "report_number": v.data.get("report_number", ""),
            "test_item": v.data.get("test_item", ""),
            "parameters": v.data.get("parameters", []),
            "conclusion": v.data.get("conclusion", ""),
            "tested_on": v.data.get("tested_on", ""),
            "reported_on": v.data.get("reported_on", ""),
            "tester": v.tester_id,
            "tested_at": _time(v.tested_at),
            "reviewer": v.reviewer_id,
            "reviewed_at": _time(v.reviewed_at),
            "signatory": v.signatory_id,
            "approved_at": _time(v.approved_at),
            "amendment": v.amendment_id,
        },
        files=_version_files(v),
    )


def _version_files(v: ReportVersion) -> tuple[tuple[str, dict[str, str]], ...]:
    """The PDF as submitted and, when the version has one, the platform-stamped copy
    (``report-stamped.pdf``) the agency hands out: both hashes are in the entry's
    ``files`` (CONTRACT §5), so either copy is proven by the log. A version registered
    before stamped copies were kept has only the first, as its entry was written."""

    files: tuple[tuple[str, dict[str, str]], ...] = (("report.pdf", {"sha256": v.pdf_sha256}),)
    if v.stamped_sha256:
        files += (("report-stamped.pdf", {"sha256": v.stamped_sha256}),)
    return files


def render_amendment(a: Amendment) -> Rendered:
    files = (("report.pdf", {"sha256": a.pdf_sha256}),) if a.pdf_sha256 else ()
    return Rendered(
        {
            "report": a.report_id,
            "status": a.status,
            "changed_fields": sorted(a.data.keys()),
            "applied_at": _time(a.applied_at),
            "decided_at": _time(a.decided_at),
        },
        files=files,
    )


def render_revocation(report: Report) -> Rendered:
    """A revoked report, as ``report_revoke`` has logged it since revocations were first
    logged (so every existing entry still verifies): a report revoked and reinstated by
    hand renders ``revoked_at`` as ``None`` and no longer matches."""

    revoked_by = report.revoked_by
    return Rendered(
        {
            "report": report.pk,
            "serial_number": report.serial_number,
            "revoked_at": _time(report.revoked_at),
            "authority": revoked_by.organisation_id if revoked_by is not None else None,
        }
    )


def describe_report(report: Report) -> Subject:
    """A report by its number, on its page (the log explorer)."""
    return Subject(
        _("报告 %(number)s（流水号 %(serial)s）") % {"number": report.report_number, "serial": report.serial_number},
        reverse("reports:report_detail", args=[report.pk]),
    )


def describe_report_version(version: ReportVersion) -> Subject:
    report = version.report
    return Subject(
        _("报告 %(number)s 第 %(version)s 版") % {"number": report.report_number, "version": version.number},
        reverse("reports:report_detail", args=[report.pk]),
        # the first version is the submission; later ones follow an amendment (its history)
        by=(report.submitted_by or report.client) if version.number == 1 else None,
    )


def describe_amendment(amendment: Amendment) -> Subject:
    report = amendment.report
    return Subject(
        _("报告 %(number)s 的变更申请") % {"number": report.report_number},
        reverse("reports:report_detail", args=[report.pk]),
    )


register_kind(ReportLogKind.REPORT_VERSION, render=render_report_version, describe=describe_report_version)
register_kind(ReportLogKind.REPORT_AMENDMENT, render=render_amendment, describe=describe_amendment)
register_kind(
    ReportLogKind.REPORT_REVOCATION,
    render=render_revocation,
    record_type="reports.revocation",
    model=Report,
    describe=describe_report,
)
