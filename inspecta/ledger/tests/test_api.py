"""The public log endpoints of CONTRACT §5: proofs verify, bad input gets 4xx."""

from __future__ import annotations

import random
import time
from itertools import combinations

import pytest
from django.test import Client

from inspecta.ledger import merkle, services
from inspecta.ledger.note import Verifier, open_checkpoint
from inspecta.ledger.testing import append, b64, bulk_entries, get_json, unb64

pytestmark = pytest.mark.django_db

BASE = "/api/v1/log"


def _reference(client: Client, size: int) -> merkle.MemoryTree:
    """A tree rebuilt from the entries served by the range endpoint (not from the store)."""
    tree = merkle.MemoryTree()
    for start in range(0, size, 1000):
        data = get_json(client, f"{BASE}/entries", start=start, end=min(start + 1000, size))
        for item in data["items"]:
            assert item["index"] == tree.size
            raw = unb64(item["entry"])
            assert unb64(item["leaf_hash"]) == merkle.leaf_hash(raw)
            tree.append_entry(raw)
    assert tree.size == size
    return tree


def _check_inclusion(client: Client, tree: merkle.MemoryTree, index: int, size: int) -> None:
    data = get_json(client, f"{BASE}/proof/inclusion", index=index, size=size)
    assert (data["index"], data["size"]) == (index, size)
    merkle.verify_inclusion(tree.leaf(index), index, size, [unb64(h) for h in data["hashes"]], tree.root(size))


def _check_consistency(client: Client, tree: merkle.MemoryTree, size1: int, size2: int) -> None:
    data = get_json(client, f"{BASE}/proof/consistency", **{"from": size1, "size": size2})
    assert (data["from"], data["size"]) == (size1, size2)
    hashes = [unb64(h) for h in data["hashes"]]
    merkle.verify_consistency(size1, size2, hashes, tree.root(size1), tree.root(size2))


def test_proofs_verify_on_every_tree_size_from_1_to_300(client):
    rng = random.Random(3)
    checkpoint_notes: list[str] = []
    for n in range(1, 301):
        append(1, start=n - 1)
        services.sequence_pending()
        if n in (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 64, 100, 127, 128, 129, 200, 255, 256, 257, 299, 300):
            services.checkpoint_publish()
            checkpoint_notes.append(client.get(f"{BASE}/checkpoint").content.decode())
    tree = _reference(client, 300)
    # All pairs on the small trees (every proof shape), then at least one inclusion and
    # one consistency proof on every tree size up to 300, at edges or random.
    for n in range(1, 301):
        if n <= 16:
            indexes, sizes = list(range(n)), list(range(1, n + 1))
        else:
            indexes = [rng.choice([0, n - 1, rng.randrange(n)])]
            sizes = [rng.choice([1, n, rng.randint(1, n)])]
        for i in indexes:
            _check_inclusion(client, tree, i, n)
        for m in sizes:
            _check_consistency(client, tree, m, n)

    # Every saved checkpoint verifies, has the recomputed root, and every pair is consistent.
    verifier = Verifier.from_key_string(client.get(f"{BASE}/key").content.decode().strip())
    opened = [open_checkpoint(note, [verifier])[0] for note in checkpoint_notes]
    assert len(opened) == 24
    for cp in opened:
        assert cp.root == tree.root(cp.size)
    for old, new in combinations(opened, 2):
        data = get_json(client, f"{BASE}/proof/consistency", **{"from": old.size, "size": new.size})
        merkle.verify_consistency(old.size, new.size, [unb64(h) for h in data["hashes"]], old.root, new.root)


def test_proofs_on_a_100000_entry_tree(client):
    n = 100_000
    leaves = bulk_entries(n)
    started = time.monotonic()
    assert services.sequence_pending(batch_size=50_000) == n
    assert time.monotonic() - started < 120
    tree = merkle.MemoryTree(leaves)
    services.checkpoint_publish()
    note = client.get(f"{BASE}/checkpoint").content.decode()
    verifier = Verifier.from_key_string(client.get(f"{BASE}/key").content.decode().strip())
    body, _ = open_checkpoint(note, [verifier])
    assert (body.size, body.root) == (n, tree.root())
    rng = random.Random(100_000)
    for _ in range(100):
        size = rng.randint(1, n)
        _check_inclusion(client, tree, rng.randrange(size), size)
        _check_consistency(client, tree, rng.randint(1, size), size)
    for index, size in [(0, n), (n - 1, n), (65535, 65536), (65536, 65537), (99_999, 100_000)]:
        _check_inclusion(client, tree, index, size)
    for size1, size2 in [(1, n), (65536, n), (n - 1, n), (n, n)]:
        _check_consistency(client, tree, size1, size2)


