"""Building blocks of the chain-of-custody tests: a project with a contractor (whose
sampler records) and a supervising firm (whose witness confirms), both with passkeys on
software phones, and photos that differ from each other."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.passkeys import (
    identity_challenge_options,
    passkey_register,
    passkey_registration_options,
)
from inspecta.accounts.services import organisation_create
from inspecta.accounts.testing import SoftAuthenticator
from inspecta.core.files import file_store
from inspecta.core.imaging import picture_bytes as photo_bytes
from inspecta.core.models import StoredFile, TestItem
from inspecta.core.testing import factories
from inspecta.core.testing.factories import UserFactory
from inspecta.projects import services as project_services
from inspecta.registry.testing import CEMENT
from inspecta.reports.testing import approved_agency

from .services import PhotoIn, TagIn

__all__ = [
    "batch_kwargs",
    "batch_sign",
    "confirm_sample",
    "custody_kwargs",
    "custody_sign",
    "photo",
    "photo_bytes",
    "received_sample",
    "record_kwargs",
    "sampling_scene",
    "sealed_sample",
]


def photo(user: Any, seed: int, **kwargs: Any) -> StoredFile:
    return file_store(
        photo_bytes(seed, **kwargs),
        organisation_id=user.organisation_id,
        purpose="photo",
        name=f"p{seed}.png",
        actor=user,
    )


def _enrol(user: Any) -> SoftAuthenticator:
    phone = SoftAuthenticator()
    passkey_register(
        actor=user, user=user, credential=phone.create(passkey_registration_options(user=user)), name="手机"
    )
    return phone


def sampling_scene(tree: dict[str, Any], n: int = 1, *, region: str = "440106", named: bool = True) -> dict[str, Any]:
    """An approved agency, a project in ``region`` (coordinates 23.13, 113.33) whose
    parties are a contractor and a supervising firm with accounts here, their sampler and
    witness with a passkey each (``sampler_phone``, ``witness_phone``), the agency's
    receiver, and each party's admin (``contractor_admin``, ``firm_admin``) who has named
    the sampler and the witness on the project (unless ``named`` is false)."""

    agency, agency_admin, made = approved_agency(tree, n)
    contractor = organisation_create(
        actor=None, name=f"施工单位{n}", kind=OrganisationKind.CONTRACTOR, region=factories.region(region)
    )
    firm = organisation_create(
        actor=None, name=f"监理单位{n}", kind=OrganisationKind.SUPERVISING_FIRM, region=factories.region(region)
    )
    project = project_services.project_create(
        actor=tree["gz_supervisor"],
        code=f"SMP-{n}",
        name=f"取样测试工程{n}",
        region_code=region,
        address="广州市天河区测试路 1 号",
        longitude="113.330000",
        latitude="23.130000",
        parties=[
            {"role": "contractor", "name": contractor.name, "organisation_id": contractor.pk},
            {"role": "supervising_firm", "name": firm.name, "organisation_id": firm.pk},
            {"role": "agency", "agency_id": agency.pk},
        ],
    )
    sampler = UserFactory(username=f"sampler{n}", organisation=contractor, roles=[Role.SAMPLER])
    witness = UserFactory(username=f"witness{n}", organisation=firm, roles=[Role.WITNESS])
    receiver = UserFactory(username=f"receiver{n}", organisation=agency.organisation, roles=[Role.RECEIVER])
    courier = UserFactory(username=f"courier{n}", organisation=contractor, roles=[Role.PROJECT_VIEWER])
    contractor_admin = UserFactory(username=f"cadmin{n}", organisation=contractor, roles=[Role.PARTY_ADMIN])
    firm_admin = UserFactory(username=f"fadmin{n}", organisation=firm, roles=[Role.PARTY_ADMIN])
    if named:
        for admin, person, duty in ((contractor_admin, sampler, "sampler"), (firm_admin, witness, "witness")):
            party = project.parties.get(organisation=contractor if duty == "sampler" else firm)
            project_services.project_person_name(actor=admin, party=party, person_id=person.pk, duty=duty)  # type: ignore[attr-defined]
    return {
        "contractor_admin": contractor_admin,
        "firm_admin": firm_admin,
        "agency": agency,
        "agency_admin": agency_admin,
        "made": made,
        "contractor": contractor,
        "firm": firm,
        "project": project,
        "sampler": sampler,
        "witness": witness,
        "receiver": receiver,
        "courier": courier,
        "sampler_phone": _enrol(sampler),
        "witness_phone": _enrol(witness),
        "courier_phone": _enrol(courier),
        "item": TestItem.objects.get(code=CEMENT),
    }


def record_kwargs(scene: dict[str, Any], *, seed: int = 1, count: int = 3, **over: Any) -> dict[str, Any]:
    """Arguments of ``sample_record`` for a sampling of ``count`` specimens with fresh
    tags and photos (seeds ``seed*10 ...``), at the project's place."""

    sampler = scene["sampler"]
    kwargs: dict[str, Any] = {
        "actor": sampler,
        "project": scene["project"],
        "agency": scene["agency"],
        "test_item": scene["item"],
        "part": "三层梁板",
        "batch": "C30 120m³",
        "count": count,
        "dimensions": "150×150×150 mm",
        "description": "C30",
        "tags": [TagIn(f"TAG-{seed}-{i}") for i in range(count)],
        "photos": [
            PhotoIn("specimen", photo(sampler, seed * 10 + 1)),
            PhotoIn("placard", photo(sampler, seed * 10 + 2)),
        ],
        "latitude": "23.130100",
        "longitude": "113.330100",
        "accuracy_m": 8,
    }
    kwargs.update(over)
    return kwargs


