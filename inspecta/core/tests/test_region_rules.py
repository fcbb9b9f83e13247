"""Regional rules (``core.regionrules``): one mechanism for every value an authority sets
for its region: declared kinds, the most specific value wins, bad values refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from inspecta.core.appconfig import region_rule_kinds
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.models import RegionRule
from inspecta.core.regionrules import region_rule_add, region_rule_delete, rule_value
from inspecta.core.testing.factories import authority_tree
from inspecta.registry.testing import CEMENT

pytestmark = pytest.mark.django_db

NAME = "sampling_window_minutes"


def test_every_app_declares_its_rules_once_with_a_setting_default():
    kinds = region_rule_kinds()
    assert {
        "plan_lead_hours",
        "sampling_window_minutes",
        "sampling_max_distance_m",
        "receipt_photo_distance",
        "seal_failure_action",
        "commission_window_minutes",
        "curing_age_days",
    } <= set(kinds)
    for kind in kinds.values():
        assert kind.clause and kind.label
        kind.clean(kind.default)  # the default itself is a valid value


@override_settings(INSPECTA_SAMPLING_WINDOW_MINUTES=60)
def test_the_nearest_region_and_the_items_own_value_win():
    tree = authority_tree()
    assert rule_value(NAME, "440106", CEMENT) == (60, None)
    region_rule_add(actor=tree["gd_admin"], name=NAME, region_code="440000", test_item=None, value=50)
    assert rule_value(NAME, "440106", CEMENT)[0] == 50
    region_rule_add(actor=tree["gd_admin"], name=NAME, region_code="440000", test_item=CEMENT, value=45)
    assert rule_value(NAME, "440106", CEMENT)[0] == 45
    region_rule_add(actor=tree["gz_admin"], name=NAME, region_code="440100", test_item=None, value=40)
    assert rule_value(NAME, "440106", CEMENT)[0] == 40  # the city before the province's item rule
    district = region_rule_add(actor=tree["th_admin"], name=NAME, region_code="440106", test_item=None, value=30)
    assert rule_value(NAME, "440106", CEMENT) == (30, district)
    assert rule_value(NAME, "440305", CEMENT)[0] == 45  # Shenzhen: the province's
    assert rule_value(NAME, "440305", "no-such-item")[0] == 50
    assert rule_value(NAME, "110101", CEMENT) == (60, None)  # another province: the default
    assert rule_value("plan_lead_hours", "440106", CEMENT) == (24, None)  # another kind is apart


def test_bad_values_and_foreign_regions_are_refused_and_change_nothing():
    tree = authority_tree()
    cases = [
        ({"name": NAME, "value": 0}, ErrorCode.INVALID_REGION_RULE),
        ({"name": NAME, "value": "一小时"}, ErrorCode.INVALID_REGION_RULE),
        ({"name": "seal_failure_action", "value": "ignore"}, ErrorCode.INVALID_REGION_RULE),
        ({"name": "no_such_rule", "value": 1}, ErrorCode.INVALID_REGION_RULE),
        ({"name": NAME, "value": 30, "test_item": "nope"}, ErrorCode.UNKNOWN_TEST_ITEM),
        ({"name": NAME, "value": 30, "region_code": "999999"}, ErrorCode.UNKNOWN_REGION),
    ]
    for over, code in cases:
        kwargs = {"actor": tree["gz_admin"], "region_code": "440100", "test_item": None, **over}
        with pytest.raises(AppError) as refused:
            region_rule_add(**kwargs)
        assert refused.value.code == code and refused.value.message
    with pytest.raises(PermissionDenied):
        region_rule_add(actor=tree["sz_admin"], name=NAME, region_code="440100", test_item=None, value=30)
    with pytest.raises(PermissionDenied):
        region_rule_add(actor=tree["gz_supervisor"], name=NAME, region_code="440100", test_item=None, value=30)
    assert not RegionRule.objects.exists()
    rule = region_rule_add(actor=tree["gz_admin"], name=NAME, region_code="440100", test_item=None, value="30")
    with pytest.raises(AppError):
        region_rule_add(actor=tree["gz_admin"], name=NAME, region_code="440100", test_item=None, value=35)
    with pytest.raises(PermissionDenied):
        region_rule_delete(actor=tree["sz_admin"], rule=rule)
    region_rule_delete(actor=tree["gz_admin"], rule=rule)
    assert not RegionRule.objects.exists()
    assert list(RegionRule.history.values_list("history_type", flat=True).order_by("history_id")) == ["+", "-"]
