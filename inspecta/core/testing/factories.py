"""Factories that build scenario data through the real services (STYLE.md 12)."""

from __future__ import annotations

from typing import Any

import factory
from faker import Faker

from inspecta.accounts.choices import AuthorityLevel, OrganisationKind, Role
from inspecta.accounts.models import Organisation, User
from inspecta.accounts.services import organisation_create, user_create
from inspecta.core.models import Region

fake = Faker("zh_CN")
PASSWORD = "Tq7#Lab-Fixture9"  # noqa: S105 - fixture password for test accounts


def region(code: str) -> Region:
    """A region from the loaded GB/T 2260 table, creating the ancestors if a test
    database was not seeded."""

    existing = Region.objects.filter(pk=code).first()
    if existing is not None:
        return existing
    if code.endswith("0000"):
        return Region.objects.create(code=code, name=f"省{code[:2]}", level="province")
    if code.endswith("00"):
        return Region.objects.create(code=code, name=f"市{code[:4]}", level="city", parent=region(code[:2] + "0000"))
    return Region.objects.create(code=code, name=f"区{code}", level="county", parent=region(code[:4] + "00"))


class OrganisationFactory(factory.Factory):
    class Meta:
        model = Organisation

    name = factory.LazyFunction(lambda: fake.company())
    kind = OrganisationKind.AUTHORITY
    level = AuthorityLevel.PROVINCE
    region_code = "440000"
    parent: Organisation | None = None

    @classmethod
    def _create(cls, model_class: type[Organisation], *args: Any, **kwargs: Any) -> Organisation:
        code = kwargs.pop("region_code")
        return organisation_create(actor=None, region=region(code), **kwargs)


class UserFactory(factory.Factory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.LazyFunction(lambda: fake.name())
    organisation = factory.SubFactory(OrganisationFactory)
    roles = factory.LazyFunction(lambda: [Role.AUTHORITY_ADMIN])
    password = PASSWORD

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        kwargs.setdefault("must_change_password", False)
        return user_create(actor=None, **kwargs)


def authority_tree() -> dict[str, Any]:
    """A province with two cities, a district and stations, with an admin at each node.

    Returns a dict of organisations and users by short key, the scenario most access
    tests need: ``gd`` (province), ``gz`` and ``sz`` (cities), ``th`` (district of gz).
    """

    gd = OrganisationFactory(name="省厅", level=AuthorityLevel.PROVINCE, region_code="440000")
    gz = OrganisationFactory(name="广州局", level=AuthorityLevel.CITY, region_code="440100", parent=gd)
    sz = OrganisationFactory(name="深圳局", level=AuthorityLevel.CITY, region_code="440300", parent=gd)
    th = OrganisationFactory(name="天河局", level=AuthorityLevel.DISTRICT, region_code="440106", parent=gz)
    gz_station = OrganisationFactory(
        name="广州监督站", kind=OrganisationKind.STATION, level=AuthorityLevel.CITY, region_code="440100", parent=gz
    )
    ops = OrganisationFactory(name="运维", kind=OrganisationKind.OPERATOR, level="", region_code="440000")
    return {
        "gd": gd,
        "gz": gz,
        "sz": sz,
        "th": th,
        "gz_station": gz_station,
        "ops": ops,
        "operator": UserFactory(username="operator", organisation=ops, roles=[Role.OPERATOR]),
        "gd_admin": UserFactory(username="gd_admin", organisation=gd),
        "gz_admin": UserFactory(username="gz_admin", organisation=gz),
        "gz_supervisor": UserFactory(username="gz_supervisor", organisation=gz, roles=[Role.AUTHORITY_SUPERVISOR]),
        "gz_inspector": UserFactory(username="gz_inspector", organisation=gz_station, roles=[Role.STATION_INSPECTOR]),
        "sz_admin": UserFactory(username="sz_admin", organisation=sz),
        "sz_supervisor": UserFactory(username="sz_supervisor", organisation=sz, roles=[Role.AUTHORITY_SUPERVISOR]),
        "th_admin": UserFactory(username="th_admin", organisation=th),
    }
