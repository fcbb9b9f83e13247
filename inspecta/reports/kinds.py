"""Log kinds of reports (CONTRACT §5; T/CECS 4.1.2, 4.3.3): ``report_version`` (each version
with the PDF's SHA-256 and the approval trail by staff id), ``report_amendment`` (every
application and decision) and ``report_revocation``. No names or verification codes:
the log is public and the code is the key to the public page."""

from __future__ import annotations

from inspecta.ledger.registry import Rendered, register_kind

from .models import Amendment, ReportVersion


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
        files=(("report.pdf", {"sha256": v.pdf_sha256}),),
    )


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


register_kind("report_version", render=render_report_version, label="报告版本")
register_kind("report_amendment", render=render_amendment, label="报告变更")
