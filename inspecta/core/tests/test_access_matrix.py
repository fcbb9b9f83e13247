"""Every scoped model, every kind of actor, every declared action (STYLE.md 13; NetBox
``ViewTestCases``): who reaches which rows through ``Model.objects.restrict``.

One scenario with a Guangzhou side ("A": agency, project in Tianhe district, its owner,
report, contract, LIMS, files) and a Shenzhen side ("B"), seen by the operator, the
province (parent), Guangzhou (own city, admin, supervisor and station), Tianhe (child
district), Shenzhen (sibling city), each agency, each owner, the agency's LIMS and the
Guangzhou platform (exchange clients), a person of a disabled agency, and nobody. The
expectations are written out by hand, row by row: they are the specification the
declarations in the models must meet, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import Organisation, Passkey, Registration, User
from inspecta.core.actors import Actor, ActorKind, actor_of
from inspecta.core.findings import open_findings
from inspecta.core.models import Region, RegionRule, Specialty, StoredFile
from inspecta.core.regionrules import region_rule_add
from inspecta.core.scoping import Scoping, permits
from inspecta.core.testing.factories import OrganisationFactory, UserFactory, authority_tree
from inspecta.core.testing.scenes import rolled_back
from inspecta.exchange.choices import FindingKind
from inspecta.exchange.models import AccessApplication, AnomalyFinding, ClientKey, ExchangeClient, Receipt
from inspecta.exchange.testing import approved_client
from inspecta.ledger.choices import FindingKind as LedgerFindingKind
from inspecta.ledger.models import AuditFinding
from inspecta.ledger.services import finding_record
from inspecta.notifications.models import Delivery, Notification, Preference
from inspecta.oversight.models import NonconformanceClosure, NonconformanceFinding, Warning, WarningEvent
from inspecta.oversight.services import closure_submit, closures_overdue_scan, warning_step
from inspecta.projects import services as project_services
from inspecta.projects.models import (
    Contract,
    InspectionPlan,
    InspectionPlanVersion,
    PlanFinding,
    Project,
    ProjectParty,
    ProjectPerson,
)
from inspecta.projects.regionrules import PLAN_LEAD_HOURS
from inspecta.projects.testing import plan_kwargs
from inspecta.registry.models import AGENCY_SCOPING, Agency, AgencyOwned
from inspecta.registry.testing import CEMENT
from inspecta.reports import services as report_services
from inspecta.reports.choices import CheckCode, Conclusion
from inspecta.reports.models import NonconformanceEntry, ProjectItemAgency, Report, ReportDraft, ReportFinding
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission
from inspecta.sampling import models as sampling
from inspecta.testing import models as testing

ACTORS = [
    "op",
    "gd_admin",
    "gz_admin",
    "gz_sup",
    "gz_insp",
    "th_admin",
    "sz_admin",
    "ag_a",
    "ag_b",
    "own_gz",
    "own_sz",
    "lims_a",
    "plat_gz",
    "ag_off",
    "anon",
]
ALL = frozenset(ACTORS)


def _who(*names: str) -> frozenset[str]:
    return frozenset(names)


def _expect(default: Any = frozenset(), **by_actor: Any) -> dict[str, frozenset[str]]:
    """Expected row labels per actor; actors not named see ``default``."""

    table = {name: frozenset(default) for name in ACTORS}
    for name, rows in by_actor.items():
        assert name in table, name
        table[name] = frozenset(rows)
    return table


AB = "AB"
A, B = "A", "B"

# --- the specification -----------------------------------------------------------

AGENCY_VIEW = _expect(
    op=AB, gd_admin=AB, gz_admin=A, gz_sup=A, gz_insp=A, sz_admin=B, ag_a=A, ag_b=B, lims_a=A, plat_gz=A
)
AGENCY = {
    "view": AGENCY_VIEW,
    "change": _expect(op=AB, ag_a=A, ag_b=B),
    "review": _expect(op=AB, gz_admin=A, gz_sup=A, sz_admin=B),
}
PROJECT = {
    "view": _expect(
        op=AB,
        gd_admin=AB,
        gz_admin=A,
        gz_sup=A,
        gz_insp=A,
        th_admin=A,
        sz_admin=B,
        ag_a=A,
        ag_b=B,
        own_gz=A,
        own_sz=B,
        lims_a=A,
        plat_gz=A,
    ),
    "change": _expect(op=AB, gd_admin=AB, gz_admin=A, gz_sup=A, th_admin=A, sz_admin=B, plat_gz=A),
}
REPORT = {
    "view": PROJECT["view"],
    "decide": _expect(op=AB, gd_admin=AB, gz_admin=A, gz_sup=A, th_admin=A, sz_admin=B),
}
CONTRACT = {
    "view": PROJECT["view"],
    "change": _expect(op=AB, ag_a=A, ag_b=B, lims_a=A),
}
PLAN = {  # an on-site inspection plan (and its versions): as a contract
    "view": PROJECT["view"],
    "change": _expect(ag_a=A, ag_b=B, lims_a=A),
}
LEAD_RULE = {  # rows: A (a Guangzhou rule), B (a Shenzhen rule)
    "view": _expect(default=AB, anon=()),
    "change": _expect(op=AB, gd_admin=AB, gz_admin=A, sz_admin=B),
}
APPLICATION = {  # rows: A (agency A), B (agency B), G (the Guangzhou platform)
    "view": _expect(
        op="ABG",
        gd_admin="ABG",
        gz_admin="AG",
        gz_sup="AG",
        gz_insp="AG",
        sz_admin=B,
        ag_a=A,
        ag_b=B,
        lims_a=A,
        plat_gz="AG",
    ),
    "change": _expect(gz_admin="G", gz_sup="G", ag_a=A, ag_b=B, lims_a=A, plat_gz="G"),
}
FILES = {  # every stored file of the scenario belongs to agency A or B
    # the owner's viewers (AGENCY_VIEW), and whoever sees a report or contract that
    # references the file (the project's viewers: district admins, owners)
    "view": PROJECT["view"],
    "change": _expect(ag_a=A, ag_b=B, lims_a=A),
}
ORGANISATION_ROWS = ["gd", "gz", "sz", "th", "gz_station", "ops", "org_a", "org_b", "own_gz", "own_sz"]
GZ_TREE = {"gz", "th", "gz_station", "org_a", "own_gz"}
ORGANISATION = {
    "view": _expect(
        op=ORGANISATION_ROWS,
        gd_admin={"gd", "gz", "sz", "th", "gz_station", "org_a", "org_b", "own_gz", "own_sz"},
        gz_admin=GZ_TREE,
        gz_sup=GZ_TREE,
        gz_insp={"gz_station", "org_a", "own_gz"},
        th_admin={"th", "own_gz"},
        sz_admin={"sz", "org_b", "own_sz"},
        ag_a={"org_a"},
        ag_b={"org_b"},
        own_gz={"own_gz"},
        own_sz={"own_sz"},
        lims_a={"org_a"},
        plat_gz=GZ_TREE,
    ),
    "change": _expect(
        op=ORGANISATION_ROWS,
        gd_admin={"gd", "gz", "sz", "th", "gz_station"},
        gz_admin={"gz", "th", "gz_station"},
        gz_sup={"gz", "th", "gz_station"},
        gz_insp={"gz_station"},
        th_admin={"th"},
        sz_admin={"sz"},
        ag_a={"org_a"},
        ag_b={"org_b"},
        own_gz={"own_gz"},
        own_sz={"own_sz"},
        lims_a={"org_a"},
        plat_gz={"gz", "th", "gz_station"},
    ),
}
USER_ROWS = {
    "op": "operator",
    "gd_admin": "gd_admin",
    "gz_admin": "gz_admin",
    "gz_sup": "gz_supervisor",
    "gz_insp": "gz_inspector",
    "th_admin": "th_admin",
    "sz_admin": "sz_admin",
    "ag_a": "ag_a",
    "ag_b": "ag_b",
    "own_gz": "own_gz",
    "own_sz": "own_sz",
    "ag_off": "ag_off",
}
_ALL_USERS = set(USER_ROWS.values()) | {"sz_supervisor"}
_GZ_USERS = {"gz_admin", "gz_supervisor", "gz_inspector", "th_admin"}
_ACCOUNTS = _expect(
    op=_ALL_USERS,
    gd_admin={"gd_admin", "sz_admin", "sz_supervisor", *_GZ_USERS},
    gz_admin=_GZ_USERS,
    gz_sup={"gz_supervisor"},
    gz_insp={"gz_inspector"},
    th_admin={"th_admin"},
    sz_admin={"sz_admin", "sz_supervisor"},
    ag_a={"ag_a"},
    ag_b={"ag_b"},
    own_gz={"own_gz"},
    own_sz={"own_sz"},
    ag_off={"ag_off"},
)
ACCOUNTS = {"view": _ACCOUNTS, "change": _ACCOUNTS}
_PASSKEYS = _expect(op=_ALL_USERS, **{name: {username} for name, username in USER_ROWS.items() if name != "op"})
PASSKEYS = {"view": _PASSKEYS, "change": _PASSKEYS}
"""A person's passkeys: their own; operators anyone's (a lost phone)."""
REGION = {  # rows: 440000, 440100, 440300 and Beijing 110000
    "view": _expect(default={"440000", "440100", "440300", "110000"}, anon=()),
    "change": _expect(op={"440000", "440100", "440300", "110000"}, gd_admin={"440000", "440100", "440300"}),
}
CATALOG = {  # one specialty row, "S"
    "view": _expect(default="S", anon=""),
    "change": _expect(op="S", gd_admin="S"),
}


# --- the scenario --------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Built once for the module inside a transaction that is rolled back at its end;
    each test runs in a savepoint inside it (the ``db`` fixture)."""

    with rolled_back(django_db_blocker):
        yield _build(authority_tree())


