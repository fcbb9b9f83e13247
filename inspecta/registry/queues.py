"""What waits for a person in the registry (the home page's work queues, ``WorkItem``):
for the registration authority the agencies to review and the key-fact change requests
(Guangdong 附件2 一(二)); for an agency what was returned and what expires within
``conformity.EXPIRY_WARNING_DAYS`` (post certificates, qualification and CMA
certificates, equipment calibrations; T/CECS 4.1.3)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.appconfig import HomeFigure, WorkItem
from inspecta.core.permissions import is_agency, is_authority, is_operator, is_regulator

from .choices import AgencyStatus, ChangeRequestStatus
from .conformity import EXPIRY_WARNING_DAYS
from .models import (
    Agency,
    AgencyCertificate,
    ChangeRequest,
    Equipment,
    PostCertificate,
    QualificationCertificate,
    Staff,
)
from .selectors import agency_of


def work_queue(actor: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    if is_operator(actor) or is_authority(actor):
        reviewable = Agency.objects.restrict(actor, "review")
        counts = reviewable.aggregate(submitted=Count("pk", filter=Q(status=AgencyStatus.SUBMITTED)))
        changes = ChangeRequest.objects.filter(
            status=ChangeRequestStatus.PENDING, agency__in=reviewable.values("pk")
        ).count()
        agency_list = reverse("registry:agency_list")
        items += [
            WorkItem(_("待审核的检测机构"), counts["submitted"], f"{agency_list}?status=submitted", "red"),
            WorkItem(_("待审核的关键信息变更"), changes, f"{agency_list}?changes=pending", "red"),
        ]
    if is_agency(actor):
        agency = agency_of(actor)
        if agency is None:
            return items
        today = timezone.localdate()
        window = (today, today + datetime.timedelta(days=EXPIRY_WARNING_DAYS))
        detail = reverse("registry:agency_detail", args=[agency.pk])
        returned = (
            int(agency.status == AgencyStatus.RETURNED)
            + ChangeRequest.objects.filter(
                agency=agency,
                status=ChangeRequestStatus.REJECTED,
                decided_at__date__gte=today - datetime.timedelta(days=30),
            ).count()
        )
        certificates = (
            PostCertificate.objects.filter(agency=agency, staff__active=True, valid_until__range=window).count()
            + QualificationCertificate.objects.filter(agency=agency, valid_until__range=window).count()
            + AgencyCertificate.objects.filter(agency=agency, valid_until__range=window).count()
        )
        calibrations = Equipment.objects.filter(agency=agency, calibration_valid_until__range=window).count()
        items += [
            WorkItem(_("被退回的登记或变更"), returned, detail, "red"),
            WorkItem(
                _("%(n)d 日内到期的证书") % {"n": EXPIRY_WARNING_DAYS},
                certificates,
                reverse("registry:section", args=[agency.pk, "post_certificate"]) + "?expiring=1",
                "yellow",
            ),
            WorkItem(
                _("%(n)d 日内到期的设备检定/校准") % {"n": EXPIRY_WARNING_DAYS},
                calibrations,
                reverse("registry:findings") + "?rule=calibration_expiring",
                "yellow",
            ),
        ]
    return items


def home_figures(actor: Any) -> list[HomeFigure]:
    """For an agency its staff in post and its equipment; for a regulator the approved
    agencies of their area."""

    if is_agency(actor):
        agency = agency_of(actor)
        if agency is None:
            return []
        return [
            HomeFigure(
                "staff",
                _("在岗检测人员"),
                Staff.objects.filter(agency=agency, active=True).count(),
                reverse("registry:section", args=[agency.pk, "staff"]),
            ),
            HomeFigure(
                "equipment",
                _("仪器设备"),
                Equipment.objects.filter(agency=agency).count(),
                reverse("registry:section", args=[agency.pk, "equipment"]),
            ),
        ]
    if is_regulator(actor) or is_operator(actor):
        approved = Agency.objects.restrict(actor).filter(status=AgencyStatus.APPROVED).count()
        url = reverse("registry:agency_list") + "?status=approved"
        return [HomeFigure("agencies", _("已登记的检测机构"), approved, url)]
    return []
