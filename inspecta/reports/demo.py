"""Demo projects, contracts and reports; idempotent: a second run adds nothing.

Run after ``inspecta.core.demo.demo_load`` and ``inspecta.registry.demo.registry_demo_load``:
two projects in 广州 (天河区, 越秀区) supervised by the 广州 station, with their parties
and a contract of 广州建科; three accepted reports of 广州建科: one qualified (with an
amendment waiting for the supervisor), one nonconforming (so the nonconformance ledger
has an entry) and one amended (an approved amendment, two versions); a web-prepared
draft waiting for its tester. Without the registry demo it does nothing.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from inspecta.accounts.choices import Role
from inspecta.accounts.models import Organisation, User
from inspecta.core.choices import ParameterLevel
from inspecta.core.files import file_store
from inspecta.core.models import StoredFile, TestItemParameter
from inspecta.projects import services as project_services
from inspecta.projects.models import Contract, Project
from inspecta.registry.models import Agency, Equipment, Staff

from . import services
from .models import Report

ITEM = "OBJ-SP01-P1"


def _pdf(organisation_id: int, title: str) -> StoredFile:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return file_store(out.getvalue(), organisation_id=organisation_id, purpose="report", name=f"{title}.pdf")


@transaction.atomic
def reports_demo_load() -> dict[str, int]:
    """Create the demo projects and reports that are missing; returns counts added."""

    added = {"projects": 0, "contracts": 0, "reports": 0, "signers": 0, "drafts": 0, "amendments": 0}
    supervisor = User.objects.filter(username="gz_supervisor", is_active=True).first()
    agency = Agency.objects.filter(organisation__users__username="gz_agency").select_related("organisation").first()
    agency2 = Agency.objects.filter(organisation__users__username="gz_agency2").first()
    if supervisor is None or agency is None or not agency.may_operate:
        return added
    admin = User.objects.get(username="gz_agency")
    projects, added["projects"] = _projects(supervisor, agency, agency2)
    added["contracts"] = _contract(admin, agency, projects[0])
    staff = list(Staff.objects.filter(agency=agency).order_by("pk"))
    if len(staff) < 3:
        return added
    added["reports"] = _reports(admin, supervisor, agency, projects[0], staff)
    added["signers"] = _signers(admin, agency, staff)
    added["drafts"] = _draft(admin, agency, projects[0], staff)
    added["amendments"] = _pending_amendment(admin, agency)
    return added


SIGNERS = (
    # username, role, index in the agency's staff (as in ``_report_fields``)
    ("gz_tester", Role.TESTER, 1),
    ("gz_reviewer", Role.REVIEWER, 2),
    ("gz_signatory", Role.SIGNATORY, 0),
)


def _signers(admin: User, agency: Agency, staff: list[Staff]) -> int:
    """An account for 广州建科's tester, reviewer and authorised signatory, bound to
    their registry records (``Staff.user``), so each signs off web-prepared reports
    (``signoff``); returns how many accounts were added."""

    from inspecta.accounts.services import user_create
    from inspecta.core.demo import DEMO_PASSWORD
    from inspecta.registry import services as registry_services

    added = 0
    for username, role, index in SIGNERS:
        person = staff[index]
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                actor=None,
                username=username,
                full_name=person.name,
                organisation=agency.organisation,
                roles=[role],
                password=DEMO_PASSWORD,
                must_change_password=False,
                is_demo=True,
            )
            added += 1
        if person.user_id is None:
            registry_services.staff_save(
                actor=admin,
                agency=agency,
                pk=person.pk,
                data={"name": person.name, "id_number": person.id_number, "user": user.pk},
            )
    return added


DRAFT = "GZJK-2026-SN-0004"


def _draft(admin: User, agency: Agency, project: Project, staff: list[Staff]) -> int:
    """One web-prepared report of 广州建科 waiting for its tester's sign-off; returns 1
    when added."""

    from .models import ReportDraft
    from .signoff import draft_prepare

    if ReportDraft.objects.filter(agency=agency, report_number=DRAFT).exists():
        return 0
    today, now = timezone.localdate(), timezone.now()
    fields: dict[str, Any] = dict(_report_fields(agency, project, staff, DRAFT, "qualified", today=today, now=now))
    pdf = StoredFile.objects.get(pk=fields.pop("pdf_id"))
    for key in ("tested_at", "reviewed_at", "approved_at"):
        fields.pop(key)
    draft_prepare(actor=admin, agency=agency, fields=fields, pdf=pdf)
    return 1


def demo_logins() -> list[Any]:
    """The sign-off accounts' logins (no second factor)."""

    from inspecta.core.demo import DemoLogin

    logins = []
    for username, role, _index in SIGNERS:
        user = User.objects.filter(username=username).select_related("organisation").first()
        if user is not None:
            logins.append(DemoLogin(username, user.full_name, user.organisation.name, str(role.label), False))
    return logins