def _build(tree: dict[str, Any]) -> dict[str, Any]:
    agency_a, admin_a, made_a = approved_agency(tree, 1, region="440100")
    agency_b, admin_b, made_b = approved_agency(tree, 2, region="440300")
    agency_off, admin_off, _ = approved_agency(tree, 3, region="440100")
    own_gz_org = OrganisationFactory(name="广州某建设单位", kind=OrganisationKind.OWNER, level="", region_code="440106")
    own_sz_org = OrganisationFactory(name="深圳某建设单位", kind=OrganisationKind.OWNER, level="", region_code="440300")
    own_gz = UserFactory(username="own_gz", organisation=own_gz_org, roles=[Role.PROJECT_VIEWER])
    own_sz = UserFactory(username="own_sz", organisation=own_sz_org, roles=[Role.PROJECT_VIEWER])
    for user, name in ((admin_a, "ag_a"), (admin_b, "ag_b"), (admin_off, "ag_off")):
        User.objects.filter(pk=user.pk).update(username=name)
        user.username = name

    project_a = project_with(tree, [agency_a], code="P-GZ", region="440106")
    project_b = project_with(tree, [agency_b], code="P-SZ", region="440300")
    for project, org, person, supervisor in (
        (project_a, own_gz_org, own_gz, tree["gz_supervisor"]),
        (project_b, own_sz_org, own_sz, tree["sz_supervisor"]),
    ):
        party = project_services.project_party_add(
            actor=supervisor, project=project, role="owner", organisation_id=org.pk
        )
        ProjectPerson.objects.create(project=project, party=party, person=person, duty="witness")
    reports = {}
    contracts = {}
    for label, agency, admin, made, project in (
        (A, agency_a, admin_a, made_a, project_a),
        (B, agency_b, admin_b, made_b, project_b),
    ):
        reports[label] = report_services.report_submit(
            actor=admin, **submission(agency, made, project, number=f"R-{label}", conclusion=Conclusion.NONCONFORMING)
        )
        ReportDraft.objects.create(  # a web-prepared report waiting for its tester's sign-off
            agency=agency,
            report_number=f"D-{label}",
            data={},
            pdf=stored_file(agency.organisation_id, pdf_bytes(f"draft {label}")),
            tester=made["staff"],
            reviewer=made["reviewer"],
            signatory=made["approver"],
            prepared_by=admin,
        )
        scan = stored_file(agency.organisation_id, pdf_bytes(f"contract {label}"), name="contract.pdf")
        today = datetime.date.today()
        contracts[label] = project_services.contract_upload(
            actor=admin,
            agency=agency,
            project=project,
            number=f"HT-{label}",
            client_name="某建设单位",
            amount="1000.00",
            signed_on=today,
            valid_from=today,
            valid_until=today + datetime.timedelta(days=365),
            test_items=[CEMENT],
            scan_id=scan.pk,
        )
        # filed two hours ahead: late under the default lead time, a finding
        project_services.plan_file(
            actor=admin,
            **plan_kwargs(agency, contracts[label], made, test_item=CEMENT, ahead=datetime.timedelta(hours=2)),
        )
    region_rule_add(actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440100", test_item=None, value=48)
    region_rule_add(actor=tree["sz_admin"], name=PLAN_LEAD_HOURS, region_code="440300", test_item=CEMENT, value=72)

    lims_a = approved_client(applicant=admin_a, reviewer=tree["gz_admin"], scopes=["reports:submit", "registry:read"])
    lims_b = approved_client(applicant=admin_b, reviewer=tree["sz_admin"], scopes=["reports:submit"])
    plat_gz = approved_client(
        applicant=tree["gz_admin"], reviewer=tree["gd_admin"], scopes=["projects:read", "projects:write"]
    )
    for creds in (lims_a, lims_b):
        AnomalyFinding.objects.create(client=creds.client, rule=FindingKind.SILENT, measures={})
    for report in reports.values():
        ReportFinding.of(report, rule=CheckCode.TOO_MANY_AGENCIES, detail="检测机构过多").save()
    resolved = ReportFinding.of(reports[A], rule=CheckCode.EQUIPMENT_NOT_CALIBRATED, detail="已消除")
    resolved.resolve()
    resolved.save()
    finding_record(severity="critical", kind=LedgerFindingKind.RECORD_CHANGED, summary="记录与存证不一致")
    samples = {
        label: _sample_chain(label, project, agency, person)
        for label, project, agency, person in (
            (A, project_a, agency_a, own_gz),
            (B, project_b, agency_b, own_sz),
        )
    }
    # the disabled agency: its people act in no role from now on
    Organisation.objects.filter(pk=agency_off.organisation_id).update(is_active=False)

    def client_actor(creds: Any) -> Actor:
        client = ExchangeClient.objects.select_related("organisation").get(pk=creds.client.pk)
        return Actor.for_client(client, client.keys.first())

    actors: dict[str, Any] = {
        "op": tree["operator"],
        "gd_admin": tree["gd_admin"],
        "gz_admin": tree["gz_admin"],
        "gz_sup": tree["gz_supervisor"],
        "gz_insp": tree["gz_inspector"],
        "th_admin": tree["th_admin"],
        "sz_admin": tree["sz_admin"],
        "ag_a": User.objects.get(pk=admin_a.pk),
        "ag_b": User.objects.get(pk=admin_b.pk),
        "own_gz": own_gz,
        "own_sz": own_sz,
        "lims_a": client_actor(lims_a),
        "plat_gz": client_actor(plat_gz),
        "ag_off": User.objects.get(pk=admin_off.pk),
        "anon": None,
    }
    org_labels = {tree[k].pk: k for k in ("gd", "gz", "sz", "th", "gz_station", "ops")} | {
        agency_a.organisation_id: "org_a",
        agency_b.organisation_id: "org_b",
        own_gz_org.pk: "own_gz",
        own_sz_org.pk: "own_sz",
    }
    # each nonconforming report's entry overdue, and its agency's handling waiting
    closures_overdue_scan(now=timezone.now() + datetime.timedelta(days=400))
    for admin, report in ((admin_a, reports[A]), (admin_b, reports[B])):
        closure_submit(
            actor=admin,
            entry=report.nonconformance,
            parties=["owner"],
            notified_at=timezone.now(),
            action="removed",
            description="材料已退场。",
        )
    # each agency signs for one warning about its project (the events' rows)
    for admin, project in ((admin_a, project_a), (admin_b, project_b)):
        warning = Warning.objects.filter(project=project, status="open").order_by("pk").first()
        assert warning is not None
        warning_step(actor=admin, warning=warning, step="acknowledge")
    side = {agency_a.pk: A, agency_b.pk: B}
    return {
        "actors": actors,
        "agencies": (agency_a, agency_b),
        "side_of_agency": side,
        "side_of_org": {agency_a.organisation_id: A, agency_b.organisation_id: B},
        "side_of_project": {project_a.pk: A, project_b.pk: B},
        "org_labels": org_labels,
        "reports": reports,
        "contracts": contracts,
        "samples": samples,
        "side_of_person": {own_gz.pk: A, own_sz.pk: B},
        "app_labels": {
            lims_a.client.application_id: A,
            lims_b.client.application_id: B,
            plat_gz.client.application_id: "G",
        },
    }


def _sample_chain(label: str, project: Project, agency: Agency, person: User) -> Any:
    """A sealed, received sample of ``project`` with every record of its chain (rows are
    made directly: the matrix tests who reaches them, not how they are made)."""

    from django.utils import timezone

    def image(n: int) -> StoredFile:
        return stored_file(agency.organisation_id, pdf_bytes(f"sample {label} {n}"), name=f"p{n}.pdf")

    now = timezone.now()
    sample = sampling.Sample.objects.create(
        code=f"{project.region_id}2026{'1' if label == A else '2':0>6}0",
        project=project,
        agency=agency,
        test_item_id=CEMENT,
        part="梁",
        count=1,
        sampler=person,
        record_sha256="0" * 64,
        status="received",
    )
    sampling.Specimen.objects.create(sample=sample, number=1, tag_id=f"T-{label}")
    photo = image(1)
    sampling.SamplePhoto.objects.create(sample=sample, kind="specimen", file=photo, sha256=photo.sha256)
    live = image(2)
    sampling.Confirmation.objects.create(
        sample=sample,
        step="sampling",
        person=person,
        factor="totp",
        challenge="0" * 64,
        proof={},
        live_photo=live,
        live_photo_sha256=live.sha256,
    )
    sampling.Seal.objects.create(sample=sample, text="SEAL1:", kid="00", claims={}, sealed_by=person)
    handover = sampling.Handover.objects.create(
        person=person, token_sha256=label * 64, factor="totp", challenge="0" * 64, proof={}, expires_at=now
    )
    sampling.Receipt.objects.create(
        sample=sample,
        outcome="accepted",
        receiver=person,
        deliverer=person,
        handover=handover,
        deliverer_photo=live,
        tags_ok=True,
        seal_ok=True,
        photos_ok=True,
    )
    sampling.SamplingFinding.objects.create(sample=sample, rule="sampling_location_far", key=f"sample:{sample.pk}")
    commission = sampling.Commission.objects.create(
        agency=agency, project=project, year=2026, sequence=1, deliverer=person, record_sha256="0" * 64
    )
    sampling.CommissionSample.objects.create(commission=commission, sample=sample, test_item_id=CEMENT)
    sampling.CommissionConfirmation.objects.create(
        commission=commission,
        step="deliverer",
        person=person,
        factor="totp",
        challenge="0" * 64,
        proof={},
        live_photo=live,
        live_photo_sha256=live.sha256,
    )
    batch = sampling.ConcreteBatch.objects.create(
        project=project,
        part="梁",
        volume_m3="1.00",
        strength_grade="C30",
        curing="standard",
        producer="搅拌站",
        recorded_by=person,
        record_sha256="0" * 64,
    )
    sampling.ConcreteBatchPhoto.objects.create(batch=batch, kind="slump", file=photo, sha256=photo.sha256)
    sampling.ConcreteBatchConfirmation.objects.create(
        batch=batch,
        step="recorder",
        person=person,
        factor="totp",
        challenge="0" * 64,
        proof={},
        live_photo=live,
        live_photo_sha256=live.sha256,
    )
    sampling.ConcreteBatchFinding.objects.create(batch=batch, rule="sampling_location_far", key=f"batch:{batch.pk}")
    event = sampling.CustodyEvent.objects.create(
        sample=sample, kind="curing_in", recorded_by=person, record_sha256="0" * 64
    )
    sampling.CustodyPhoto.objects.create(event=event, kind="custody", file=photo, sha256=photo.sha256)
    sampling.CustodyConfirmation.objects.create(
        event=event,
        step="recorder",
        person=person,
        factor="totp",
        challenge="0" * 64,
        proof={},
        live_photo=live,
        live_photo_sha256=live.sha256,
    )
    record = testing.TestRecord.objects.create(
        agency=agency,
        project=project,
        number=f"T-{label}",
        kind="lab",
        sample=sample,
        test_item_id=CEMENT,
        tester=agency.staff_set.first(),
        started_at=now,
        ended_at=now,
        standard="GB 175",
        conclusion="qualified",
        sha256="0" * 64,
    )
    testing.TestRecordRevision.objects.create(record=record, number=1, body={}, sha256="0" * 64)
    testing.TestRecordFile.objects.create(record=record, file=photo, kind="image", sha256=photo.sha256)
    testing.TestingFinding.objects.create(
        agency=agency, project=project, sample=sample, rule="sample_data_overdue", key=f"sample:{sample.pk}"
    )
    testing.InstrumentRecord.objects.create(
        agency=agency,
        source_id=f"S-{label}",
        record_number=f"T-{label}",
        equipment="E-1",
        parameter="IP-0003",
        specimen=1,
        collected_at=now,
    )
    return sample


def _seen(world: dict[str, Any], model: type[models.Model], action: str, label_of: Any) -> dict[str, frozenset[str]]:
    seen: dict[str, frozenset[str]] = {}
    for name, who in world["actors"].items():
        rows = model.objects.restrict(who, action)  # type: ignore[attr-defined]
        labels = {label_of(row) for row in rows}
        seen[name] = frozenset(label for label in labels if label is not None)
    return seen


def _check(world: dict[str, Any], model: type[models.Model], spec: dict[str, Any], label_of: Any) -> None:
    assert set(spec) == set(model.scoping.grants), f"{model.__name__}: actions {sorted(model.scoping.grants)}"  # type: ignore[attr-defined]
    for action, expected in spec.items():
        seen = _seen(world, model, action, label_of)
        wrong = {name: (sorted(seen[name]), sorted(expected[name])) for name in ACTORS if seen[name] != expected[name]}
        assert not wrong, f"{model.__name__} {action}: actor: (seen, expected) {wrong}"


# --- the tests -----------------------------------------------------------------------

COVERED: set[type[models.Model]] = set()


def covers(*models_: type[models.Model]) -> Any:
    COVERED.update(models_)
    return lambda f: f


@covers(Agency)
def test_agencies(db: None, world: dict[str, Any]) -> None:
    _check(world, Agency, AGENCY, lambda a: world["side_of_agency"].get(a.pk))


def _agency_owned() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, AgencyOwned)]