def test_entry_endpoints_and_cache_headers(client):
    append(3)
    services.sequence_pending()
    response = client.get(f"{BASE}/entries/1")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    data = response.json()
    assert set(data) >= {"index", "entry", "kind"}
    assert data["index"] == 1 and data["kind"] == "test_record"
    assert data["leaf_hash"] == b64(merkle.leaf_hash(unb64(data["entry"])))
    response = client.get(f"{BASE}/checkpoint")
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"].startswith("public, max-age=")
    lines = response.content.decode().split("\n")
    assert lines[1] == "3" and lines[3] == "" and lines[4].startswith("\u2014 ")
    key = client.get(f"{BASE}/key")
    assert key["Content-Type"].startswith("text/plain") and "public" in key["Cache-Control"]
    name, key_hash, key64 = key.content.decode().strip().split("+", 2)
    assert name == lines[0] and len(key_hash) == 8 and len(unb64(key64)) == 33
    listing = get_json(client, f"{BASE}/entries", start=0, end=10)
    assert [e["index"] for e in listing["items"]] == [0, 1, 2] and listing["tree_size"] == 3
    keys = get_json(client, f"{BASE}/keys")
    assert keys["items"][0]["verifier_key"] == key.content.decode().strip()


def test_record_status_is_pending_until_sequenced(client):
    append(1)
    data = get_json(client, f"{BASE}/records/test.thing/0")
    assert data["status"] == "pending" and data["log_index"] is None
    services.sequence_pending()
    data = get_json(client, f"{BASE}/records/test.thing/0")
    assert data["status"] == "sequenced" and data["log_index"] == 0


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/proof/inclusion?index=0&size=99", 400, "tree_size_exceeded"),
        ("/proof/inclusion?index=5&size=5", 400, "index_out_of_range"),
        ("/proof/inclusion?index=0&size=0", 400, "size_zero"),
        ("/proof/inclusion?index=-1&size=3", 422, "invalid_input"),
        ("/proof/inclusion?index=abc&size=3", 422, "invalid_input"),
        ("/proof/inclusion?size=3", 422, "invalid_input"),
        ("/proof/inclusion?index=0&size=99999999999999999999999999", 422, "invalid_input"),
        ("/proof/consistency?from=0&size=3", 400, "consistency_from_zero"),
        ("/proof/consistency?from=4&size=3", 400, "from_exceeds_size"),
        ("/proof/consistency?from=1&size=9", 400, "tree_size_exceeded"),
        ("/proof/consistency?from=x&size=3", 422, "invalid_input"),
        ("/proof/consistency?size=3", 422, "invalid_input"),
        ("/entries/99", 404, "entry_not_found"),
        ("/entries/-1", 422, "invalid_input"),
        ("/entries/abc", 422, "invalid_input"),
        ("/entries/99999999999999999999999999", 422, "invalid_input"),
        ("/entries?start=5&end=5", 400, "invalid_range"),
        ("/entries?start=0&end=5000", 400, "invalid_range"),
        ("/entries?start=-3", 422, "invalid_input"),
        ("/records/accounts.user/999999", 404, "record_not_logged"),
    ],
)
def test_bad_input_gets_a_distinct_4xx_code(client, url, status, code):
    append(5)
    services.sequence_pending()
    response = client.get(BASE + url)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_endpoints_are_public_even_for_anonymous_clients(client):
    append(2)
    services.sequence_pending()
    for url in ("/checkpoint", "/key", "/keys", "/entries/0", "/entries?start=0", "/proof/inclusion?index=0&size=2"):
        assert client.get(BASE + url).status_code == 200, url
    assert client.get(f"{BASE}/proof/consistency", {"from": 1, "size": 2}).status_code == 200
