"""Three-level sign-off of web-prepared reports by three accounts (Nanchang 三(一);
Guangxi 第十一条)."""

from __future__ import annotations

import pytest
from django.http import Http404

from inspecta.core.errors import AppError
from inspecta.ledger.models import Entry as LogEntry
from inspecta.reports import signoff
from inspecta.reports.choices import DraftStatus
from inspecta.reports.models import Report, ReportDraft
from inspecta.reports.testing import draft_fields, pdf_bytes, signing_scene, stored_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree):
    return {"tree": tree, **signing_scene(tree, 901)}


def _prepare(scene, number="R-D001", **over):
    pdf = stored_file(scene["agency"].organisation_id, pdf_bytes(number))
    return signoff.draft_prepare(
        actor=scene["admin"], agency=scene["agency"], fields=draft_fields(scene, number, **over), pdf=pdf
    )


def test_three_accounts_sign_in_order_and_the_signatory_issues(scene):
    entries = LogEntry.objects.count()
    draft = _prepare(scene)
    assert draft.status == DraftStatus.TESTING and not Report.objects.exists()
    assert LogEntry.objects.count() == entries  # a draft is not a report: no number, no log entry
    # out of order: the reviewer and the signatory cannot sign before the tester
    for early in (scene["reviewer"], scene["signatory"], scene["admin"]):
        with pytest.raises(AppError) as exc:
            signoff.draft_approve(actor=early, draft=draft)
        assert exc.value.status == 403
    draft = signoff.draft_approve(actor=scene["tester"], draft=draft)
    assert draft.status == DraftStatus.REVIEWING and draft.tested_by == scene["tester"] and draft.tested_at
    with pytest.raises(AppError):
        signoff.draft_approve(actor=scene["tester"], draft=draft)  # once only
    draft = signoff.draft_approve(actor=scene["reviewer"], draft=draft)
    assert draft.status == DraftStatus.APPROVING and not Report.objects.exists()
    draft = signoff.draft_approve(actor=scene["signatory"], draft=draft)
    assert draft.status == DraftStatus.ISSUED
    report = Report.objects.get(report_number="R-D001")
    assert draft.report == report and report.serial_number and report.submitted_by == scene["signatory"]
    version = report.versions.get()
    assert (version.tester, version.reviewer, version.signatory) == (
        scene["made"]["staff"],
        scene["made"]["reviewer"],
        scene["made"]["approver"],
    )
    assert (version.tested_at, version.reviewed_at, version.approved_at) == (
        draft.tested_at,
        draft.reviewed_at,
        draft.approved_at,
    )
    assert version.tested_at < version.reviewed_at < version.approved_at
    assert LogEntry.objects.count() > entries
    assert draft.history.count() == 4  # prepared + three sign-offs, audited


def test_return_with_reason_goes_back_to_the_preparer(scene):
    draft = _prepare(scene)
    draft = signoff.draft_approve(actor=scene["tester"], draft=draft)
    with pytest.raises(AppError):
        signoff.draft_return(actor=scene["reviewer"], draft=draft, reason="  ")
    with pytest.raises(AppError):
        signoff.draft_return(actor=scene["signatory"], draft=draft, reason="不是我")
    draft = signoff.draft_return(actor=scene["reviewer"], draft=draft, reason="结论有误")
    assert draft.status == DraftStatus.RETURNED and draft.returned_by == scene["reviewer"]
    with pytest.raises(AppError):
        signoff.draft_approve(actor=scene["reviewer"], draft=draft)
    assert not Report.objects.exists()
    again = _prepare(scene)  # the number is free again once returned
    assert again.status == DraftStatus.TESTING


def test_preparation_refuses_unbound_people_unauthorised_signatory_and_taken_numbers(scene, tree):
    made = scene["made"]
    with pytest.raises(AppError, match="不同的人"):
        _prepare(scene, reviewer_id=made["staff"].pk)
    with pytest.raises(AppError, match="授权签字人"):
        _prepare(scene, signatory_id=made["reviewer"].pk, reviewer_id=made["approver"].pk)
    _prepare(scene)
    with pytest.raises(AppError, match="已被本机构使用"):
        _prepare(scene)
    other = signing_scene(tree, 902)
    with pytest.raises(AppError):
        signoff.draft_prepare(
            actor=other["admin"],
            agency=scene["agency"],
            fields=draft_fields(scene, "R-X"),
            pdf=stored_file(scene["agency"].organisation_id, pdf_bytes("x")),
        )
    assert ReportDraft.objects.count() == 1


