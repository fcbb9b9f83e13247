"""Report scenario builders for tests, browser tests and benchmarks of any app: approved
agencies, projects, stored PDFs and complete submissions, through the real services
(STYLE.md 12)."""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.core.files import file_store
from inspecta.core.models import StoredFile
from inspecta.projects import services as project_services
from inspecta.projects.models import Project
from inspecta.registry import services as registry_services
from inspecta.registry.models import Agency, Staff
from inspecta.registry.testing import CEMENT, CEMENT_MANDATORY, MATERIALS, fill, id_number, register


def pdf_bytes(text: str = "report", width: int = 595, height: int = 842) -> bytes:
    """A small valid PDF (distinct per ``text``)."""

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width, height)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stored_file(organisation_id: int, content: bytes, name: str = "report.pdf") -> StoredFile:
    """A finished upload, as the tus endpoint records it (CONTRACT §4)."""

    return file_store(content, organisation_id=organisation_id, purpose="upload", name=name)


def approved_agency(tree: dict[str, Any], n: int, *, region: str = "440100") -> tuple[Agency, User, dict[str, Any]]:
    """An approved agency with a tester (post certificate, also a signatory), a reviewer
    and a second signatory, calibrated equipment and cement capabilities."""

    agency, admin = register(n, region=region)
    made = fill(agency, admin, seed=n)
    reviewer = registry_services.staff_save(
        actor=admin, agency=agency, data={"name": f"审核人{n}", "id_number": id_number(n * 10 + 7)}
    )
    approver = registry_services.staff_save(
        actor=admin, agency=agency, data={"name": f"批准人{n}", "id_number": id_number(n * 10 + 8)}
    )
    registry_services.signatory_save(
        actor=admin, agency=agency, data={"staff": approver.pk, "scope": [MATERIALS], "site": made["site"].pk}
    )
    registry_services.agency_submit(actor=admin, agency=agency)
    reviewer_user = tree["gz_supervisor"] if region.startswith("4401") else tree["sz_supervisor"]
    agency = registry_services.agency_approve(actor=reviewer_user, agency=agency)
    assert isinstance(reviewer, Staff) and isinstance(approver, Staff)
    made.update(reviewer=reviewer, approver=approver)
    return agency, admin, made


def project_with(
    tree: dict[str, Any], agencies: list[Agency], *, code: str = "P-001", region: str = "440106"
) -> Project:
    actor = tree["gz_supervisor"] if region.startswith("4401") else tree["sz_supervisor"]
    return project_services.project_create(
        actor=actor,
        code=code,
        name=f"测试工程{code}",
        region_code=region,
        address="广州市天河区测试路 1 号",
        longitude="113.33",
        latitude="23.13",
        supervision_number=f"JD-{code}",
        parties=[
            {
                "role": "owner",
                "name": "某建设单位",
                "people": [{"name": "张三", "role": "项目负责人", "mobile": "13800000000"}],
            },
            {"role": "contractor", "name": "某施工单位"},
            *({"role": "agency", "agency_id": a.pk} for a in agencies),
        ],
    )


def submission(
    agency: Agency, made: dict[str, Any], project: Project, number: str = "R-0001", **over: Any
) -> dict[str, Any]:
    """Keyword arguments of ``report_submit`` that pass every check."""

    now = timezone.now()
    today = timezone.localdate()
    pdf = over.pop("pdf", None) or stored_file(agency.organisation_id, pdf_bytes(number))
    data: dict[str, Any] = {
        "agency": agency,
        "project_id": project.pk,
        "report_number": number,
        "test_item": CEMENT,
        "parameters": CEMENT_MANDATORY[:2],
        "conclusion": "qualified",
        "tested_on": today,
        "reported_on": today,
        "delivered_on": today - datetime.timedelta(days=3),
        "commissioning_unit": "某施工单位",
        "commission_number": f"WT-{number}",
        "contractor": "某施工单位",
        "deliverer": "李四",
        "project_part": "一层柱",
        "test_basis": ["GB/T 17671-2021"],
        "environment": "20℃ 50%RH",
        "results": {"IP-0001": "初凝 180 min"},
        "equipment": [made["equipment"].asset_no],
        "site_id": made["site"].pk,
        "pdf_id": pdf.pk,
        "tester_id": made["staff"].pk,
        "tested_at": now - datetime.timedelta(hours=3),
        "reviewer_id": made["reviewer"].pk,
        "reviewed_at": now - datetime.timedelta(hours=2),
        "signatory_id": made["approver"].pk,
        "approved_at": now - datetime.timedelta(hours=1),
    }
    data.update(over)
    return data


