"""Cross-check against the Go reference: golang.org/x/mod/sumdb/note and sumdb/tlog.

CONTRACT §5 names these packages (Debian ``golang-golang-x-mod-dev``) as independent
peers that must accept our checkpoints and proofs (T/CECS 2.0.15, 4.1.2, 7.2.3).
``gocheck/main.go`` is built offline (GO111MODULE=off, GOPATH=/usr/share/gocode,
private GOCACHE) and fed one JSON request on stdin. Skipped only when no ``go``
binary is installed; a missing x/mod source makes the build, hence the test, fail.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from inspecta.ledger.merkle import MemoryTree
from inspecta.ledger.note import (
    Checkpoint,
    Signer,
    open_note,
    sign_checkpoint,
    sign_note,
)
from inspecta.ledger.testing import go_check as _run

ORIGIN = "inspecta.example/ledger-test"
N_LEAVES = 300


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x80]) + value[1:]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    t = MemoryTree()
    for i in range(N_LEAVES):
        t.append_entry(_entry(i))
    return t


def _entry(i: int) -> bytes:
    return json.dumps({"kind": "test", "index": i}, separators=(",", ":")).encode()


def test_go_accepts_our_checkpoints_and_signs_identically(gocheck: Path, tree: MemoryTree) -> None:
    signer = Signer.generate(ORIGIN)
    verifier = signer.verifier()
    witness = Signer.generate("witness.example/w")
    sizes = [0, 1, 2, 7, 64, 299, 300]
    good = [sign_checkpoint(Checkpoint(ORIGIN, n, tree.root(n)), [signer]) for n in sizes]
    good.append(sign_checkpoint(Checkpoint(ORIGIN, 5, tree.root(5), ("ext",)), [witness, signer]))
    text = Checkpoint(ORIGIN, 42, tree.root(42)).body()
    bad = [
        good[3].replace("\n7\n", "\n8\n"),  # tampered size
        sign_checkpoint(Checkpoint(ORIGIN, 7, tree.root(7)), [witness]),  # unknown key only
        sign_checkpoint(Checkpoint(ORIGIN, 7, tree.root(7)), [Signer.generate(ORIGIN)]),  # wrong key
    ]
    response = _run(
        gocheck,
        {
            "verifier_key": verifier.key_string,
            "signer_key": signer.key_string,
            "sign_text": text,
            "notes": good + bad,
        },
    )
    assert response["verifier_name"] == ORIGIN
    assert response["verifier_hash"] == int.from_bytes(verifier.key_hash, "big")
    # Go's note.Sign with our PRIVATE+KEY string gives exactly our signed note.
    assert response["signed"] == sign_note(text, [signer])
    assert open_note(response["signed"], [verifier]).text == text
    notes = response["notes"]
    for note, n in zip(notes[: len(sizes)], sizes, strict=True):
        assert note["error"] == ""
        assert note["signers"] == [ORIGIN]
        assert (note["origin"], note["size"], _unb64(note["root"])) == (
            ORIGIN,
            n,
            tree.root(n),
        )
    assert notes[len(sizes)]["error"] == ""
    assert notes[len(sizes)]["size"] == 5
    for note in notes[len(good) :]:
        assert note["error"] != ""


def test_go_accepts_checkpoints_with_an_sm2_line(gocheck: Path, tree: MemoryTree) -> None:
    """The optional SM2-with-SM3 line (GB/T 39786; type 0xff + OID) is a signature by an
    unknown key to Go's note package: ignored, and the Ed25519 line still verifies."""
    from inspecta.ledger.sm2 import SM2

    signer = Signer.generate(ORIGIN)
    sm2 = Signer.generate(ORIGIN, SM2)
    sizes = [0, 1, 64, 300]
    good = [sign_checkpoint(Checkpoint(ORIGIN, n, tree.root(n)), [signer, sm2]) for n in sizes]
    good.append(sign_checkpoint(Checkpoint(ORIGIN, 2, tree.root(2)), [sm2, signer]))  # SM2 line first
    bad = [
        good[2].replace("\n64\n", "\n65\n"),  # tampered: the Ed25519 line fails
        sign_checkpoint(Checkpoint(ORIGIN, 7, tree.root(7)), [sm2]),  # only the SM2 line: unverified
    ]
    response = _run(gocheck, {"verifier_key": signer.verifier().key_string, "notes": good + bad})
    notes = response["notes"]
    for note, n in zip(notes[: len(sizes)], sizes, strict=True):
        assert note["error"] == ""
        assert note["signers"] == [ORIGIN]  # the SM2 line is not counted as verified
        assert (note["size"], _unb64(note["root"])) == (n, tree.root(n))
    assert notes[len(sizes)]["error"] == "" and notes[len(sizes)]["size"] == 2
    assert all(len(n.split("\n\n", 1)[1].splitlines()) == 2 for n in good)
    for note in notes[len(good) :]:
        assert note["error"] != ""


