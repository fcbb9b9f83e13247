"""Reads of the agency registry, scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.models import User
from inspecta.core.actors import actor_of
from inspecta.core.masking import Audience

from .choices import AgencyCertificateKind, AgencyStatus
from .models import Agency, AgencyCertificate, AgencyOwned, Finding, QualificationCertificate


def agency_list(*, actor: User) -> QuerySet[Agency]:
    """Agencies the actor may see, with their open-finding counts
    (``open_findings``); ``filtersets.AgencyFilterSet`` narrows them."""

    return (
        Agency.objects.restrict(actor, "view")
        .select_related("region", "region__parent", "region__parent__parent")
        .annotate(open_findings=Count("finding_set", filter=Q(finding_set__resolved_at__isnull=True)))
        .order_by("region_id", "name", "pk")
    )


def agency_get(*, actor: User, pk: int, action: str = "view") -> Agency:
    """One agency in the actor's scope, or 404 (outsiders learn nothing)."""

    agency = Agency.objects.restrict(actor, action).select_related("region", "organisation", "parent").filter(pk=pk)
    found = agency.first()
    if found is None:
        raise Http404(_("检测机构不存在或不在您的权限范围内。"))
    return found


def agency_of(user: Any) -> Agency | None:
    """The agency of an agency user, if any."""

    org_id = getattr(user, "organisation_id", None)
    if not org_id:
        return None
    return Agency.objects.filter(organisation_id=org_id).first()


def audience_for(actor: Any, agency: Agency) -> Audience:
    """How much of personal numbers ``actor`` sees: the agency itself
    and its reviewing authority in full; other authority users first 6 + last 4; the
    rest (public, other agencies) first 1 + last 2."""

    from .permissions import acts_for_agency, may_review

    who = actor_of(actor)
    if who.is_public:
        return Audience.PUBLIC
    if acts_for_agency(who, agency) or may_review(who, agency):
        return Audience.FULL
    if who.is_operator or who.is_regulator:
        return Audience.AUTHORITY
    return Audience.PUBLIC


def removals(*, actor: Any, model: type[AgencyOwned]) -> QuerySet[Any]:
    """The removals of ``model`` rows (their audit rows of type ``-``, django-simple-history)
    in the agencies ``actor`` may see, oldest first: what a mirror of the registry deletes
    (Guangdong 附件2 一(三)(四)). The audit row outlives the record, so the scope is the one
    ``model.objects.restrict(actor)`` gives the live rows, asked of the agency by id."""

    visible = Agency.objects.restrict(actor, "view").values("pk")
    history = model.history  # type: ignore[attr-defined]
    return history.filter(history_type="-", agency_id__in=visible).order_by("history_date", "history_id")


def open_findings(agency: Agency) -> QuerySet[Finding]:
    return Finding.objects.filter(agency=agency, resolved_at__isnull=True).order_by("severity", "rule", "since", "pk")


# --- public list (CONTRACT §6a; Guangdong 附件2 一(四)) ----------------------------


def public_agency_list() -> QuerySet[Agency]:
    """Approved agencies, for everyone; ``filtersets.PublicAgencyFilterSet`` searches them
    by region (code prefix), specialty and name."""

    qs = (
        Agency.objects.filter(status=AgencyStatus.APPROVED, organisation__is_active=True)
        .select_related("region", "region__parent", "region__parent__parent")
        .prefetch_related(
            Prefetch(
                "qualificationcertificate_set",
                queryset=QualificationCertificate.objects.prefetch_related("specialties").order_by("number"),
            ),
            Prefetch(
                "agencycertificate_set",
                queryset=AgencyCertificate.objects.order_by("kind", "-valid_until"),
            ),
        )
    )
    return qs.order_by("region_id", "name", "pk")


def offered_specialties(agencies: list[Agency]) -> dict[int, list[dict[str, str]]]:
    """The specialties each agency offers at its sites, for a page of agencies in one query."""

    from .models import SiteCapability

    result: dict[int, list[dict[str, str]]] = {a.pk: [] for a in agencies}
    rows = (
        SiteCapability.objects.filter(agency__in=[a.pk for a in agencies])
        .values_list(
            "agency_id", "item_parameter__test_item__specialty_id", "item_parameter__test_item__specialty__name"
        )
        .distinct()
        .order_by("agency_id", "item_parameter__test_item__specialty_id")
    )
    for agency_id, code, name in rows:
        result[agency_id].append({"code": code, "name": name})
    return result


def certificate_status(agency: Agency, kind: str, today: datetime.date | None = None) -> dict[str, Any]:
    """``valid``, ``expired`` or ``missing``, with number and validity of the latest one
    (uses the prefetched certificates when present)."""

    today = today or timezone.localdate()
    certs = [c for c in agency.agencycertificate_set.all() if c.kind == kind]
    if not certs:
        return {"status": "missing", "number": "", "valid_until": None}
    latest = max(certs, key=lambda c: c.valid_until)
    return {
        "status": "valid" if latest.valid_until >= today else "expired",
        "number": latest.number,
        "valid_until": latest.valid_until,
    }


def public_agency_items(agencies: list[Agency], today: datetime.date | None = None) -> list[dict[str, Any]]:
    """A page of the public list (queries do not grow with the page size)."""

    offered = offered_specialties(agencies)
    return [public_agency_item(a, today, specialties=offered[a.pk]) for a in agencies]


def public_agency_item(
    agency: Agency, today: datetime.date | None = None, specialties: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """One agency on the public list: no personal data at all."""

    today = today or timezone.localdate()
    if specialties is None:
        specialties = offered_specialties([agency])[agency.pk]
    qualifications = [
        {
            "number": q.number,
            "grade": q.grade,
            "valid_until": q.valid_until,
            "valid": q.valid_until >= today,
            "specialties": [{"code": s.code, "name": s.name} for s in q.specialties.all()],
        }
        for q in agency.qualificationcertificate_set.all()
    ]
    return {
        "id": agency.pk,
        "name": agency.name,
        "credit_code": agency.credit_code,
        "region": {"code": agency.region_id, "name": agency.region.full_name},
        "office_address": agency.office_address,
        "phone": agency.phone,
        "qualifications": qualifications,
        "specialties": specialties,
        "cma": certificate_status(agency, AgencyCertificateKind.CMA, today),
        "cnas": certificate_status(agency, AgencyCertificateKind.CNAS, today),
        "approved_at": agency.approved_at,
    }