@covers(*_agency_owned())
@pytest.mark.parametrize("model", _agency_owned(), ids=lambda m: m.__name__)
def test_agency_records(db: None, world: dict[str, Any], model: type[models.Model]) -> None:
    """Every record of an agency is reached exactly as its agency is; the ones the
    scenario holds rows of are checked row by row."""

    assert model.scoping == AGENCY_SCOPING.via("agency")  # type: ignore[attr-defined]
    if model.objects.filter(agency__in=world["agencies"]).values("agency").distinct().count() < 2:  # type: ignore[attr-defined]
        pytest.skip(f"the scenario holds no {model.__name__} of both agencies")
    _check(world, model, AGENCY, lambda r: world["side_of_agency"].get(r.agency_id))


@covers(Project, ProjectParty, ProjectPerson)
def test_projects_and_parties(db: None, world: dict[str, Any]) -> None:
    _check(world, Project, PROJECT, lambda p: world["side_of_project"].get(p.pk))
    _check(world, ProjectParty, PROJECT, lambda p: world["side_of_project"].get(p.project_id))
    _check(world, ProjectPerson, PROJECT, lambda p: world["side_of_project"].get(p.project_id))


@covers(Contract)
def test_contracts(db: None, world: dict[str, Any]) -> None:
    _check(world, Contract, CONTRACT, lambda c: world["side_of_project"].get(c.project_id))