def test_go_tlog_agrees_on_roots_and_proofs(gocheck: Path, tree: MemoryTree) -> None:
    rng = random.Random(19)
    record_pairs = [(i, n) for n in range(1, 41) for i in range(n)]
    record_pairs += [(rng.randrange(n), n) for n in (rng.randint(41, N_LEAVES) for _ in range(200))]
    tree_pairs = [(m, n) for n in range(1, 41) for m in range(1, n + 1)]
    tree_pairs += [(rng.randint(1, n), n) for n in (rng.randint(41, N_LEAVES) for _ in range(200))]
    root_sizes = list(range(1, N_LEAVES + 1))

    inclusion: list[dict[str, Any]] = []
    for i, n in record_pairs:
        proof = tree.inclusion_proof(i, n)
        inclusion.append(
            {
                "index": i,
                "size": n,
                "leaf_hash": _b64(tree.leaf(i)),
                "root": _b64(tree.root(n)),
                "proof": [_b64(p) for p in proof],
            }
        )
    consistency: list[dict[str, Any]] = []
    for m, n in tree_pairs:
        proof = tree.consistency_proof(m, n)
        consistency.append(
            {
                "size1": m,
                "size2": n,
                "root1": _b64(tree.root(m)),
                "root2": _b64(tree.root(n)),
                "proof": [_b64(p) for p in proof],
            }
        )
    # Tampered copies Go must reject too.
    bad_inclusion: list[dict[str, Any]] = []
    for case in inclusion[::37]:
        bad = dict(case, leaf_hash=_b64(_flip(_unb64(case["leaf_hash"]))))
        bad_inclusion.append(bad)
        if case["proof"]:
            bad_inclusion.append(
                dict(
                    case,
                    proof=[_b64(_flip(_unb64(case["proof"][0]))), *case["proof"][1:]],
                )
            )
            bad_inclusion.append(dict(case, proof=case["proof"][:-1]))
    bad_consistency: list[dict[str, Any]] = []
    for case in consistency[::37]:
        bad_consistency.append(dict(case, root1=_b64(_flip(_unb64(case["root1"])))))
        if case["proof"]:
            bad_consistency.append(
                dict(
                    case,
                    proof=[_b64(_flip(_unb64(case["proof"][-1]))), *case["proof"][:-1]],
                )
            )

    response = _run(
        gocheck,
        {
            "verifier_key": Signer("x", bytes(32)).verifier().key_string,
            "leaves": [_b64(_entry(i)) for i in range(N_LEAVES)],
            "root_sizes": root_sizes,
            "prove_record": [list(p) for p in record_pairs],
            "prove_tree": [list(p) for p in tree_pairs],
            "inclusion": inclusion + bad_inclusion,
            "consistency": consistency + bad_consistency,
        },
    )
    # Go computes the same tree heads from the raw entries ...
    assert [_unb64(r) for r in response["roots"]] == [tree.root(n) for n in root_sizes]
    # ... generates byte-identical proofs ...
    for (i, n), got in zip(record_pairs, response["record_proofs"], strict=True):
        assert [_unb64(h) for h in got or []] == tree.inclusion_proof(i, n), (i, n)
    for (m, n), got in zip(tree_pairs, response["tree_proofs"], strict=True):
        assert [_unb64(h) for h in got or []] == tree.consistency_proof(m, n), (m, n)
    # ... accepts every proof of ours and rejects every tampered one.
    results = response["inclusion"]
    assert results[: len(inclusion)] == [""] * len(inclusion)
    assert all(err != "" for err in results[len(inclusion) :])
    assert len(results) == len(inclusion) + len(bad_inclusion)
    results = response["consistency"]
    assert results[: len(consistency)] == [""] * len(consistency)
    assert all(err != "" for err in results[len(consistency) :])
    assert len(results) == len(consistency) + len(bad_consistency)