def sealed_sample(scene: dict[str, Any], *, seed: int = 4, **over: Any) -> Any:
    """A sample recorded, confirmed by the sampler and by the witness: sealed."""

    from .services import sample_confirm, sample_record, witness_digest

    sample = sample_record(**record_kwargs(scene, seed=seed, **over))
    for who, challenge in (("sampler", lambda: sample.record_sha256), ("witness", None)):
        user = scene[who]
        value = challenge() if challenge else witness_digest(sample, user.pk)
        sample_confirm(
            actor=user,
            sample=sample,
            live_photo=photo(user, seed * 100 + len(who)),
            assertion=scene[f"{who}_phone"].get(identity_challenge_options(user=user, challenge=bytes.fromhex(value))),
            latitude="23.130100",
            longitude="113.330100",
        )
        sample.refresh_from_db()
    return sample


def confirm_sample(scene: dict[str, Any], sample: Any, who: str, seed: int) -> None:
    """``who`` (``sampler`` or ``witness``) confirms ``sample`` at its current step, with
    their phone's passkey and a fresh live photo."""

    from .choices import SampleStatus
    from .services import sample_confirm, witness_digest

    user, phone = scene[who], scene[f"{who}_phone"]
    sample.refresh_from_db()
    challenge = sample.record_sha256 if sample.status == SampleStatus.RECORDED else witness_digest(sample, user.pk)
    sample_confirm(
        actor=user,
        sample=sample,
        live_photo=photo(user, seed),
        assertion=phone.get(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge))),
        latitude="23.130100",
        longitude="113.330100",
    )


