"""Check characters, masking, the nightly job and query counts."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inspecta.core.identifiers import credit_code_is_valid, id_number_is_valid
from inspecta.core.masking import Audience, mask_id_number, mask_mobile, mask_name
from inspecta.registry.choices import FindingRule
from inspecta.registry.models import Finding
from inspecta.registry.tasks import registry_findings_nightly
from inspecta.registry.testing import approved, credit_code, id_number


def test_credit_code_check_character():
    assert credit_code_is_valid("91350100M000100Y43")  # published example (GB 32100)
    assert credit_code_is_valid(credit_code(1))
    assert not credit_code_is_valid(
        credit_code(1)[:-1] + "0" if credit_code(1)[-1] != "0" else credit_code(1)[:-1] + "1"
    )
    assert not credit_code_is_valid("91350100M000100Y4")  # 17 characters
    assert not credit_code_is_valid("91350100M000100I43")  # I is not in the alphabet


def test_id_number_check_digit():
    assert id_number_is_valid("11010519491231002X")  # GB 11643 example
    assert not id_number_is_valid("110105194912310021")
    assert not id_number_is_valid("110105194913310028")  # month 13
    assert id_number_is_valid(id_number(123))


def test_masking():
    number = "11010519491231002X"
    assert mask_id_number(number, Audience.FULL) == number
    assert mask_id_number(number, Audience.AUTHORITY) == "110105********002X"
    assert mask_id_number(number, Audience.PUBLIC) == "1" + "*" * 15 + "2X"
    assert mask_mobile("13812345678", Audience.PUBLIC) == "138****5678"
    assert mask_mobile("13812345678", Audience.AUTHORITY) == "138****5678"
    assert mask_mobile("13812345678", Audience.FULL) == "13812345678"
    assert mask_name("张三丰", Audience.PUBLIC) == "张**" and mask_name("张三", Audience.AUTHORITY) == "张三"


@pytest.mark.django_db
def test_nightly_job_finds_expiry_without_edits(tree, monkeypatch):
    agency, _admin = approved(tree, 41)
    assert not Finding.objects.filter(agency=agency, resolved_at__isnull=True).exists()
    later = timezone.localdate() + datetime.timedelta(days=290)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    registry_findings_nightly()  # huey runs immediately in tests
    rules = set(Finding.objects.filter(agency=agency, resolved_at__isnull=True).values_list("rule", flat=True))
    assert FindingRule.CALIBRATION_EXPIRING in rules


@pytest.mark.django_db
def test_public_list_query_count(client, tree, django_assert_max_num_queries):
    for n in (42, 43, 44):
        approved(tree, n)
    # count, page, qualifications + specialties, certificates, heads, offered specialties
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/public/agencies")
    assert response.json()["count"] == 3
    with django_assert_max_num_queries(14):  # plus the filter form's regions and specialties, session
        assert client.get("/agencies/").status_code == 200


@pytest.mark.django_db
def test_authority_list_query_count(client, tree, django_assert_max_num_queries):
    from inspecta.core.testing.access import login_verified

    for n in (45, 46, 47):
        approved(tree, n)
    login_verified(client, tree["gz_supervisor"])
    client.get("/registry/")
    with django_assert_max_num_queries(25):
        response = client.get("/registry/")
    assert response.status_code == 200


def test_every_conformity_rule_is_one_registered_rule():
    from inspecta.core.rulebook import Severity
    from inspecta.registry.choices import FindingRule, FindingSeverity
    from inspecta.registry.conformity import RULES

    assert sorted(RULES.codes()) == sorted(FindingRule.values)
    assert {s.value for s in Severity} >= set(FindingSeverity.values)
    assert RULES[FindingRule.CALIBRATION_EXPIRING].severity == Severity.WARNING
    for rule in RULES:
        assert rule.clause and rule.doc, rule.code
