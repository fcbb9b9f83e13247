"""Demo chain of custody on the first demo project (天河区某安置房项目): the contractor's
sampler, the supervising firm's witness, a courier of the contractor and the agency's
receiver, each with a demo login; a concrete batch on arrival with its slump placard
photo; one sample received (taken from that batch, cured and handed over first, with a
confirmed commission), one waiting for its witness, one waiting for its sampler's
confirmation. Built through the services; confirmations use the
TOTP fallback of the demo accounts (a passkey needs a phone). Idempotent."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.accounts.choices import Role
from inspecta.accounts.models import Organisation, Registration, User
from inspecta.accounts.services import registration_submit, user_create
from inspecta.core.demo import DEMO_PASSWORD, DemoLogin, demo_totp_code
from inspecta.core.files import file_store
from inspecta.core.identifiers import id_number_check_char
from inspecta.core.imaging import picture_bytes
from inspecta.core.models import TestItem
from inspecta.projects.models import Project
from inspecta.projects.services import project_person_name
from inspecta.registry.models import Agency

from . import custody, services
from .choices import SampleStatus
from .models import Commission, Sample

__all__ = ["sampling_demo"]

PROJECT = "DEMO-GZ-001"
PEOPLE = (
    # username, full name, organisation name, roles
    ("gz_sampler", "取样员 周强", "广东某建筑工程有限公司", (Role.SAMPLER, Role.PROJECT_VIEWER)),
    ("gz_courier", "送样员 孙涛", "广东某建筑工程有限公司", (Role.PROJECT_VIEWER,)),
    ("gz_witness", "见证员 吴芳", "广州某工程监理有限公司", (Role.WITNESS,)),
    # confirms the contractor's people who register from their phones (Nanchang 一(二))
    ("gz_contractor_admin", "施工单位管理员 马俊", "广东某建筑工程有限公司", (Role.PARTY_ADMIN,)),
    # names the project's witness, as the contractor's admin names its sampler
    ("gz_firm_admin", "监理单位管理员 郑华", "广州某工程监理有限公司", (Role.PARTY_ADMIN,)),
)
PENDING_REGISTRATION = ("gz_new_sampler", "取样员 林峰", "44010619910512301")
"""A person's registration waiting for ``gz_contractor_admin`` (username, name, the first
17 digits of a citizen ID whose check character the demo computes)."""
RECEIVER = ("gz_receiver", "收样员 何丽")
ITEM = "OBJ-SP01-P1"


def _person(username: str, full_name: str, organisation: Organisation, roles: tuple[str, ...]) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            actor=None,
            username=username,
            full_name=full_name,
            organisation=organisation,
            roles=list(roles),
            password=DEMO_PASSWORD,
            must_change_password=False,
            is_demo=True,
        )
    # the TOTP fallback of a confirmation (a passkey is enrolled on a phone)
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
    return user


def _photo(user: User, seed: int) -> Any:
    assert user.organisation_id is not None  # every demo person belongs to an organisation
    return file_store(
        picture_bytes(seed, fmt="JPEG"),
        organisation_id=user.organisation_id,
        purpose="photo",
        name=f"demo-{seed}.jpg",
        actor=user,
    )


def _record(
    people: dict[str, User], project: Project, agency: Agency, item: TestItem, n: int, batch: Any = None
) -> Sample:
    sampler = people["gz_sampler"]
    return services.sample_record(
        concrete_batch=batch,
        actor=sampler,
        project=project,
        agency=agency,
        test_item=item,
        part=("3# 楼基础承台", "3# 楼二层梁板", "3# 楼三层柱")[n - 1],
        batch=f"P.O 42.5 第 {n} 批 200 t",
        count=3,
        dimensions="40×40×160 mm",
        description="P.O 42.5",
        tags=[services.TagIn(f"DEMO-TAG-{n}-{i}") for i in range(1, 4)],
        photos=[
            services.PhotoIn("specimen", _photo(sampler, 7000 + n * 10 + 1)),
            services.PhotoIn("placard", _photo(sampler, 7000 + n * 10 + 2)),
        ],
        latitude="23.150200",
        longitude="113.350300",
        accuracy_m=8,
    )


def _replayed_code(username: str) -> str:
    """The demo account's current TOTP code, accepted again within its 30-second step:
    the demo confirms many records at once, which a person never does."""

    TOTPDevice.objects.filter(user__username=username, confirmed=True).update(last_t=-1)
    return demo_totp_code(username)


def _confirm(user: User, sample: Sample, seed: int) -> None:
    services.sample_confirm(
        actor=user,
        sample=sample,
        live_photo=_photo(user, seed),
        totp_code=_replayed_code(user.username),
        latitude="23.150250",
        longitude="113.350350",
        accuracy_m=10,
    )


def _commission(people: dict[str, User], project: Project, agency: Agency) -> int:
    """A commission (委托单; Nanchang 四(四)1) for the received sample, filled by the
    courier and confirmed by the courier and the witness (TOTP codes of the next step:
    each code is accepted once)."""

    from .commissions import LineIn, commission_confirm, commission_fill

    sample = Sample.objects.filter(
        project=project, agency=agency, status=SampleStatus.RECEIVED, commission_line__isnull=True
    ).first()
    if sample is None or Commission.objects.filter(project=project).exists():
        return 0
    courier, witness = people["gz_courier"], people["gz_witness"]
    commission = commission_fill(
        actor=courier, project=project, agency=agency, lines=[LineIn(sample)], notes="按标准检测抗压强度"
    )
    for seed, person in ((7301, courier), (7302, witness)):
        commission.refresh_from_db()
        commission_confirm(
            actor=person,
            commission=commission,
            live_photo=_photo(person, seed),
            totp_code=_replayed_code(person.username),
            latitude="23.150250",
            longitude="113.350350",
            accuracy_m=10,
        )
    return 1


def _sign(user: User, seed: int) -> dict[str, Any]:
    return {
        "actor": user,
        "live_photo": _photo(user, seed),
        "totp_code": _replayed_code(user.username),
        "latitude": "23.150250",
        "longitude": "113.350350",
        "accuracy_m": 10,
    }


def _concrete_batch(people: dict[str, User], project: Project) -> Any:
    """A C30 pour on arrival with its slump placard photo, confirmed by both parties
    (Nanchang 四(一))."""

    sampler = people["gz_sampler"]
    batch = custody.batch_record(
        actor=sampler,
        project=project,
        part="3# 楼基础承台",
        volume_m3="36.00",
        strength_grade="C30",
        curing="standard",
        producer="广州某混凝土有限公司",
        delivery_note="GZ-HNT-20260001",
        slump_mm=180,
        photos=[services.PhotoIn("slump", _photo(sampler, 7301))],
        latitude="23.150200",
        longitude="113.350300",
        accuracy_m=8,
    )
    custody.batch_confirm(batch=batch, **_sign(sampler, 7302))
    custody.batch_confirm(batch=batch, **_sign(people["gz_witness"], 7303))
    return batch


def _custody(people: dict[str, User], sample: Sample) -> None:
    """Into the curing room and out of it, then handed to the courier (Nanchang 四(三)).
    The exit comes minutes after the sampling, so the demo shows its ``curing_out_early``
    finding."""

    sampler, witness, courier = people["gz_sampler"], people["gz_witness"], people["gz_courier"]
    where: dict[str, Any] = {"latitude": "23.150200", "longitude": "113.350300", "accuracy_m": 8}
    seed = 7400
    for kind, second in (("curing_in", witness), ("curing_out", witness), ("transport", courier)):
        event = custody.custody_record(
            actor=sampler,
            sample=sample,
            kind=kind,
            photos=[_photo(sampler, seed + 1)],
            room="项目部标准养护室" if kind != "transport" else "",
            age_days=28 if kind == "curing_out" else None,
            to_person=courier if kind == "transport" else None,
            **where,
        )
        custody.custody_confirm(event=event, **_sign(sampler, seed + 2))
        custody.custody_confirm(event=event, **_sign(second, seed + 3))
        seed += 10


@transaction.atomic
def sampling_demo() -> tuple[int, list[DemoLogin]]:
    """``inspecta demo``'s loader (``SamplingConfig.demo_loader``)."""

    project = Project.objects.filter(code=PROJECT).first()
    agency = Agency.objects.filter(organisation__users__username="gz_agency").select_related("organisation").first()
    item = TestItem.objects.filter(pk=ITEM).first()
    if project is None or agency is None or item is None:
        return 0, []
    added = 0
    people: dict[str, User] = {}
    for username, full_name, org_name, roles in PEOPLE:
        org = Organisation.objects.filter(name=org_name).first()
        if org is None:
            return 0, []
        added += not User.objects.filter(username=username).exists()
        people[username] = _person(username, full_name, org, roles)
    added += not User.objects.filter(username=RECEIVER[0]).exists()
    receiver = _person(RECEIVER[0], RECEIVER[1], agency.organisation, (Role.RECEIVER,))
    people[RECEIVER[0]] = receiver
    for admin, person, duty in (
        ("gz_contractor_admin", "gz_sampler", "sampler"),
        ("gz_firm_admin", "gz_witness", "witness"),
    ):
        party = project.parties.filter(organisation=people[admin].organisation).first()
        if party is not None:  # names them once (naming again changes nothing)
            project_person_name(actor=people[admin], party=party, person_id=people[person].pk, duty=duty)

    if not Sample.objects.filter(project=project).exists():
        batch = _concrete_batch(people, project)
        received = _record(people, project, agency, item, 1, batch)
        _confirm(people["gz_sampler"], received, 7101)
        _confirm(people["gz_witness"], received, 7102)
        received.refresh_from_db()
        _custody(people, received)
        nonce, _challenge = services.handover_challenge(actor=people["gz_courier"])
        _handover, code = services.handover_issue(
            actor=people["gz_courier"], nonce=nonce, totp_code=_replayed_code("gz_courier")
        )
        services.sample_receive(
            actor=receiver,
            sample=received,
            accept=True,
            tags=list(received.specimens.values_list("tag_id", flat=True)),
            seal_text=received.seal.text,
            handover_code=code,
            deliverer_photo=_photo(receiver, 7103),
            photos=[_photo(receiver, 7011)],
            appearance="完好，封志完整",
        )
        waiting = _record(people, project, agency, item, 2)
        _confirm(people["gz_sampler"], waiting, 7201)  # waits for the witness
        _record(people, project, agency, item, 3)  # waits for its sampler's confirmation
        added += 3
    if not Registration.objects.filter(username=PENDING_REGISTRATION[0]).exists():
        username, full_name, first17 = PENDING_REGISTRATION
        registration_submit(
            organisation=people["gz_sampler"].organisation,  # type: ignore[arg-type]
            full_name=full_name,
            id_number=first17 + id_number_check_char(first17),
            mobile="13800138000",
            photo=picture_bytes(7301, fmt="JPEG"),
            photo_name="demo-7301.jpg",
            role=Role.SAMPLER,
            username=username,
            password=DEMO_PASSWORD,
        )
        added += 1
    added += _commission(people, project, agency)
    logins = [
        DemoLogin(
            u.username, u.full_name, u.organisation.name if u.organisation else "", " / ".join(u.role_labels), False
        )
        for u in people.values()
    ]
    return added, logins
