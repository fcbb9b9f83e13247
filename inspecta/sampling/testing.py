"""Building blocks of the chain-of-custody tests: a project with a contractor (whose
sampler records) and a supervising firm (whose witness confirms), both with passkeys on
software phones, and photos that differ from each other."""

from __future__ import annotations

from typing import Any

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.passkeys import passkey_register, passkey_registration_options
from inspecta.accounts.services import organisation_create
from inspecta.accounts.testing import SoftAuthenticator
from inspecta.core.files import file_store
from inspecta.core.models import StoredFile, TestItem
from inspecta.core.testing import factories
from inspecta.core.testing.factories import UserFactory
from inspecta.projects import services as project_services
from inspecta.registry.testing import CEMENT
from inspecta.reports.testing import approved_agency

from .demo import picture_bytes as photo_bytes
from .services import PhotoIn, TagIn

__all__ = ["photo", "photo_bytes", "record_kwargs", "sampling_scene"]


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


def sampling_scene(tree: dict[str, Any], n: int = 1, *, region: str = "440106") -> dict[str, Any]:
    """An approved agency, a project in ``region`` (coordinates 23.13, 113.33) whose
    parties are a contractor and a supervising firm with accounts here, their sampler and
    witness with a passkey each (``sampler_phone``, ``witness_phone``), and the agency's
    receiver."""

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
    return {
        "agency": agency,
        "agency_admin": agency_admin,
        "made": made,
        "contractor": contractor,
        "firm": firm,
        "project": project,
        "sampler": sampler,
        "witness": witness,
        "receiver": receiver,
        "sampler_phone": _enrol(sampler),
        "witness_phone": _enrol(witness),
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
