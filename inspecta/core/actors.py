"""Who is acting: one ``Actor`` for a signed-in person and for an exchange client alike.

Every read is scoped and every write authorised by *who acts* (DESIGN.md "Who uses it";
T/CECS 8.1 role and region separation). Two kinds of principal reach the code: a person
signed in through the browser (a ``User``) and a machine calling the signed exchange
API for its organisation (CONTRACT §2). Both resolve here, once, to an :class:`Actor`
that says what it is:

- ``operator``: runs the node (the ``operator`` role or a superuser);
- ``authority`` or ``station``: a regulator of a region (province, city or district);
- ``agency``: a testing agency, its people or its LIMS;
- ``party``: an owner, contractor, supervising firm or expert pool member;
- ``public``: nobody signed in, or somebody whose organisation is missing or disabled.

with its organisation, region prefix (GB/T 2260: a province shares its two-digit prefix,
a city four digits, a district its whole code), roles (people) and scopes (clients).
Services, selectors, views, templates and the navigation all ask the same object, so
they cannot disagree on what a caller is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from inspecta.accounts.choices import OrganisationKind, Role

if TYPE_CHECKING:
    from inspecta.accounts.models import Organisation, User

__all__ = ["Actor", "ActorKind", "acting_for", "actor_of", "region_prefix", "region_within"]


def region_prefix(code: str) -> str:
    """The prefix that every region inside ``code`` shares (GB/T 2260 structure)."""

    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_within(code: str, ancestor: str) -> bool:
    """Whether region ``code`` lies inside (or is) region ``ancestor``."""

    return bool(code) and bool(ancestor) and code.startswith(region_prefix(ancestor))


class ActorKind(StrEnum):
    OPERATOR = "operator"
    AUTHORITY = "authority"
    STATION = "station"
    AGENCY = "agency"
    PARTY = "party"
    PUBLIC = "public"


_KIND_OF_ORGANISATION: dict[str, ActorKind] = {
    OrganisationKind.AUTHORITY: ActorKind.AUTHORITY,
    OrganisationKind.STATION: ActorKind.STATION,
    OrganisationKind.AGENCY: ActorKind.AGENCY,
    OrganisationKind.OWNER: ActorKind.PARTY,
    OrganisationKind.CONTRACTOR: ActorKind.PARTY,
    OrganisationKind.SUPERVISING_FIRM: ActorKind.PARTY,
    OrganisationKind.EXPERT_POOL: ActorKind.PARTY,
}


@dataclass(frozen=True, eq=False)
class Actor:
    """A resolved principal. Build it with :func:`actor_of` (people) or
    :meth:`for_client` (the exchange API's signature check), never by hand."""

    kind: ActorKind
    organisation: Organisation | None = None
    user: User | None = None
    client: Any = None  # exchange.ExchangeClient of a signed call
    key: Any = None  # exchange.ClientKey that signed it
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    # --- construction --------------------------------------------------------------
    @classmethod
    def for_user(cls, user: User) -> Actor:
        if not user.is_authenticated or not user.is_active:
            return PUBLIC
        roles = frozenset(user.roles)
        org = user.organisation
        if user.is_superuser or Role.OPERATOR in roles:
            return cls(ActorKind.OPERATOR, organisation=org, user=user, roles=roles)
        if org is None or not org.is_active or org.kind not in _KIND_OF_ORGANISATION:
            # a person without a working organisation acts in no role (only as
            # themselves: their own account)
            return cls(ActorKind.PUBLIC, organisation=org, user=user)
        return cls(_KIND_OF_ORGANISATION[org.kind], organisation=org, user=user, roles=roles)

    @classmethod
    def for_client(cls, client: Any, key: Any) -> Actor:
        """An exchange client acts for its organisation with the scopes it was granted;
        it holds no roles and is never an operator."""

        org = client.organisation
        kind = _KIND_OF_ORGANISATION.get(org.kind, ActorKind.PARTY) if org.is_active else ActorKind.PUBLIC
        return cls(kind, organisation=org, client=client, key=key, scopes=frozenset(client.scopes))

    def on_behalf_of(self, person: User) -> Actor:
        """A signed call (a site app, a LIMS) doing a step for one of its organisation's
        own people: it acts with that person's roles, as that person, and still as the
        client (its key and scopes are kept for the audit trail and the call log). The
        person must belong to the client's organisation and be active; an operator
        account is never acted for. Steps that need the person's own word (a confirmation)
        still check that person's identity proof (``accounts.passkeys``)."""

        if self.client is None:
            raise ValueError("only a signed call acts on behalf of a person")
        acting = Actor.for_user(person)
        if (
            person.organisation_id != self.organisation_id
            or acting.kind in (ActorKind.PUBLIC, ActorKind.OPERATOR)
            or acting.kind is not self.kind
        ):
            return PUBLIC
        return replace(acting, client=self.client, key=self.key, scopes=self.scopes)

    # --- what it is ----------------------------------------------------------------
    @property
    def is_client(self) -> bool:
        return self.client is not None

    @property
    def is_public(self) -> bool:
        return self.kind is ActorKind.PUBLIC

    @property
    def is_operator(self) -> bool:
        return self.kind is ActorKind.OPERATOR

    @property
    def is_regulator(self) -> bool:
        """An authority or a station (by organisation, for people and clients alike)."""

        return self.kind in (ActorKind.AUTHORITY, ActorKind.STATION)

    @property
    def organisation_id(self) -> int | None:
        return self.organisation.pk if self.organisation is not None else None

    @property
    def region_code(self) -> str:
        return self.organisation.region_id if self.organisation is not None else ""

    @property
    def region_prefix(self) -> str:
        return region_prefix(self.region_code) if self.region_code else ""

    @property
    def level(self) -> str:
        return self.organisation.level if self.organisation is not None else ""

    @property
    def owner_tag(self) -> str:
        """Who owns an idempotency record or an upload: ``user:<id>`` or ``client:<id>``."""

        if self.client is not None:
            return f"client:{self.client.pk}"
        return f"user:{self.user.pk}" if self.user is not None else ""

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def within(self, region_code: str) -> bool:
        """Whether ``region_code`` lies inside the actor's region."""

        return region_within(region_code, self.region_code)

    def __repr__(self) -> str:
        who = f"client:{self.client.pk}" if self.client is not None else f"user:{getattr(self.user, 'pk', None)}"
        return f"<Actor {self.kind} {who} org={self.organisation_id} region={self.region_code}>"


PUBLIC = Actor(ActorKind.PUBLIC)


def actor_of(who: Any) -> Actor:
    """The :class:`Actor` of a ``User``, an anonymous user, ``None`` or an ``Actor``.

    Cheap to call again: the user's roles and organisation are already loaded, and
    nothing is cached beyond them, so a disabled organisation counts at once."""

    if isinstance(who, Actor):
        return who
    if who is None or not getattr(who, "is_authenticated", False):
        return PUBLIC
    return Actor.for_user(who)


def acting_for(who: Any, person_id: int | None) -> Actor:
    """Who does a step that a person does (sampling, witnessing, receiving, a commission,
    a custody event; T/CECS 4.3.4-2): a person signed in acts as themself (naming someone
    else is refused); a signed call names ``person_id``, a person of its own
    organisation, and acts on their behalf (:meth:`Actor.on_behalf_of`). Refusals are
    ``AppError`` with a Chinese message; nothing is changed."""

    from inspecta.accounts.models import User
    from inspecta.core.errors import AppError, ErrorCode

    actor = actor_of(who)
    if not actor.is_client:
        if person_id is not None and (actor.user is None or person_id != actor.user.pk):
            raise AppError(ErrorCode.PERSON_NOT_ACTING, _("只能以本人身份办理，不能代他人操作。"))
        return actor
    if person_id is None:
        raise AppError(
            ErrorCode.PERSON_REQUIRED, _("接口调用须用 person_id 指明办理该环节的本单位人员。"), {"field": "person_id"}
        )
    person = User.objects.select_related("organisation").filter(pk=person_id).first()
    acting = actor.on_behalf_of(person) if person is not None else PUBLIC
    if acting.is_public:
        raise AppError(
            ErrorCode.PERSON_NOT_ACTING,
            _("person_id 指明的人员不是本接入单位在职的人员，不能代其办理。"),
            {"field": "person_id", "person_id": person_id},
        )
    return acting