def submission_json(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/reports/`` for keyword arguments of ``submission``."""

    body = {k: v for k, v in kwargs.items() if k != "agency"}
    for key, value in list(body.items()):
        if isinstance(value, datetime.datetime | datetime.date):
            body[key] = value.isoformat()
    body["pdf_id"] = str(body["pdf_id"])
    return body


def reporting_scene(tree: dict[str, Any], n: int, *, scopes: list[str] | None = None, **client: Any) -> dict[str, Any]:
    """An approved agency (``approved_agency``) that is a party of a project, with an
    exchange client of it approved with ``scopes`` (default ``reports:submit``) and
    ``client`` keyword arguments of ``exchange.testing.approved_client`` (e.g.
    ``callback_url``): ``{"agency", "admin", "made", "project", "creds"}``."""

    from inspecta.exchange.testing import approved_client

    agency, admin, made = approved_agency(tree, n)
    project = project_with(tree, [agency], code=f"P-{n}")
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=scopes or ["reports:submit"], **client)
    return {"agency": agency, "admin": admin, "made": made, "project": project, "creds": creds}


def report_body(scene: dict[str, Any], number: str, **over: Any) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/reports/`` of a report of ``scene`` that passes
    every check (``over`` changes fields, as in ``submission``)."""

    return submission_json(submission(scene["agency"], scene["made"], scene["project"], number, **over))


def bind_accounts(agency: Agency, admin: User, made: dict[str, Any], n: int) -> dict[str, User]:
    """Give the tester, the reviewer and the signatory of ``approved_agency`` each their
    own account of the agency, bound to their registry record (``Staff.user``):
    ``{"tester", "reviewer", "signatory"}``."""

    from inspecta.accounts.services import user_create
    from inspecta.core.testing.factories import PASSWORD

    accounts: dict[str, User] = {}
    for key, staff, role in (
        ("tester", made["staff"], "tester"),
        ("reviewer", made["reviewer"], "reviewer"),
        ("signatory", made["approver"], "signatory"),
    ):
        user = user_create(
            actor=None,
            username=f"{key}{n}",
            full_name=staff.name,
            organisation=agency.organisation,
            roles=[role],
            password=PASSWORD,
            must_change_password=False,
        )
        registry_services.staff_save(
            actor=admin,
            agency=agency,
            pk=staff.pk,
            data={"name": staff.name, "id_number": staff.id_number, "user": user.pk},
        )
        accounts[key] = user
    return accounts


def signing_scene(tree: dict[str, Any], n: int) -> dict[str, Any]:
    """An approved agency party of a project whose tester, reviewer and signatory are
    each bound to their own account (``bind_accounts``), for the three-level sign-off:
    ``{"agency", "admin", "made", "project", "tester", "reviewer", "signatory"}`` (the
    last three are the accounts)."""

    agency, admin, made = approved_agency(tree, n)
    project = project_with(tree, [agency], code=f"P-{n}")
    accounts = bind_accounts(agency, admin, made, n)
    return {"agency": agency, "admin": admin, "made": made, "project": project, **accounts}


def draft_fields(scene: dict[str, Any], number: str = "R-D001", **over: Any) -> dict[str, Any]:
    """The ``fields`` of ``signoff.draft_prepare`` for ``scene`` (``signing_scene``):
    those of ``submission`` without the PDF and the three times."""

    data = submission(scene["agency"], scene["made"], scene["project"], number, **over)
    for key in ("agency", "pdf_id", "tested_at", "reviewed_at", "approved_at"):
        data.pop(key)
    return data