def test_another_agency_sees_nothing(scene, tree, client):
    from inspecta.core.testing.access import login_verified
    from inspecta.reports.selectors import draft_get

    draft = _prepare(scene)
    other = signing_scene(tree, 903)
    assert not ReportDraft.objects.restrict(other["signatory"]).exists()
    assert not ReportDraft.objects.restrict(tree["gz_supervisor"]).exists()
    with pytest.raises(Http404):
        draft_get(actor=other["admin"], pk=draft.pk)
    login_verified(client, other["signatory"])
    assert client.get(f"/reports/drafts/{draft.pk}/").status_code == 404
    assert client.post(f"/reports/drafts/{draft.pk}/approve/").status_code == 404
    assert ReportDraft.objects.get(pk=draft.pk).status == DraftStatus.TESTING


def test_the_signatory_refused_by_the_checks_keeps_the_draft_waiting(scene):
    import datetime

    from django.utils import timezone

    draft = _prepare(scene, tested_on=timezone.localdate() + datetime.timedelta(days=5))
    draft = signoff.draft_approve(actor=scene["tester"], draft=draft)
    draft = signoff.draft_approve(actor=scene["reviewer"], draft=draft)
    with pytest.raises(AppError):
        signoff.draft_approve(actor=scene["signatory"], draft=draft)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.APPROVING and draft.approved_at is None and not Report.objects.exists()


def test_pages_offer_only_the_action_the_person_may_take_now(scene, client):
    """Each account sees the sign button only at its own step, finds the draft in its
    work queue "待我签批的报告", and the signatory's approval leads to the issued report."""

    from inspecta.core.appconfig import work_items
    from inspecta.core.testing.access import login_verified

    draft = _prepare(scene)
    url = f"/reports/drafts/{draft.pk}/"

    def queue(user):
        return {str(item.label): item.count for item in work_items(user)}.get("待我签批的报告", 0)

    for user, status in (
        (scene["tester"], DraftStatus.REVIEWING),
        (scene["reviewer"], DraftStatus.APPROVING),
        (scene["signatory"], DraftStatus.ISSUED),
    ):
        for other in (scene["tester"], scene["reviewer"], scene["signatory"], scene["admin"]):
            if other == user:
                continue
            client.force_login(other)
            page = client.get(url).content.decode()
            assert 'data-testid="sign"' not in page and 'data-testid="return-form"' not in page
            assert queue(other) == 0
            refused = client.post(f"{url}approve/")
            assert refused.status_code == 400 and "本人" in refused.content.decode()
        login_verified(client, user)
        assert queue(user) == 1
        page = client.get(url).content.decode()
        assert 'data-testid="sign"' in page and 'data-testid="return-form"' in page
        listed = client.get("/reports/drafts/?mine=1").content.decode()
        assert draft.report_number in listed
        done = client.post(f"{url}approve/")
        assert done.status_code == 302
        assert ReportDraft.objects.get(pk=draft.pk).status == status
        client.logout()
    report = Report.objects.get(report_number=draft.report_number)
    assert done["Location"] == f"/reports/{report.pk}/"


def test_return_on_the_page_needs_a_reason(scene, client):
    from inspecta.core.testing.access import login_verified

    draft = _prepare(scene)
    login_verified(client, scene["tester"])
    url = f"/reports/drafts/{draft.pk}/return/"
    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 400 and ReportDraft.objects.get(pk=draft.pk).status == DraftStatus.TESTING
    assert client.post(url, {"reason": "曲线缺页"}).status_code == 302
    client.logout()
    login_verified(client, scene["admin"])
    page = client.get(f"/reports/drafts/{draft.pk}/").content.decode()
    assert "曲线缺页" in page and 'data-testid="sign"' not in page and 'data-testid="prepare-again"' in page
    again = client.get(f"/reports/new/?from={draft.pk}")  # the returned draft's fields and PDF, to correct
    form = again.context["form"]
    assert form["report_number"].value() == draft.report_number and form.kept_pdf == draft.pdf
    assert form["tester_id"].value() == draft.tester_id and 'data-testid="pdf-kept"' in again.content.decode()