def received_sample(
    scene: dict[str, Any], seed: int, *, specimen_photo: StoredFile | None = None, receipt_photos: int = 0
) -> Any:
    """A sample recorded (its specimen photo ``specimen_photo`` if given), confirmed by
    the sampler and the witness, handed over by the sampler and accepted by the agency's
    receiver (with ``receipt_photos`` fresh photos of the specimens)."""

    from .services import PhotoIn, handover_challenge, handover_issue, sample_receive, sample_record

    kwargs = record_kwargs(scene, seed=seed)
    if specimen_photo is not None:
        kwargs["photos"][0] = PhotoIn("specimen", specimen_photo)
    sample = sample_record(**kwargs)
    confirm_sample(scene, sample, "sampler", seed * 100 + 1)
    confirm_sample(scene, sample, "witness", seed * 100 + 2)
    sample.refresh_from_db()
    nonce, challenge = handover_challenge(actor=scene["sampler"])
    options = identity_challenge_options(user=scene["sampler"], challenge=bytes.fromhex(challenge))
    _handover, code = handover_issue(actor=scene["sampler"], nonce=nonce, assertion=scene["sampler_phone"].get(options))
    receiver = scene["receiver"]
    sample_receive(
        actor=receiver,
        sample=sample,
        accept=True,
        tags=list(sample.specimens.values_list("tag_id", flat=True)),
        seal_text=sample.seal.text,
        handover_code=code,
        deliverer_photo=photo(receiver, seed * 100 + 3),
        photos=[photo(receiver, seed * 100 + 4 + i) for i in range(receipt_photos)],
    )
    sample.refresh_from_db()
    return sample


def batch_kwargs(scene: dict[str, Any], *, seed: int = 60, **over: Any) -> dict[str, Any]:
    """Arguments of ``custody.batch_record``: a C30 pour with its slump placard photo, at
    the project's place."""

    sampler = scene["sampler"]
    kwargs: dict[str, Any] = {
        "actor": sampler,
        "project": scene["project"],
        "part": "三层梁板",
        "volume_m3": "12.50",
        "strength_grade": "C30",
        "curing": "standard",
        "producer": "广州某混凝土有限公司",
        "delivery_note": f"SN-{seed}",
        "slump_mm": 180,
        "photos": [PhotoIn("slump", photo(sampler, seed * 10 + 1))],
        "latitude": "23.130100",
        "longitude": "113.330100",
        "accuracy_m": 8,
    }
    kwargs.update(over)
    return kwargs


def custody_kwargs(scene: dict[str, Any], sample: Any, kind: str, *, seed: int, **over: Any) -> dict[str, Any]:
    """Arguments of ``custody.custody_record`` for ``kind`` on ``sample``: the sampler
    records curing, the sampler hands over to the courier; one fresh photo, on site."""

    actor = over.pop("actor", scene["sampler"])
    kwargs: dict[str, Any] = {
        "actor": actor,
        "sample": sample,
        "kind": kind,
        "photos": [photo(actor, seed * 10 + 3)],
        "latitude": "23.130100",
        "longitude": "113.330100",
        "accuracy_m": 8,
        "room": "现场标准养护室" if kind != "transport" else "",
        "to_person": scene["courier"] if kind == "transport" else None,
    }
    kwargs.update(over)
    return kwargs


def _sign(scene: dict[str, Any], who: str, challenge: str, seed: int) -> dict[str, Any]:
    user = scene[who]
    options = identity_challenge_options(user=user, challenge=bytes.fromhex(challenge))
    return {
        "actor": user,
        "live_photo": photo(user, seed),
        "assertion": scene[f"{who}_phone"].get(options),
        "latitude": "23.130200",
        "longitude": "113.330200",
        "accuracy_m": 10,
    }


def batch_sign(scene: dict[str, Any], batch: Any, who: str, *, seed: int) -> dict[str, Any]:
    """Arguments of ``custody.batch_confirm`` for ``who`` (a key of the scene) now."""

    from .custody import batch_challenge

    batch.refresh_from_db()
    _step, challenge = batch_challenge(batch, scene[who])
    return {"batch": batch, **_sign(scene, who, challenge, seed)}


def custody_sign(scene: dict[str, Any], event: Any, who: str, *, seed: int) -> dict[str, Any]:
    """Arguments of ``custody.custody_confirm`` for ``who`` (a key of the scene) now."""

    from .custody import custody_challenge

    event.refresh_from_db()
    _step, challenge = custody_challenge(event, scene[who])
    return {"event": event, **_sign(scene, who, challenge, seed)}