@covers(InspectionPlan, InspectionPlanVersion, PlanFinding)
def test_inspection_plans(db: None, world: dict[str, Any]) -> None:
    """A plan, each of its versions and its findings are reached as a contract is."""

    side = world["side_of_project"]
    _check(world, InspectionPlan, PLAN, lambda p: side.get(p.project_id))
    _check(world, InspectionPlanVersion, PLAN, lambda v: side.get(v.plan.project_id))
    assert PlanFinding.objects.count() == 2
    _check(world, PlanFinding, {"view": PLAN["view"]}, lambda f: side.get(f.plan.project_id))


@covers(RegionRule)
def test_plan_lead_rules(db: None, world: dict[str, Any]) -> None:
    """Everyone signed in reads the lead-time rules; the authority admins of a region
    change its rules and those below."""

    _check(world, RegionRule, LEAD_RULE, lambda r: {"440100": A, "440300": B}.get(r.region_id))


@covers(Report, NonconformanceEntry, ProjectItemAgency)
def test_reports_and_their_facts(db: None, world: dict[str, Any]) -> None:
    _check(world, Report, REPORT, lambda r: world["side_of_project"].get(r.project_id))
    assert NonconformanceEntry.objects.count() >= 2  # both reports are unqualified
    _check(world, NonconformanceEntry, REPORT, lambda r: world["side_of_project"].get(r.project_id))
    _check(world, ProjectItemAgency, REPORT, lambda r: world["side_of_project"].get(r.project_id))


