"""Tests of the RFC 9162 Merkle tree core (T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5).

Independent peers: the transparency-dev/merkle test vectors (copied to
``vectors/``, every file is one test case), the RFC 6962 reference tree roots and a
naive recursive MTH written from the RFC text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from inspecta.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    append_nodes,
    consistency_proof_ranges,
    inclusion_proof_ranges,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    range_hasher,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    root_from_leaves,
    split_point,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "vectors"
INCLUSION_VECTORS = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_VECTORS = sorted((VECTORS / "consistency").rglob("*.json"))

# RFC 6962 / transparency-dev reference leaves and the roots of their prefixes.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _proof(data: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in (data["proof"] or [])]


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def _flip(value: bytes, bit: int = 0) -> bytes:
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def _reference_tree() -> MemoryTree:
    tree = MemoryTree()
    for entry in REFERENCE_LEAVES:
        tree.append_entry(entry)
    return tree


def _mth(leaves: Sequence[bytes]) -> bytes:
    """Naive recursive MTH, straight from RFC 9162 §2.1.1."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _entries_tree(n: int) -> MemoryTree:
    tree = MemoryTree()
    for i in range(n):
        tree.append_entry(f"entry {i}".encode())
    return tree


@pytest.fixture(scope="module")
def tree300() -> MemoryTree:
    return _entries_tree(300)


@pytest.fixture(scope="module")
def tree100k() -> MemoryTree:
    return _entries_tree(100_000)


# ------------------------------------------------------------------- test vectors


def test_vector_files_present() -> None:
    """Every vector file of transparency-dev/merkle was copied (196 files)."""
    assert len(INCLUSION_VECTORS) == 98
    assert len(CONSISTENCY_VECTORS) == 98


