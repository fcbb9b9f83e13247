"""A signed call acting for one of its organisation's people (``core.actors.acting_for``)."""

from __future__ import annotations

import pytest

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.core.actors import Actor, ActorKind, acting_for
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.testing.factories import OrganisationFactory, UserFactory, authority_tree
from inspecta.exchange.choices import Scope
from inspecta.exchange.testing import approved_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    tree = authority_tree()
    agency = OrganisationFactory(name="某检测公司", kind=OrganisationKind.AGENCY, level="", region_code="440106")
    admin = UserFactory(username="a_admin", organisation=agency, roles=[Role.AGENCY_ADMIN])
    receiver = UserFactory(username="a_receiver", organisation=agency, roles=[Role.RECEIVER])
    other_org = OrganisationFactory(name="另一检测公司", kind=OrganisationKind.AGENCY, level="", region_code="440106")
    stranger = UserFactory(username="o_receiver", organisation=other_org, roles=[Role.RECEIVER])
    creds = approved_client(applicant=admin, reviewer=tree["th_admin"], scopes=[Scope.CUSTODY_WRITE.value])
    client_actor = Actor.for_client(creds.client, creds.client.keys.first())
    return {"client": client_actor, "receiver": receiver, "stranger": stranger, "admin": admin}


def test_a_signed_call_acts_as_the_named_person_of_its_organisation(scene):
    acting = acting_for(scene["client"], scene["receiver"].pk)
    assert acting.user == scene["receiver"]
    assert acting.kind is ActorKind.AGENCY
    assert acting.has_role(Role.RECEIVER)
    assert acting.client == scene["client"].client
    assert acting.has_scope(Scope.CUSTODY_WRITE.value)


def test_a_signed_call_must_name_a_person_of_its_own_organisation(scene):
    with pytest.raises(AppError) as missing:
        acting_for(scene["client"], None)
    assert missing.value.code is ErrorCode.PERSON_REQUIRED
    for person_id in (scene["stranger"].pk, 999_999):
        with pytest.raises(AppError) as foreign:
            acting_for(scene["client"], person_id)
        assert foreign.value.code is ErrorCode.PERSON_NOT_ACTING
        assert "不是本接入单位" in foreign.value.message


def test_an_inactive_person_is_not_acted_for(scene):
    scene["receiver"].is_active = False
    scene["receiver"].save()
    with pytest.raises(AppError) as refused:
        acting_for(scene["client"], scene["receiver"].pk)
    assert refused.value.code is ErrorCode.PERSON_NOT_ACTING


def test_a_person_signed_in_acts_only_as_themself(scene):
    receiver = scene["receiver"]
    assert acting_for(receiver, None).user == receiver
    assert acting_for(receiver, receiver.pk).user == receiver
    with pytest.raises(AppError) as other:
        acting_for(receiver, scene["admin"].pk)
    assert other.value.code is ErrorCode.PERSON_NOT_ACTING