def test_permits_agrees_with_restrict(db: None, world: dict[str, Any]) -> None:
    """The one-row question (what pages and services ask before offering or doing an
    action) gives the same answer as the list."""

    for name, who in world["actors"].items():
        for label, report in world["reports"].items():
            assert permits(who, report, "decide") == (label in REPORT["decide"][name]), (name, label)
            assert permits(who, report, "view") == (label in REPORT["view"][name]), (name, label)


@covers(AccessApplication, ExchangeClient, ClientKey)
def test_exchange_access(db: None, world: dict[str, Any]) -> None:
    apps_ = world["app_labels"]
    _check(world, AccessApplication, APPLICATION, lambda a: apps_.get(a.pk))
    _check(world, ExchangeClient, APPLICATION, lambda c: apps_.get(c.application_id))
    _check(world, ClientKey, APPLICATION, lambda k: apps_.get(k.client.application_id))


@covers(Receipt)
def test_exchange_receipts(db: None, world: dict[str, Any]) -> None:
    """A receipt is reached like its client (the API shows a client its own receipts only)."""

    for client in ExchangeClient.objects.all():
        Receipt.objects.create(client=client, operation="reports.batch")
    apps_ = world["app_labels"]
    _check(world, Receipt, APPLICATION, lambda r: apps_.get(r.client.application_id))


