"""The audit trail (Guangxi 第七条(八); T/CECS 8.3.3)."""

import pytest

from inspecta.core.audit import AuditRowImmutable
from inspecta.core.testing.access import login_verified

pytestmark = pytest.mark.django_db


def test_user_change_is_recorded_with_before_and_after(client, tree):
    login_verified(client, tree["gz_admin"])
    target = tree["gz_supervisor"]
    old_name = target.full_name
    response = client.post(
        f"/accounts/users/{target.pk}/edit/",
        {"full_name": "改后的名字", "mobile": "13900000000"},
        HTTP_X_REQUEST_ID="req-abcdef123",
    )
    assert response.status_code == 302
    record = target.history.latest()
    assert record.history_user == tree["gz_admin"]
    assert record.request_id == "req-abcdef123"
    assert record.remote_addr == "127.0.0.1"
    delta = record.diff_against(record.prev_record)
    changed = {c.field: (c.old, c.new) for c in delta.changes}
    assert changed["full_name"] == (old_name, "改后的名字")
    page = client.get(f"/accounts/users/{target.pk}/history/").content.decode()
    assert old_name in page and "改后的名字" in page and "req-abcdef123" in page


def test_audit_rows_cannot_be_changed_or_deleted(tree):
    record = tree["gz_supervisor"].history.latest()
    record.full_name = "tampered"
    with pytest.raises(AuditRowImmutable):
        record.save()
    with pytest.raises(AuditRowImmutable):
        record.delete()
    assert tree["gz_supervisor"].history.latest().full_name != "tampered"


def test_disable_is_audited(client, tree):
    login_verified(client, tree["gz_admin"])
    target = tree["gz_supervisor"]
    client.post(f"/accounts/users/{target.pk}/disable/")
    record = target.history.latest()
    assert record.is_active is False and record.prev_record.is_active is True
    assert record.history_user == tree["gz_admin"]