@pytest.mark.parametrize("path", INCLUSION_VECTORS, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    data = _load(path)
    args = (
        _b64(data["leafHash"]),
        data["leafIdx"],
        data["treeSize"],
        _proof(data),
        _b64(data["root"]),
    )
    if data["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_VECTORS, ids=_id)
def test_consistency_vector(path: Path) -> None:
    data = _load(path)
    args = (
        data["size1"],
        data["size2"],
        _proof(data),
        _b64(data["root1"]),
        _b64(data["root2"]),
    )
    if data["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_generated_proofs_equal_vector_proofs() -> None:
    """Our proof generation reproduces the happy-path proofs of the vectors."""
    tree = _reference_tree()
    checked = 0
    for path in INCLUSION_VECTORS:
        data = _load(path)
        size = data["treeSize"]
        if data["wantErr"] or not 0 < size <= tree.size or _b64(data["root"]) != tree.root(size):
            continue
        assert tree.inclusion_proof(data["leafIdx"], size) == _proof(data), path
        checked += 1
    for path in CONSISTENCY_VECTORS:
        data = _load(path)
        size1, size2 = data["size1"], data["size2"]
        if data["wantErr"] or not 0 < size1 <= size2 <= tree.size or _b64(data["root2"]) != tree.root(size2):
            continue
        assert tree.consistency_proof(size1, size2) == _proof(data), path
        checked += 1
    assert checked >= 10


# ------------------------------------------------------------------------ hashing


def test_hash_primitives() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"") == bytes.fromhex(REFERENCE_ROOTS[0])
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert [split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]
    with pytest.raises(ValueError):
        split_point(1)


def test_reference_roots() -> None:
    tree = _reference_tree()
    leaves = [leaf_hash(e) for e in REFERENCE_LEAVES]
    assert tree.root(0) == EMPTY_ROOT == root_from_leaves([])
    for n, want in enumerate(REFERENCE_ROOTS, start=1):
        assert tree.root(n).hex() == want
        assert root_from_leaves(leaves[:n]).hex() == want


def test_root_from_leaves_matches_recursive_definition() -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(130)]
    for n in range(131):
        assert root_from_leaves(leaves[:n]) == _mth(leaves[:n])


# ------------------------------------------------------------- perfect subtrees


def test_perfect_subtrees() -> None:
    assert perfect_subtrees(0, 0) == []
    assert perfect_subtrees(0, 1) == [(0, 0)]
    assert perfect_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_subtrees(8, 13) == [(2, 2), (0, 12)]
    assert perfect_subtrees(3, 9) == [(0, 3), (2, 1), (0, 8)]
    for n in range(1, 600):
        parts = perfect_subtrees(0, n)
        assert len(parts) == n.bit_count()
        pos = 0
        for level, index in parts:
            assert index << level == pos
            pos += 1 << level
        assert pos == n
    with pytest.raises(ValueError):
        perfect_subtrees(5, 4)


def test_range_hasher(tree300: MemoryTree) -> None:
    leaves = [tree300.leaf(i) for i in range(300)]
    get = range_hasher(tree300.perfect_hash)
    for start, end in [
        (0, 1),
        (0, 300),
        (256, 300),
        (288, 300),
        (64, 100),
        (7, 8),
        (128, 256),
    ]:
        assert get(start, end) == _mth(leaves[start:end])
    for start, end in [(1, 3), (3, 9), (5, 5), (256, 200)]:
        with pytest.raises(ValueError):
            get(start, end)


def test_append_nodes_and_store_layout(tree300: MemoryTree) -> None:
    # Leaf 7 completes the perfect subtrees (0,7), (1,3), (2,1), (3,0).
    rows = append_nodes(7, tree300.leaf(7), tree300.perfect_hash)
    assert [(level, index) for level, index, _ in rows] == [
        (0, 7),
        (1, 3),
        (2, 1),
        (3, 0),
    ]
    assert rows[-1][2] == tree300.root(8)
    assert [(lv, ix) for lv, ix, _ in append_nodes(8, tree300.leaf(8), tree300.perfect_hash)] == [(0, 8)]
    # One row per perfect subtree: sum over levels of floor(n / 2**level).
    assert len(tree300._nodes) == sum(300 >> level for level in range(9))
    with pytest.raises(ProofError):
        append_nodes(0, b"short", tree300.perfect_hash)


# ------------------------------------------------------------- generate + verify


def _check_inclusion(tree: MemoryTree, index: int, size: int, root: bytes) -> None:
    proof = tree.inclusion_proof(index, size)
    verify_inclusion(tree.leaf(index), index, size, proof, root)
    assert root_from_inclusion_proof(tree.leaf(index), index, size, proof) == root


def _check_consistency(tree: MemoryTree, size1: int, size2: int) -> None:
    proof = tree.consistency_proof(size1, size2)
    root1, root2 = tree.root(size1), tree.root(size2)
    verify_consistency(size1, size2, proof, root1, root2)
    assert root_from_consistency_proof(size1, size2, proof, root1) == root2


def test_all_inclusion_proofs_up_to_64(tree300: MemoryTree) -> None:
    leaves = [tree300.leaf(i) for i in range(64)]
    count = 0
    for size in range(1, 65):
        root = tree300.root(size)
        assert root == root_from_leaves(leaves[:size])
        for index in range(size):
            _check_inclusion(tree300, index, size, root)
            count += 1
    assert count == 64 * 65 // 2


def test_all_consistency_proofs_up_to_64(tree300: MemoryTree) -> None:
    count = 0
    for size2 in range(1, 65):
        for size1 in range(1, size2 + 1):
            _check_consistency(tree300, size1, size2)
            count += 1
    assert count == 64 * 65 // 2


def test_sampled_proofs_up_to_300(tree300: MemoryTree) -> None:
    rng = random.Random(9162)
    leaves = [tree300.leaf(i) for i in range(300)]
    assert tree300.root() == root_from_leaves(leaves)
    for _ in range(600):
        size = rng.randint(1, 300)
        _check_inclusion(tree300, rng.randrange(size), size, tree300.root(size))
        _check_consistency(tree300, rng.randint(1, size), size)
    for size in (255, 256, 257, 299, 300):
        _check_inclusion(tree300, size - 1, size, tree300.root(size))
        _check_consistency(tree300, 1, size)
        _check_consistency(tree300, size - 1, size)


def test_large_tree(tree100k: MemoryTree) -> None:
    n = tree100k.size
    assert n == 100_000
    assert tree100k.root() == root_from_leaves([tree100k.leaf(i) for i in range(n)])
    budget = 3 * n.bit_length() + 3  # O(log n) perfect subtree reads per proof
    rng = random.Random(6962)
    sizes = [1, 2, 3, 65535, 65536, 65537, 99_999, 100_000] + [rng.randint(1, n) for _ in range(60)]
    roots = {size: tree100k.root(size) for size in sizes}
    for size in sizes:
        for index in {0, size - 1, size // 2, rng.randrange(size)}:
            before = tree100k.lookups
            proof = tree100k.inclusion_proof(index, size)
            assert tree100k.lookups - before <= budget
            verify_inclusion(tree100k.leaf(index), index, size, proof, roots[size])
        for size1 in {1, size, max(1, size - 1), rng.randint(1, size)}:
            if size1 not in roots:
                roots[size1] = tree100k.root(size1)
            before = tree100k.lookups
            proof = tree100k.consistency_proof(size1, size)
            assert tree100k.lookups - before <= budget
            verify_consistency(size1, size, proof, roots[size1], roots[size])


def test_proof_sizes() -> None:
    assert inclusion_proof_ranges(0, 1) == []
    assert inclusion_proof_ranges(2, 7) == [(3, 4), (0, 2), (4, 7)]
    assert consistency_proof_ranges(5, 5) == []
    assert consistency_proof_ranges(4, 8) == [(4, 8)]
    assert consistency_proof_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    for size in range(1, 200):
        for index in range(0, size, 7):
            assert len(inclusion_proof_ranges(index, size)) <= (size - 1).bit_length()
    for bad in [(0, 0), (1, 1), (-1, 5)]:
        with pytest.raises(ValueError):
            inclusion_proof_ranges(*bad)
    for bad in [(0, 5), (0, 0), (6, 5), (-1, 5)]:
        with pytest.raises(ValueError):
            consistency_proof_ranges(*bad)


# ----------------------------------------------------------------------- negatives


def test_inclusion_rejects_tampering(tree300: MemoryTree) -> None:
    rng = random.Random(1)
    for size in [2, 3, 7, 8, 9, 64, 100, 300]:
        root = tree300.root(size)
        for index in {0, size - 1, rng.randrange(size)}:
            leaf = tree300.leaf(index)
            proof = tree300.inclusion_proof(index, size)
            for bit in (0, 77, 255):
                with pytest.raises(ProofError):
                    verify_inclusion(_flip(leaf, bit), index, size, proof, root)
                with pytest.raises(ProofError):
                    verify_inclusion(leaf, index, size, proof, _flip(root, bit))
                for i in range(len(proof)):
                    bad = list(proof)
                    bad[i] = _flip(bad[i], bit)
                    with pytest.raises(ProofError):
                        verify_inclusion(leaf, index, size, bad, root)
            for bad_proof in [
                proof[:-1],
                [*proof, proof[-1]],
                [proof[0], *proof],
                proof[::-1],
            ]:
                if bad_proof != proof:
                    with pytest.raises(ProofError):
                        verify_inclusion(leaf, index, size, bad_proof, root)
            if index ^ 1 < size:  # a sibling position computes a different root
                with pytest.raises(ProofError):
                    verify_inclusion(leaf, index ^ 1, size, proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(leaf, size, size, proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(leaf[:31], index, size, proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(leaf, index, size, [p + b"\x00" for p in proof], root)


def test_consistency_rejects_tampering(tree300: MemoryTree) -> None:
    for size1, size2 in [
        (1, 2),
        (2, 3),
        (3, 7),
        (4, 8),
        (5, 64),
        (63, 64),
        (100, 300),
        (256, 300),
    ]:
        root1, root2 = tree300.root(size1), tree300.root(size2)
        proof = tree300.consistency_proof(size1, size2)
        for bit in (0, 100, 255):
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, proof, _flip(root1, bit), root2)
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, proof, root1, _flip(root2, bit))
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = _flip(bad[i], bit)
                with pytest.raises(ProofError):
                    verify_consistency(size1, size2, bad, root1, root2)
        for bad_proof in [proof[:-1], [*proof, proof[-1]], [proof[0], *proof], []]:
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, bad_proof, root1, root2)
        with pytest.raises(ProofError):
            verify_consistency(size2, size1, proof, root2, root1)
        with pytest.raises(ProofError):
            verify_consistency(0, size2, proof, root1, root2)


def test_memory_tree_bounds(tree300: MemoryTree) -> None:
    with pytest.raises(ValueError):
        tree300.root(301)
    with pytest.raises(ValueError):
        tree300.inclusion_proof(0, 301)
    with pytest.raises(ValueError):
        tree300.consistency_proof(1, 301)
    assert MemoryTree().root() == EMPTY_ROOT
    assert MemoryTree([leaf_hash(b"x")]).root() == leaf_hash(b"x")