@covers(AnomalyFinding)
def test_exchange_findings(db: None, world: dict[str, Any]) -> None:
    spec = {action: {name: rows - {"G"} for name, rows in table.items()} for action, table in APPLICATION.items()}
    _check(world, AnomalyFinding, spec, lambda f: world["app_labels"].get(f.client.application_id))


REPORT_DRAFT = {"view": _expect(ag_a=A, ag_b=B)}
"""Report drafts in sign-off: the agency's own people only (no authority, no LIMS)."""


@covers(ReportDraft)
def test_report_drafts(db: None, world: dict[str, Any]) -> None:
    _check(world, ReportDraft, REPORT_DRAFT, lambda d: world["side_of_agency"].get(d.agency_id))


@covers(ReportFinding)
def test_report_findings(db: None, world: dict[str, Any]) -> None:
    """A report's findings are read like the report (the resolved one is a row too)."""

    _check(world, ReportFinding, REPORT, lambda f: world["side_of_project"].get(f.report.project_id))


AUDIT_FINDING = {"view": _expect(op="L")}


@covers(AuditFinding)
def test_audit_findings(db: None, world: dict[str, Any]) -> None:
    """The transparency log's own findings are the platform's: operators only."""

    _check(world, AuditFinding, AUDIT_FINDING, lambda f: "L" if f.detail == "记录与存证不一致" else None)


# open findings of every kind: R (report finding), P (late plan), X (exchange anomaly),
# L (ledger)
OPEN_FINDINGS = _expect(
    op={"R:A", "R:B", "P:A", "P:B", "X:A", "X:B", "L"},
    gd_admin={"R:A", "R:B", "P:A", "P:B", "X:A", "X:B"},
    gz_admin={"R:A", "P:A", "X:A"},
    gz_sup={"R:A", "P:A", "X:A"},
    gz_insp={"R:A", "P:A", "X:A"},
    th_admin={"R:A", "P:A"},
    sz_admin={"R:B", "P:B", "X:B"},
    ag_a={"R:A", "P:A", "X:A"},
    ag_b={"R:B", "P:B", "X:B"},
    own_gz={"R:A", "P:A"},
    own_sz={"R:B", "P:B"},
    lims_a={"R:A", "P:A", "X:A"},
    plat_gz={"R:A", "P:A", "X:A"},
)


def test_open_findings_of_every_kind(db: None, world: dict[str, Any]) -> None:
    """``core.findings.open_findings``: every kind, each through its own scoping, open
    ones only, each carrying the region of what it is about."""

    def label(f: Any) -> str | None:
        if isinstance(f, ReportFinding):
            return f"R:{world['side_of_project'][f.report.project_id]}"
        if isinstance(f, PlanFinding):
            return f"P:{world['side_of_project'][f.plan.project_id]}"
        if isinstance(f, AnomalyFinding):
            side = world["app_labels"].get(f.client.application_id)
            return f"X:{side}" if side else None
        if isinstance(f, AuditFinding):
            return "L" if f.detail == "记录与存证不一致" else None
        return None

    for name, who in world["actors"].items():
        found = open_findings(who)
        assert all(f.is_open for f in found)
        seen = frozenset(filter(None, (label(f) for f in found)))
        assert seen == OPEN_FINDINGS[name], (name, sorted(seen))
    regions = {label(f): f.region for f in open_findings(world["actors"]["op"]) if label(f)}
    assert regions == {
        "R:A": "440106",
        "R:B": "440300",
        "P:A": "440106",
        "P:B": "440300",
        "X:A": "440100",
        "X:B": "440300",
        "L": "",
    }


SAMPLE_MODELS = [
    sampling.Sample,
    sampling.Specimen,
    sampling.SamplePhoto,
    sampling.Confirmation,
    sampling.Seal,
    sampling.Receipt,
    sampling.SamplingFinding,
    sampling.Commission,
    sampling.CommissionSample,
    sampling.CommissionConfirmation,
    sampling.CustodyEvent,
    sampling.CustodyPhoto,
    sampling.CustodyConfirmation,
    sampling.ConcreteBatch,
    sampling.ConcreteBatchPhoto,
    sampling.ConcreteBatchConfirmation,
    sampling.ConcreteBatchFinding,
]


@covers(*SAMPLE_MODELS)
@pytest.mark.parametrize("model", SAMPLE_MODELS)
def test_samples_and_their_chain(db: None, world: dict[str, Any], model: type[models.Model]) -> None:
    """A sample and everything recorded about it (its commission and custody events too)
    are seen by the project's viewers (its region's regulators and station, the agency it
    is sent to, the project's parties); a concrete batch by its project's viewers."""

    def side(row: Any) -> str | None:
        paths = (
            "project_id",
            "sample.project_id",
            "event.sample.project_id",
            "batch.project_id",
            "commission.project_id",
        )
        for path in paths:
            value: Any = row
            try:
                for part in path.split("."):
                    value = getattr(value, part)
            except AttributeError:
                continue
            return world["side_of_project"].get(value)
        return None

    _check(world, model, {"view": PROJECT["view"]}, side)


