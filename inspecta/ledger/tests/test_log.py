"""The log service, sequencer, checkpoints and the foundation's logged writes."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from inspecta.accounts import services as account_services
from inspecta.accounts.choices import Role
from inspecta.core import services as core_services
from inspecta.core.models import Region
from inspecta.core.testing.factories import PASSWORD
from inspecta.ledger import merkle, services, store
from inspecta.ledger.models import Checkpoint, Entry, LogImmutable, SigningKey, TreeNode
from inspecta.ledger.note import Verifier, open_checkpoint
from inspecta.ledger.testing import append

pytestmark = pytest.mark.django_db


def test_entries_are_sequenced_without_gaps_and_the_tree_matches_a_recomputation():
    entries = append(37)
    assert all(e.index is None for e in entries)
    assert services.sequence_pending(batch_size=10) == 37
    rows = list(Entry.objects.order_by("index").values_list("index", "entry", "leaf_hash"))
    assert [r[0] for r in rows] == list(range(37))
    for _index, raw, leaf in rows:
        assert bytes(leaf) == merkle.leaf_hash(bytes(raw))
    reference = merkle.MemoryTree([bytes(r[2]) for r in rows])
    assert store.tree_size() == 37
    for n in range(1, 38):
        assert store.root(n) == reference.root(n)
    assert TreeNode.objects.count() == 2 * 37 - bin(37).count("1")
    assert services.sequence_pending() == 0


def test_entry_is_canonical_json_with_kind_id_and_file_hashes():
    with transaction.atomic():
        entry = services.log_append(
            kind="test_record",
            record={"type": "test.thing", "id": 7, "b": "中文", "a": [1, 2]},
            files=[("scan.pdf", b"%PDF-1.7 test")],
        )
    doc = json.loads(bytes(entry.entry))
    assert doc["kind"] == "test_record" and doc["type"] == "test.thing" and doc["id"] == "7"
    assert doc["data"] == {"a": [1, 2], "b": "中文"}
    import hashlib

    assert doc["files"] == [{"name": "scan.pdf", "sha256": hashlib.sha256(b"%PDF-1.7 test").hexdigest()}]
    # RFC 8785: sorted keys, no whitespace, UTF-8 as is.
    assert bytes(entry.entry).startswith(b'{"data":{"a":[1,2],"b":"\xe4\xb8\xad\xe6\x96\x87"},"files":[')


def test_log_append_refuses_to_run_outside_a_transaction():
    # pytest-django wraps the test in a transaction; leave it for autocommit.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(services.LogError):
            services.log_append(kind="x", record={"type": "t", "id": 1})
    finally:
        connection.in_atomic_block = saved


def test_record_and_entry_commit_or_roll_back_together(tree):
    before = Entry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        account_services.user_create(
            actor=tree["gz_admin"],
            username="rolled_back",
            full_name="回滚",
            organisation=tree["gz"],
            roles=[Role.AUTHORITY_SUPERVISOR],
            password=PASSWORD,
        )
        raise RuntimeError("the caller fails after the service")
    assert Entry.objects.count() == before


def test_entries_cannot_be_changed_or_deleted():
    (entry,) = append(1)
    entry.entry = b"{}"
    with pytest.raises(LogImmutable):
        entry.save()
    with pytest.raises(LogImmutable):
        entry.delete()
    with pytest.raises(LogImmutable):
        Entry.objects.filter(pk=entry.pk).update(entry=b"{}")
    with pytest.raises(LogImmutable):
        Entry.objects.all().delete()


def test_foundation_writes_are_logged_without_personal_data(tree):
    user = account_services.user_create(
        actor=tree["gz_admin"],
        username="logged_user",
        full_name="张三丰",
        organisation=tree["gz"],
        roles=[Role.AUTHORITY_SUPERVISOR],
        password=PASSWORD,
        mobile="13800138000",
        email="zhang@example.com",
    )
    account_services.user_disable(actor=tree["gz_admin"], user=user)
    account_services.user_enable(actor=tree["gz_admin"], user=user)
    region = Region.objects.get(pk="440106")
    core_services.reference_update(actor=tree["operator"], obj=region, data={"name": "天河区（更正）"})
    entries = list(Entry.objects.filter(record_type="accounts.user", record_id=str(user.pk)).order_by("pk"))
    assert [e.kind for e in entries] == ["account_allocation", "account_status_change", "account_status_change"]
    docs = [json.loads(bytes(e.entry)) for e in entries]
    assert docs[0]["data"] == {
        "organisation": tree["gz"].pk,
        "roles": ["authority_supervisor"],
        "is_active": True,
        "created_by": tree["gz_admin"].pk,
    }
    assert [d["data"]["is_active"] for d in docs] == [True, False, True]
    raw = b"".join(bytes(e.entry) for e in Entry.objects.all())
    for secret in ("张三丰".encode(), b"13800138000", b"zhang@example.com", b"logged_user", user.password.encode()):
        assert secret not in raw
    org_entry = Entry.objects.filter(record_type="accounts.organisation", record_id=str(tree["gz"].pk)).get()
    assert org_entry.kind == "organisation_creation"
    code = Entry.objects.filter(kind="code_table_change").get()
    assert (code.record_type, code.record_id) == ("core.region", "440106")
    assert json.loads(bytes(code.entry))["data"]["name"] == "天河区（更正）"


def test_checkpoints_are_signed_when_the_tree_grew_and_keys_rotate():
    append(5)
    services.sequence_pending()
    first = services.checkpoint_publish()
    assert first is not None and first.size == 5
    assert services.checkpoint_publish() is None  # not grown
    key = SigningKey.objects.get(is_active=True)
    verifier = Verifier.from_key_string(key.verifier_key)
    body, signers = open_checkpoint(first.note, [verifier])
    assert (body.origin, body.size, body.root) == (key.name, 5, store.root(5))
    assert signers == [key.name]
    # The private key is encrypted at rest: the raw seed is nowhere in the row.
    signer = services.signer_for(key)
    assert signer.private_key not in bytes(key.encrypted_private_key)

    new_key = services.signing_key_rotate()
    second = services.checkpoint_publish()
    assert second is not None and second.key_id == new_key.pk and second.size == 5
    history = services.verifiers()
    assert len(history) == 2
    for cp in Checkpoint.objects.all():
        open_checkpoint(cp.note, history)
    assert SigningKey.objects.filter(is_active=True).count() == 1


def test_log_append_many_queues_a_batch():
    with transaction.atomic():
        entries = services.log_append_many(
            kind="test_record", records=[{"type": "test.thing", "id": i, "n": i} for i in range(1200)]
        )
    assert len(entries) == 1200 and all(e.pk for e in entries)
    assert services.sequence_pending() == 1200
    assert list(Entry.objects.order_by("index").values_list("record_id", flat=True)[:3]) == ["0", "1", "2"]


def test_tree_nodes_are_keyed_by_their_position_in_append_order():
    """``stored_hash_index`` numbers nodes 0, 1, 2, ... as they are completed (Go's tlog order)."""
    append(21)
    services.sequence_pending()
    ids = list(TreeNode.objects.order_by("pk").values_list("pk", "level", "index"))
    assert [pk for pk, _l, _i in ids] == list(range(2 * 21 - bin(21).count("1")))
    assert all(merkle.stored_hash_index(level, index) == pk for pk, level, index in ids)
