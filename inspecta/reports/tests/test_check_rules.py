"""The acceptance check rules per province: page, API and effect."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from inspecta.accounts.choices import AuthorityLevel, OrganisationKind, Role
from inspecta.core.errors import AppError
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import OrganisationFactory, UserFactory
from inspecta.reports import services
from inspecta.reports.choices import CheckAction, CheckCode
from inspecta.reports.models import CheckRule, Report, ReportFinding
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db

PAGE = "/reports/check-rules/"


@pytest.fixture
def hunan_admin(db):
    hn = OrganisationFactory(name="湖南省厅", level=AuthorityLevel.PROVINCE, region_code="430000")
    return UserFactory(username="hn_admin", organisation=hn)


def test_province_admin_switches_a_rule_on_the_page(client, tree):
    login_verified(client, tree["gd_admin"])
    page = client.get(PAGE)
    assert page.status_code == 200
    body = page.content.decode()
    for code, label in CheckCode.choices:
        assert f'data-code="{code}"' in body and str(label) in body
    assert 'data-code="too_many_agencies" data-action="flag"' in body
    assert 'data-code="capability_missing" data-action="reject"' in body
    assert "read-only" not in body
    response = client.post(PAGE, {"code": "capability_missing", "action": "flag"})
    assert response.status_code == 302
    rule = CheckRule.objects.get(code="capability_missing")
    assert rule.province == "440000" and rule.action == "flag" and rule.updated_by == tree["gd_admin"]
    body = client.get(PAGE).content.decode()
    assert 'data-code="capability_missing" data-action="flag"' in body
    history = body[body.index('id="check-rule-history"') :]
    assert "capability_missing" in history
    # audited: who and when, before and after
    records = list(rule.history.order_by("history_id"))
    assert records[-1].history_user == tree["gd_admin"] and records[-1].action == "flag"
    client.post(PAGE, {"code": "capability_missing", "action": "reject"})
    assert rule.history.count() == 2
    # the API reads the same rules
    api = {r["code"]: r for r in client.get("/api/v1/reports/check-rules").json()}
    assert api["capability_missing"]["action"] == "reject" and api["capability_missing"]["province"] == "440000"
    bad = client.post(PAGE, {"code": "nope", "action": "flag"})
    assert bad.status_code == 400 and "检查项不合法" in bad.content.decode()
    assert not CheckRule.objects.filter(code="nope").exists()
    bad = client.post(PAGE, {"code": "capability_missing", "action": "ignore"})
    assert bad.status_code == 400 and 'data-testid="rule-error"' in bad.content.decode()
    assert CheckRule.objects.get(code="capability_missing").action == "reject" and rule.history.count() == 2


def test_city_users_read_only_others_refused(client, tree):
    for key in ("gz_admin", "gz_supervisor", "th_admin"):
        login_verified(client, tree[key])
        page = client.get(PAGE)
        assert page.status_code == 200 and "read-only" in page.content.decode()
        assert 'name="action"' not in page.content.decode()
        assert client.post(PAGE, {"code": "capability_missing", "action": "flag"}).status_code == 403
        put = client.put(
            "/api/v1/reports/check-rules/capability_missing", {"action": "flag"}, content_type="application/json"
        )
        assert put.status_code == 403
        client.logout()
    _agency, agency_admin, _made = approved_agency(tree, 901)
    for user in (tree["gz_inspector"], agency_admin):
        login_verified(client, user)
        assert client.get(PAGE).status_code == 403
        assert client.get("/api/v1/reports/check-rules").status_code == 403
        assert "/reports/check-rules/" not in client.get("/").content.decode()
        client.logout()
    assert not CheckRule.objects.exists()
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    login_verified(client, tree["gz_supervisor"])
    assert PAGE in client.get("/").content.decode()  # navigation link for authority users


def test_another_province_cannot_change_yours(client, tree, hunan_admin):
    login_verified(client, hunan_admin)
    client.post(PAGE, {"code": "equipment_not_calibrated", "action": "flag", "province": "440000"})
    assert CheckRule.objects.get().province == "430000"  # its own province only
    put = client.put(
        "/api/v1/reports/check-rules/equipment_not_calibrated?province=440000",
        {"action": "flag"},
        content_type="application/json",
    )
    assert put.status_code == 403
    assert client.get("/api/v1/reports/check-rules?province=440000").status_code == 403
    with pytest.raises(PermissionDenied):
        services.check_rule_set(actor=hunan_admin, code="equipment_not_calibrated", action="flag", province="440000")
    assert not CheckRule.objects.filter(province="440000").exists()
    client.logout()
    # Guangdong still rejects: Hunan's rule does not apply to a Guangdong project
    login_verified(client, tree["gd_admin"])
    rules = {r["code"]: r["action"] for r in client.get("/api/v1/reports/check-rules").json()}
    assert rules["equipment_not_calibrated"] == "reject"
    agency, admin, made = approved_agency(tree, 902)
    project = project_with(tree, [agency])
    kwargs = submission(agency, made, project, "R-HN", equipment=["NO-SUCH"])
    with pytest.raises(AppError) as exc:
        services.report_submit(actor=admin, **kwargs)
    assert exc.value.code == "equipment_not_registered"
    services.check_rule_set(actor=tree["gd_admin"], code=CheckCode.EQUIPMENT_NOT_CALIBRATED, action=CheckAction.FLAG)
    report = services.report_submit(actor=admin, **kwargs)
    assert ReportFinding.objects.filter(report=report, rule=CheckCode.EQUIPMENT_NOT_CALIBRATED).exists()
    assert Report.objects.count() == 1


def test_operator_sets_platform_and_province_rules(tree):
    operator = tree["operator"]
    services.check_rule_set(actor=operator, code=CheckCode.AGENCY_NOT_PARTY, action=CheckAction.FLAG)
    services.check_rule_set(
        actor=operator, code=CheckCode.AGENCY_NOT_PARTY, action=CheckAction.REJECT, province="440000"
    )
    from inspecta.reports.checks import check_action

    assert check_action(CheckCode.AGENCY_NOT_PARTY, "440000") == CheckAction.REJECT
    assert check_action(CheckCode.AGENCY_NOT_PARTY, "430000") == CheckAction.FLAG
    with pytest.raises(AppError):
        services.check_rule_set(actor=operator, code=CheckCode.AGENCY_NOT_PARTY, action="flag", province="44")
    station_user = UserFactory(
        username="st",
        organisation=OrganisationFactory(kind=OrganisationKind.STATION, level=AuthorityLevel.PROVINCE),
        roles=[Role.STATION_INSPECTOR],
    )
    with pytest.raises(PermissionDenied):
        services.check_rule_set(actor=station_user, code=CheckCode.AGENCY_NOT_PARTY, action="flag")


def test_every_check_code_is_one_rule_with_a_default_action():
    from inspecta.reports.checks import CHECKS, DEFAULT_ACTIONS
    from inspecta.reports.choices import CheckAction, CheckCode

    assert CHECKS.codes() == list(CheckCode.values)
    assert set(DEFAULT_ACTIONS.values()) <= set(CheckAction.values)
    assert DEFAULT_ACTIONS[CheckCode.TOO_MANY_AGENCIES] == CheckAction.FLAG
    for rule in CHECKS:
        assert rule.clause and rule.doc, rule.code