TEST_MODELS = [testing.TestRecord, testing.TestRecordRevision, testing.TestRecordFile]


@covers(*TEST_MODELS)
@pytest.mark.parametrize("model", TEST_MODELS)
def test_test_records(db: None, world: dict[str, Any], model: type[models.Model]) -> None:
    """A test record, its revisions and files are seen as its project's samples are; only
    the agency that tested (its people and its LIMS) revises them."""

    def side(row: Any) -> str | None:
        record = getattr(row, "record", row)
        return world["side_of_project"].get(record.project_id)  # type: ignore[no-any-return]

    spec = {"view": PROJECT["view"], "change": _expect(ag_a=A, ag_b=B, lims_a=A)}
    _check(world, model, spec, side)


@covers(testing.TestingFinding)
def test_test_data_findings(db: None, world: dict[str, Any]) -> None:
    """A finding about test data is seen by whoever sees the project's test records."""

    _check(
        world,
        testing.TestingFinding,
        {"view": PROJECT["view"]},
        lambda f: world["side_of_project"].get(f.project_id),
    )


WARNING = {
    "view": _expect(
        op={"Ad", A, B, "L"},
        gd_admin={"Ad", A, B},
        gz_admin={"Ad", A},
        gz_sup={"Ad", A},
        gz_insp={"Ad", A},
        th_admin={"Ad"},
        sz_admin={B},
        ag_a={"Ad", A},
        ag_b={B},
        lims_a={"Ad", A},
        plat_gz={"Ad", A},
    ),
    "answer": _expect(ag_a={"Ad", A}, ag_b={B}, lims_a={"Ad", A}),
    "decide": _expect(
        op={"Ad", A, B, "L"},
        gd_admin={"Ad", A, B},
        gz_admin={"Ad", A},
        gz_sup={"Ad", A},
        gz_insp={"Ad", A},
        th_admin={"Ad"},
        sz_admin={B},
    ),
}
"""Warnings: the regulators of the region the finding belongs to (the Tianhe district's
"Ad" rows, the city's "A" rows), the agency it is about (its admin and LIMS answer it),
the platform's own log findings ("L") for operators only."""


def _warning_label(world: dict[str, Any], w: Any) -> str | None:
    if w.region == "":
        return "L"
    side = world["side_of_org"].get(w.organisation_id) or world["side_of_project"].get(w.project_id)
    if side is None:
        return None
    return f"{side}d" if w.region == "440106" else side


@covers(NonconformanceClosure)
def test_nonconformance_closures(db: None, world: dict[str, Any]) -> None:
    """A closure is read like its report and decided by the authority of the report's
    project (or the project's station, which these projects do not name)."""

    _check(world, NonconformanceClosure, REPORT, lambda c: world["side_of_project"].get(c.entry.project_id))


@covers(NonconformanceFinding)
def test_nonconformance_findings(db: None, world: dict[str, Any]) -> None:
    _check(
        world,
        NonconformanceFinding,
        {"view": REPORT["view"]},
        lambda f: world["side_of_project"].get(f.entry.project_id),
    )


@covers(Warning)
def test_warnings(db: None, world: dict[str, Any]) -> None:
    _check(world, Warning, WARNING, lambda w: _warning_label(world, w))


@covers(WarningEvent)
def test_warning_events(db: None, world: dict[str, Any]) -> None:
    """A warning's steps are read like the warning (no log finding has a step here)."""

    spec = {"view": {name: rows - {"L"} for name, rows in WARNING["view"].items()}}
    _check(world, WarningEvent, spec, lambda e: _warning_label(world, e.warning))


@covers(testing.InstrumentRecord)
def test_instrument_readings(db: None, world: dict[str, Any]) -> None:
    """Instrument data is seen as its agency is by regulators (the agency's region), by
    the agency itself and operators; no project party sees it."""

    _check(
        world,
        testing.InstrumentRecord,
        {"view": AGENCY_VIEW},
        lambda r: world["side_of_agency"].get(r.agency_id),
    )


@covers(sampling.Handover)
def test_handover_codes(db: None, world: dict[str, Any]) -> None:
    _check(
        world,
        sampling.Handover,
        {"view": _expect(op=AB, own_gz=A, own_sz=B)},
        lambda h: world["side_of_person"].get(h.person_id),
    )


@covers(StoredFile)
def test_stored_files(db: None, world: dict[str, Any]) -> None:
    assert StoredFile.objects.filter(organisation_id__in=world["side_of_org"]).count() >= 4
    _check(world, StoredFile, FILES, lambda f: world["side_of_org"].get(f.organisation_id))


@covers(Organisation)
def test_organisations(db: None, world: dict[str, Any]) -> None:
    _check(world, Organisation, ORGANISATION, lambda o: world["org_labels"].get(o.pk))


@covers(User)
def test_accounts(db: None, world: dict[str, Any]) -> None:
    wanted = _ALL_USERS
    _check(world, User, ACCOUNTS, lambda u: u.username if u.username in wanted else None)


@covers(Passkey)
def test_passkeys(db: None, world: dict[str, Any]) -> None:
    for user in User.objects.filter(username__in=_ALL_USERS):
        Passkey.objects.create(user=user, credential_id=user.username.encode(), public_key=b"k", name="我的手机")
    _check(world, Passkey, PASSKEYS, lambda p: p.user.username)


