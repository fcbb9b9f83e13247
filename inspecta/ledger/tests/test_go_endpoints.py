"""The independent Go checker (golang.org/x/mod/sumdb/note and tlog, CONTRACT §5) accepts
what our endpoints serve: the checkpoint with the key from /key, and the proofs."""

from __future__ import annotations

import base64
import random
from pathlib import Path
from typing import Any

import pytest

from inspecta.ledger import merkle, services
from inspecta.ledger.testing import append, get_json, unb64
from inspecta.ledger.testing import go_check as _run

BASE = "/api/v1/log"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


N = 150


@pytest.mark.django_db
def test_go_accepts_the_served_checkpoint_and_proofs(client, gocheck: Path) -> None:
    append(N)
    services.sequence_pending()
    notes = []
    services.checkpoint_publish()
    notes.append(client.get(f"{BASE}/checkpoint").content.decode())
    services.signing_key_rotate()
    services.checkpoint_publish()
    rotated = client.get(f"{BASE}/checkpoint").content.decode()
    key = client.get(f"{BASE}/key").content.decode().strip()
    listing = get_json(client, f"{BASE}/entries", start=0, end=N)
    entries = [unb64(item["entry"]) for item in listing["items"]]
    tree = merkle.MemoryTree([merkle.leaf_hash(e) for e in entries])

    rng = random.Random(9)
    pairs = [(rng.randrange(n), n) for n in (rng.randint(1, N) for _ in range(60))] + [(0, 1), (N - 1, N)]
    inclusion: list[dict[str, Any]] = []
    for index, size in pairs:
        data = get_json(client, f"{BASE}/proof/inclusion", index=index, size=size)
        inclusion.append(
            {
                "index": index,
                "size": size,
                "leaf_hash": _b64(merkle.leaf_hash(entries[index])),
                "root": _b64(tree.root(size)),
                "proof": data["hashes"],
            }
        )
    tree_pairs = [(rng.randint(1, n), n) for n in (rng.randint(1, N) for _ in range(60))] + [(1, N), (N, N)]
    consistency: list[dict[str, Any]] = []
    for size1, size2 in tree_pairs:
        data = get_json(client, f"{BASE}/proof/consistency", **{"from": size1, "size": size2})
        consistency.append(
            {
                "size1": size1,
                "size2": size2,
                "root1": _b64(tree.root(size1)),
                "root2": _b64(tree.root(size2)),
                "proof": data["hashes"],
            }
        )
    response = _run(
        gocheck,
        {
            "verifier_key": key,
            "notes": [rotated],
            "leaves": [_b64(e) for e in entries],
            "root_sizes": [N],
            "inclusion": inclusion,
            "consistency": consistency,
        },
    )
    assert response["verifier_name"] == services.log_origin()
    note = response["notes"][0]
    assert note["error"] == "" and note["size"] == N and unb64(note["root"]) == tree.root(N)
    assert unb64(response["roots"][0]) == tree.root(N)
    assert response["inclusion"] == [""] * len(inclusion)
    assert response["consistency"] == [""] * len(consistency)
    # The checkpoint signed before the rotation verifies with the old key from the history, not the new one.
    old_key = get_json(client, f"{BASE}/keys")["items"][0]["verifier_key"]
    old = _run(gocheck, {"verifier_key": old_key, "notes": notes})
    assert old["notes"][0]["error"] == ""
    assert _run(gocheck, {"verifier_key": key, "notes": notes})["notes"][0]["error"] != ""


@pytest.mark.django_db
def test_go_accepts_the_served_checkpoint_with_the_sm2_line(client, gocheck: Path, settings) -> None:
    """With ``INSPECTA_LOG_SM2_SIGNATURE`` on, the served checkpoint carries a second
    (SM2-with-SM3, GB/T 39786) line; Go's note package, given only the Ed25519 key from
    /key, ignores it and accepts the checkpoint."""
    settings.INSPECTA_LOG_SM2_SIGNATURE = True
    append(9)
    services.sequence_pending()
    services.checkpoint_publish()
    served = client.get(f"{BASE}/checkpoint").content.decode()
    assert len(served.split("\n\n", 1)[1].splitlines()) == 2
    key = client.get(f"{BASE}/key").content.decode().strip()
    sm2_keys = [k for k in get_json(client, f"{BASE}/keys")["items"] if k["algorithm"] == "sm2"]
    assert len(sm2_keys) == 1 and sm2_keys[0]["verifier_key"] != key
    response = _run(gocheck, {"verifier_key": key, "notes": [served]})
    (note,) = response["notes"]
    assert note["error"] == ""
    assert note["signers"] == [services.log_origin()]
    assert note["size"] == 9
    assert unb64(note["root"]) == services.store.root(9)