PROJECTS = (
    # code, name, region, address
    ("DEMO-GZ-001", "天河区某安置房项目（一期）", "440106", "广州市天河区华观路 1 号"),
    ("DEMO-GZ-002", "越秀区某学校教学楼改建工程", "440104", "广州市越秀区德政北路 20 号"),
)


def _projects(supervisor: User, agency: Agency, agency2: Agency | None) -> tuple[list[Project], int]:
    """The two 广州 projects, created by the 广州 supervisor under the 广州 station with
    their parties (the demo agencies among them); returns them and how many were added."""

    station = Organisation.objects.filter(kind="station", region_id="440100").first()
    projects: list[Project] = []
    added = 0
    for code, name, region, address in PROJECTS:
        project = Project.objects.filter(code=code).first()
        if project is None:
            project = project_services.project_create(
                actor=supervisor,
                code=code,
                name=name,
                region_code=region,
                address=address,
                longitude="113.350000",
                latitude="23.150000",
                supervision_number=f"JD{code[-3:]}-2026",
                station_id=station.pk if station is not None else None,
                parties=_parties(agency, agency2),
            )
            added += 1
        projects.append(project)
    return projects, added


PARTY_ORGANISATIONS = (
    ("广东某建筑工程有限公司", "contractor"),
    ("广州某工程监理有限公司", "supervising_firm"),
)


def party_organisations() -> list[Organisation]:
    """The demo contractor and supervising firm, with accounts on the platform (their
    samplers and witnesses sign in: ``sampling.demo``)."""

    from inspecta.accounts.services import organisation_create
    from inspecta.core.models import Region

    found = []
    for name, kind in PARTY_ORGANISATIONS:
        org = Organisation.objects.filter(name=name, kind=kind).first()
        if org is None:
            org = organisation_create(actor=None, name=name, kind=kind, region=Region.objects.get(pk="440106"))
        found.append(org)
    return found


def _parties(agency: Agency, agency2: Agency | None) -> list[dict[str, Any]]:
    """A demo project's owner, contractor and supervising firm with their people, and
    the demo agencies."""

    contractor, firm = party_organisations()
    parties: list[dict[str, Any]] = [
        {
            "role": "owner",
            "name": "广州某城市更新投资有限公司",
            "people": [{"name": "陈明", "role": "项目负责人"}],
        },
        {
            "role": "contractor",
            "name": contractor.name,
            "organisation_id": contractor.pk,
            "people": [{"name": "周强", "role": "取样人"}],
        },
        {
            "role": "supervising_firm",
            "name": firm.name,
            "organisation_id": firm.pk,
            "people": [{"name": "吴芳", "role": "见证人"}],
        },
        {"role": "agency", "agency_id": agency.pk},
    ]
    if agency2 is not None:
        parties.append({"role": "agency", "agency_id": agency2.pk})
    return parties


def _contract(admin: User, agency: Agency, project: Project) -> int:
    """广州建科's contract for ``ITEM`` on the first project; returns 1 when added."""

    if Contract.objects.filter(agency=agency, number="GZJK-HT-2026-001").exists():
        return 0
    today = timezone.localdate()
    project_services.contract_upload(
        actor=admin,
        agency=agency,
        project=project,
        number="GZJK-HT-2026-001",
        client_name="广州某城市更新投资有限公司",
        amount="186000.00",
        signed_on=today - datetime.timedelta(days=30),
        valid_from=today - datetime.timedelta(days=30),
        valid_until=today + datetime.timedelta(days=335),
        test_items=[ITEM],
        scan_id=_pdf(agency.organisation_id, "检测合同").pk,
    )
    return 1