_OWN_ONLY = _expect(**{name: {username} for name, username in USER_ROWS.items()})
NOTIFICATIONS = {"view": _OWN_ONLY}
"""A person's messages: their own only; operators have no wider view (a message is personal)."""
PREFERENCES = {"view": _OWN_ONLY, "change": _OWN_ONLY}
DELIVERIES = {"view": _expect(op=_ALL_USERS)}
"""The e-mails and SMS of everyone's messages: operators only (a failing gateway must be seen)."""


@covers(Notification, Preference, Delivery)
def test_notifications(db: None, world: dict[str, Any]) -> None:
    """Rows made directly, one per person (the matrix tests who reaches them); labelled
    by their recipient, the scenario's own messages (if any) left out."""

    for user in User.objects.filter(username__in=_ALL_USERS):
        note = Notification.objects.create(recipient=user, kind="health_recovered", subject="矩阵")
        Delivery.objects.create(notification=note, channel="email")
        Preference.objects.create(user=user, kind="matrix", email=True)

    def mine(row: Any) -> str | None:
        return row.recipient.username if row.subject == "矩阵" else None

    _check(world, Notification, NOTIFICATIONS, mine)
    _check(world, Delivery, DELIVERIES, lambda d: mine(d.notification))
    _check(world, Preference, PREFERENCES, lambda p: p.user.username if p.kind == "matrix" else None)


@covers(Registration)
def test_personal_registrations(db: None, world: dict[str, Any]) -> None:
    """A person's registration: the admin of the organisation they named; operators."""

    from inspecta.accounts.services import registration_submit
    from inspecta.core.identifiers import id_number_check_char
    from inspecta.core.imaging import picture_bytes
    from inspecta.core.testing.factories import PASSWORD

    for label, agency in zip((A, B), world["agencies"], strict=True):
        first17 = f"4401061990030712{ord(label) % 10}"
        registration_submit(
            organisation=agency.organisation,
            full_name=f"检测员{label}",
            id_number=first17 + id_number_check_char(first17),
            mobile="13912345678",
            photo=picture_bytes(ord(label)),
            role=Role.TESTER,
            username=f"reg_{label}",
            password=PASSWORD,
        )
    side = world["side_of_org"]
    _check(
        world,
        Registration,
        {"view": _expect(op=AB, ag_a=A, ag_b=B), "change": _expect(ag_a=A, ag_b=B)},
        lambda r: side.get(r.organisation_id),
    )


@covers(Region)
def test_regions(db: None, world: dict[str, Any]) -> None:
    wanted = {"440000", "440100", "440300", "110000"}
    _check(world, Region, REGION, lambda r: r.code if r.code in wanted else None)


def _catalog() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m._meta.app_label == "core" and m not in (Region, RegionRule, StoredFile) and hasattr(m, "scoping")
    ]


@covers(*_catalog())
def test_catalog(db: None, world: dict[str, Any]) -> None:
    first = Specialty.objects.order_by("pk").first()
    assert first is not None
    for model in _catalog():
        assert model.scoping == Specialty.scoping  # type: ignore[attr-defined]
    _check(world, Specialty, CATALOG, lambda s: "S" if s.pk == first.pk else None)


def test_every_scoped_model_is_in_the_matrix() -> None:
    """A new scoped model cannot go without its row of this matrix."""

    scoped = {m for m in apps.get_models() if isinstance(getattr(m, "scoping", None), Scoping)}
    missing = sorted(m.__name__ for m in scoped - COVERED)
    assert not missing, f"add these models to the access matrix: {missing}"


def test_actor_kinds(db: None, world: dict[str, Any]) -> None:
    kinds = {name: actor_of(who).kind for name, who in world["actors"].items()}
    assert kinds == {
        "op": ActorKind.OPERATOR,
        "gd_admin": ActorKind.AUTHORITY,
        "gz_admin": ActorKind.AUTHORITY,
        "gz_sup": ActorKind.AUTHORITY,
        "gz_insp": ActorKind.STATION,
        "th_admin": ActorKind.AUTHORITY,
        "sz_admin": ActorKind.AUTHORITY,
        "ag_a": ActorKind.AGENCY,
        "ag_b": ActorKind.AGENCY,
        "own_gz": ActorKind.PARTY,
        "own_sz": ActorKind.PARTY,
        "lims_a": ActorKind.AGENCY,
        "plat_gz": ActorKind.AUTHORITY,
        "ag_off": ActorKind.PUBLIC,
        "anon": ActorKind.PUBLIC,
    }
    lims = world["actors"]["lims_a"]
    assert lims.is_client and lims.user is None and lims.roles == frozenset()
    assert lims.has_scope("reports:submit") and not lims.has_scope("projects:write")


def test_an_undeclared_action_is_an_error(db: None, world: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="declares no 'approve' action"):
        Report.objects.restrict(world["actors"]["gz_admin"], "approve")


def test_disabling_an_organisation_takes_effect_at_once(db: None, world: dict[str, Any]) -> None:
    user = User.objects.get(username="gz_admin")
    assert Organisation.objects.restrict(user).exists()
    Organisation.objects.filter(pk=user.organisation_id).update(is_active=False)
    user.organisation.refresh_from_db()
    assert not Organisation.objects.restrict(user).exists()
    assert not Report.objects.restrict(user).exists()
    assert list(User.objects.restrict(user).values_list("username", flat=True)) == ["gz_admin"]
