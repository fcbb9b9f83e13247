"""Self-audit: `inspecta log verify` catches records changed behind the platform's back
(T/CECS 7.2.3)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction

from inspecta.accounts import services as account_services
from inspecta.accounts.choices import Role
from inspecta.cli import main
from inspecta.core import immutability
from inspecta.core.models import Specialty
from inspecta.core.testing.factories import PASSWORD
from inspecta.ledger import audit, registry, services
from inspecta.ledger.choices import FindingKind
from inspecta.ledger.models import AuditFinding, Checkpoint, Entry, TreeNode
from inspecta.ledger.registry import Rendered
from inspecta.ledger.testing import append

pytestmark = pytest.mark.django_db

ATTACHMENT_KIND = "test_attachment"


def _attachment_path(obj) -> str:
    return f"ledger-test/{obj.pk}.pdf"


def _render_with_attachment(obj) -> Rendered:
    """A record that references a file, as report versions will."""
    return Rendered({"name": obj.name}, files=(("report.pdf", default_storage.open(_attachment_path(obj))),))


@pytest.fixture
def attachment_kind(monkeypatch):
    monkeypatch.setitem(
        registry._KINDS, ATTACHMENT_KIND, registry.LogKindSpec(ATTACHMENT_KIND, _render_with_attachment)
    )
    return ATTACHMENT_KIND


@pytest.fixture
def logged(tree, attachment_kind):
    user = account_services.user_create(
        actor=tree["gz_admin"],
        username="audited_user",
        full_name="审计对象",
        organisation=tree["gz"],
        roles=[Role.AUTHORITY_SUPERVISOR],
        password=PASSWORD,
    )
    specialty = Specialty.objects.order_by("pk").first()
    assert specialty is not None
    default_storage.save(_attachment_path(specialty), ContentFile(b"%PDF-1.7 original report"))
    with transaction.atomic():
        services.log_append(kind=attachment_kind, record=specialty)
    services.sequence_pending()
    services.checkpoint_publish()
    yield {"user": user, "specialty": specialty}
    default_storage.delete(_attachment_path(specialty))


def _verify(*args: str):
    return CliRunner().invoke(main, ["log", "verify", "--no-progress", *args])


def test_a_clean_log_verifies(logged):
    append(10)
    services.sequence_pending()
    services.checkpoint_publish()
    assert [p for p in audit.verify_log() if p.critical] == []
    result = _verify()
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_sql_update_and_replaced_file_are_both_reported(logged):
    user, specialty = logged["user"], logged["specialty"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET is_active = %s WHERE id = %s", [False, user.pk])
    default_storage.delete(_attachment_path(specialty))
    default_storage.save(_attachment_path(specialty), ContentFile(b"%PDF-1.7 forged report"))

    result = _verify("--record")
    assert result.exit_code == 1, result.output
    out = result.output
    assert f"accounts.user:{user.pk} differs from log index" in out and "(is_active)" in out
    assert f"core.specialty:{specialty.pk} differs from log index" in out and "file report.pdf" in out
    findings = AuditFinding.objects.filter(rule=FindingKind.RECORD_CHANGED)
    assert findings.count() == 2
    assert {f.details["record_type"] for f in findings} == {"accounts.user", "core.specialty"}
    assert all(f.details["index"] is not None for f in findings)


def test_a_legitimate_change_through_a_service_is_not_a_finding(logged, tree):
    account_services.user_disable(actor=tree["gz_admin"], user=logged["user"])
    services.sequence_pending()
    assert [p for p in audit.verify_log() if p.critical] == []


def test_a_deleted_record_is_reported(logged):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_rolegrant WHERE user_id = %s", [logged["user"].pk])
    problems = audit.verify_log()
    assert any(p.kind == FindingKind.RECORD_CHANGED and "roles" in p.details["fields"] for p in problems)


def test_tampered_tree_entries_and_checkpoints_are_reported(logged):
    append(20)
    services.sequence_pending()
    services.checkpoint_publish()
    # someone who dropped the database's immutability triggers
    with immutability.suspended("tamper test"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_treenode SET hash = %s WHERE id = %s",
            [b"\x00" * 32, TreeNode.objects.get(level=1, index=3).pk],
        )
        cursor.execute(
            "UPDATE ledger_entry SET entry = %s WHERE id = %s",
            [b'{"forged":true}', Entry.objects.get(index=7).pk],
        )
        cursor.execute(
            "UPDATE ledger_checkpoint SET note = replace(note, 'a', 'b') WHERE id = %s",
            [Checkpoint.objects.order_by("pk").first().pk],
        )
    kinds = {p.kind for p in audit.verify_log() if p.critical}
    assert {FindingKind.TREE_MISMATCH, FindingKind.ENTRY_CORRUPT, FindingKind.CHECKPOINT_INVALID} <= kinds
    assert TreeNode.objects.count() > 0


def test_the_job_stores_critical_findings(logged):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET organisation_id = NULL WHERE id = %s", [logged["user"].pk])
    from inspecta.ledger.tasks import ledger_verify

    ledger_verify.call_local()
    finding = AuditFinding.objects.get()
    assert finding.severity == "critical" and finding.details["record_id"] == str(logged["user"].pk)