REPORTS = (
    # report number, conclusion, amended
    ("GZJK-2026-SN-0001", "qualified", False),
    ("GZJK-2026-SN-0002", "nonconforming", False),
    ("GZJK-2026-SN-0003", "qualified", True),
)


def _reports(admin: User, supervisor: User, agency: Agency, project: Project, staff: list[Staff]) -> int:
    """广州建科's three reports on ``project`` (the third amended and approved); returns
    how many were added."""

    added = 0
    today, now = timezone.localdate(), timezone.now()
    for number, conclusion, amend in REPORTS:
        if Report.objects.filter(agency=agency, report_number=number).exists():
            continue
        report = services.report_submit(
            actor=admin,
            agency=agency,
            **_report_fields(agency, project, staff, number, conclusion, today=today, now=now),
        )
        added += 1
        if amend:
            _amend(admin, supervisor, report, number)
    return added


def _report_fields(
    agency: Agency,
    project: Project,
    staff: list[Staff],
    number: str,
    conclusion: str,
    *,
    today: datetime.date,
    now: datetime.datetime,
) -> services.ReportFields:
    """Report ``number``: the item's first two mandatory parameters, the agency's first
    three staff as signatory, tester and reviewer, its equipment for the item."""

    signatory, tester, reviewer = staff[0], staff[1], staff[2]
    equipment = Equipment.objects.filter(agency=agency, test_items=ITEM).order_by("pk").first()
    mandatory = list(
        TestItemParameter.objects.filter(test_item_id=ITEM, level=ParameterLevel.MANDATORY)
        .order_by("pk")
        .values_list("parameter_id", flat=True)[:2]
    )
    return services.ReportFields(
        project_id=project.pk,
        report_number=number,
        test_item=ITEM,
        parameters=mandatory,
        conclusion=conclusion,
        tested_on=today,
        reported_on=today,
        delivered_on=today - datetime.timedelta(days=3),
        commissioning_unit="广东某建筑工程有限公司",
        commission_number=number.replace("SN", "WT"),
        contractor="广东某建筑工程有限公司",
        deliverer="周强",
        project_part="3# 楼基础",
        test_basis=["GB/T 1346-2011", "GB/T 17671-2021"],
        environment="温度 20℃，湿度 50%",
        results={"凝结时间": "初凝 165 min，终凝 230 min"},
        equipment=[equipment.asset_no] if equipment else [],
        pdf_id=_pdf(agency.organisation_id, number).pk,
        tester_id=tester.pk,
        tested_at=now - datetime.timedelta(hours=5),
        reviewer_id=reviewer.pk,
        reviewed_at=now - datetime.timedelta(hours=3),
        signatory_id=signatory.pk,
        approved_at=now - datetime.timedelta(hours=2),
    )


def _amend(admin: User, supervisor: User, report: Report, number: str) -> None:
    """An amendment of the project part with a new file, applied by the agency and
    approved by the 广州 supervisor (two versions)."""

    amendment = services.amendment_apply(
        actor=admin,
        report=report,
        reason="工程部位填写有误，更正为 3# 楼地下室底板",
        data={"project_part": "3# 楼地下室底板"},
        pdf_id=_pdf(report.agency.organisation_id, number + "-v2").pk,
    )
    services.amendment_approve(actor=supervisor, amendment=amendment, reason="核实无误，同意变更")


def _pending_amendment(admin: User, agency: Agency) -> int:
    """An amendment of 广州建科's first report that waits for the 广州 supervisor's
    decision, so the supervisor's home has something to act on; returns 1 when added."""

    report = Report.objects.filter(agency=agency, report_number=REPORTS[0][0]).first()
    if report is None or report.amendments.exists():
        return 0
    services.amendment_apply(
        actor=admin,
        report=report,
        reason="委托编号录入有误，申请更正",
        data={"commission_number": REPORTS[0][0].replace("SN", "WT") + "-A"},
    )
    return 1


def reports_demo() -> tuple[int, list[Any]]:
    """``inspecta demo``'s loader (``ReportsConfig.demo_loader``): records added and the
    logins of the sign-off accounts."""

    return sum(reports_demo_load().values()), demo_logins()
