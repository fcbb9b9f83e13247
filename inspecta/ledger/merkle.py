"""RFC 9162 Merkle tree hashing, proof generation and proof verification.

Pure Python, no Django and no database: this module is the reference for the
append-only transparency log of the platform (T/CECS 2.0.15, 4.1.2, 7.2.3;
CONTRACT §5).

Hashing follows RFC 9162 §2.1.1: a leaf hash is ``SHA-256(0x00 || entry)``, an
interior node is ``SHA-256(0x01 || left || right)`` and the root of the empty tree
is ``SHA-256("")``.

Storage model
-------------
A log only ever needs the hashes of *perfect* subtrees: the subtree at
``(level, index)`` covers the ``2**level`` leaves ``[index << level, (index + 1)
<< level)``. Once written, such a hash never changes. Every node of the RFC 9162
tree of any size ``n`` (including every historical root) is the right-to-left fold
of at most ``log2(n) + 1`` perfect subtrees (:func:`perfect_subtrees`), so a store
that keeps one row ``(level, index, hash)`` per perfect subtree answers every
subtree-hash lookup with O(log n) reads, and each proof touches at most one
non-perfect node, i.e. O(log n) reads in total.

Proof generation is split in two steps so a database-backed store can batch its
reads: :func:`inclusion_proof_ranges` / :func:`consistency_proof_ranges` list the
tree nodes (leaf ranges) a proof consists of, :func:`perfect_subtrees` maps them to
the perfect subtrees to fetch, and :func:`inclusion_proof` /
:func:`consistency_proof` do both given a ``get_subtree(start, end)`` callable.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "ProofError",
    "append_nodes",
    "consistency_proof",
    "consistency_proof_ranges",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "range_hasher",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_from_leaves",
    "split_point",
    "stored_hash_index",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Size in bytes of every hash of the log (SHA-256)."""

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""Root hash of the empty tree, RFC 9162 §2.1.1: ``MTH({}) = SHA-256()``."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

SubtreeGetter = Callable[[int, int], bytes]
"""``get_subtree(start, end)``: hash of the tree node over leaves ``[start, end)``."""

PerfectGetter = Callable[[int, int], bytes]
"""``get_perfect(level, index)``: hash of the perfect subtree at ``(level, index)``."""


class ProofError(ValueError):
    """An inclusion or consistency proof (or its inputs) failed verification."""


# --------------------------------------------------------------------------- hashing


def leaf_hash(entry: bytes) -> bytes:
    """Return the RFC 9162 §2.1.1 leaf hash ``SHA-256(0x00 || entry)``.

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5 (an entry is the JCS canonical JSON of
    the logged record).
    """
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 §2.1.1 interior node hash ``SHA-256(0x01 || l || r)``.

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """Return ``k``, the largest power of two strictly smaller than ``n`` (n >= 2).

    This is the split of RFC 9162 §2.1.1: ``MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) ||
    MTH(D[k:n]))``. CONTRACT §5.
    """
    if n < 2:
        raise ValueError(f"split_point needs n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 §2.1.1) of a list of leaf hashes.

    Iterative (a stack of perfect subtree hashes, as when appending), linear time
    and O(log n) memory. T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    # stack[i] = (level, hash) of perfect subtrees, strictly decreasing levels.
    stack: list[tuple[int, bytes]] = []
    for h in leaf_hashes:
        level = 0
        while stack and stack[-1][0] == level:
            _, left = stack.pop()
            h = node_hash(left, h)
            level += 1
        stack.append((level, h))
    if not stack:
        return EMPTY_ROOT
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


# ------------------------------------------------------------- perfect subtree storage


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose the leaf range ``[start, end)`` into aligned perfect subtrees.

    Returns ``(level, index)`` pairs, left to right, the subtree ``(level, index)``
    covering leaves ``[index << level, (index + 1) << level)``. Greedy: at each
    position take the largest aligned power-of-two block that fits. For ``[0, n)``
    that is one subtree per set bit of ``n``; for any node of an RFC 9162 tree it is
    at most ``log2(end - start) + 1`` subtrees, and the node's hash is the
    right-to-left fold of their hashes (see :func:`range_hasher`).
    T/CECS 2.0.15, 7.2.3; CONTRACT §5.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    out: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        remaining = end - pos
        level = remaining.bit_length() - 1
        if pos:
            level = min(level, (pos & -pos).bit_length() - 1)
        out.append((level, pos >> level))
        pos += 1 << level
    return out


def _is_tree_node(start: int, end: int) -> bool:
    """Whether ``[start, end)`` is a node of some RFC 9162 tree (not just any range).

    True iff ``start`` is a multiple of the smallest power of two >= ``end - start``.
    """
    width = end - start
    if width <= 0:
        return False
    return start % (1 << (width - 1).bit_length()) == 0


def range_hasher(get_perfect: PerfectGetter) -> SubtreeGetter:
    """Build a ``get_subtree(start, end)`` from a perfect subtree lookup.

    ``get_perfect(level, index)`` returns the stored hash of a perfect subtree (a
    "tile"/complete subtree table row). The returned callable accepts any tree node
    ``[start, end)`` (``start`` aligned to the smallest power of two >= its width)
    and costs at most ``log2(end - start) + 1`` lookups. T/CECS 2.0.15, 7.2.3;
    CONTRACT §5.
    """

    def get_subtree(start: int, end: int) -> bytes:
        if not _is_tree_node(start, end):
            raise ValueError(f"[{start}, {end}) is not a Merkle tree node")
        parts = perfect_subtrees(start, end)
        h = get_perfect(*parts[-1])
        for level, index in reversed(parts[:-1]):
            h = node_hash(get_perfect(level, index), h)
        return h

    return get_subtree


def append_nodes(index: int, leaf: bytes, get_perfect: PerfectGetter) -> list[tuple[int, int, bytes]]:
    """Return the perfect subtrees completed by appending ``leaf`` at ``index``.

    The result is ``[(0, index, leaf), (1, index >> 1, h1), ...]``: the leaf itself
    and every perfect subtree whose last leaf is ``index``; a store inserts exactly
    these rows. ``get_perfect`` is only asked for already stored left siblings.
    T/CECS 2.0.15, 7.2.3; CONTRACT §5.
    """
    if index < 0:
        raise ValueError("negative leaf index")
    _check_hash(leaf, "leaf hash")
    rows = [(0, index, leaf)]
    h, level, i = leaf, 0, index
    while i & 1:
        h = node_hash(get_perfect(level, i - 1), h)
        level += 1
        i >>= 1
        rows.append((level, i, h))
    return rows


def stored_hash_index(level: int, index: int) -> int:
    """Storage position of the perfect subtree ``(level, index)`` in append order.

    The same numbering as Go's ``tlog.StoredHashIndex``: the hashes completed by
    appending leaf ``n`` are numbered consecutively, so the mapping is one-to-one and
    the sequencer only ever appends to the end of the primary key.
    """
    n = index
    for _ in range(level):
        n = 2 * n + 1
    position = 0
    while n > 0:
        position += n
        n >>= 1
    return position + level


# ----------------------------------------------------------------- proof generation


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """List the tree nodes ``[start, end)`` of the inclusion proof, bottom to top.

    RFC 9162 §2.1.3.1 ``PATH(m, D[n])``, iteratively: walking down from the root,
    the sibling of every node on the path to leaf ``index``. At most one returned
    node is not a perfect subtree. T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} out of range for tree size {size}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_proof_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """List the tree nodes ``[start, end)`` of a consistency proof, bottom to top.

    RFC 9162 §2.1.4.1 ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)``, iteratively.
    Requires ``0 < size1 <= size2`` (the proof from ``size1 == size2`` is empty; a
    proof from the empty tree is meaningless and refused). At most one returned node
    is not a perfect subtree. T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"consistency proof needs 0 < size1 <= size2, got {size1}, {size2}")
    out: list[tuple[int, int]] = []
    lo, hi, complete = 0, size2, True
    while hi != size1:  # size1 is always within [lo, hi]
        k = split_point(hi - lo)
        if size1 <= lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            complete = False
    if not complete:
        out.append((lo, hi))
    out.reverse()
    return out


def inclusion_proof(index: int, size: int, get_subtree: SubtreeGetter) -> list[bytes]:
    """Return the RFC 9162 §2.1.3.1 inclusion proof of leaf ``index`` in tree ``size``.

    ``get_subtree(start, end)`` returns the hash of tree node ``[start, end)`` (see
    :func:`range_hasher`). T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    return [get_subtree(a, b) for a, b in inclusion_proof_ranges(index, size)]


def consistency_proof(size1: int, size2: int, get_subtree: SubtreeGetter) -> list[bytes]:
    """Return the RFC 9162 §2.1.4.1 consistency proof between tree sizes.

    ``get_subtree(start, end)`` returns the hash of tree node ``[start, end)`` (see
    :func:`range_hasher`). T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    return [get_subtree(a, b) for a, b in consistency_proof_ranges(size1, size2)]


# --------------------------------------------------------------- proof verification


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {size}")


def _check_size(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, got {value!r}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Compute the root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-5).

    Raises :class:`ProofError` if ``index >= size``, a hash is not 32 bytes, or the
    proof has too many or too few elements. T/CECS 2.0.15, 4.1.2, 7.2.3;
    CONTRACT §5.
    """
    _check_size(index, "leaf index")
    _check_size(size, "tree size")
    # Step 1.
    if index >= size:
        raise ProofError(f"leaf index {index} >= tree size {size}")
    _check_hash(leaf, "leaf hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    # Steps 2-3.
    fn, sn = index, size - 1
    r = bytes(leaf)
    # Step 4.
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof has too many elements")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # (ii) LSB(fn) not set: shift until set or 0
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5 (first half).
    if sn != 0:
        raise ProofError("inclusion proof has too few elements")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Verify an RFC 9162 §2.1.3.2 inclusion proof; raise :class:`ProofError` if bad.

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    computed = root_from_inclusion_proof(leaf, index, size, proof)
    _check_hash(root, "root hash")
    if not hmac.compare_digest(computed, root):
        raise ProofError("inclusion proof does not lead to the root hash")


def root_from_consistency_proof(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> bytes:
    """Verify ``root1`` and return the ``size2`` root implied by a consistency proof.

    RFC 9162 §2.1.4.2. Edge cases (as in the transparency-dev/merkle test vectors):
    ``size1 > size2`` and ``size1 == 0`` are rejected; for ``size1 == size2`` the
    proof must be empty and ``root1`` is returned as is. T/CECS 2.0.15, 4.1.2,
    7.2.3; CONTRACT §5.
    """
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    if size1 > size2:
        raise ProofError(f"size1 {size1} > size2 {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError("size1 == size2 but the proof is not empty")
        return root1
    # Step 1.
    if not proof:
        raise ProofError("empty consistency proof")
    _check_hash(root1, "root1")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    path = list(proof)
    # Step 2.
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    # Step 3.
    fn, sn = size1 - 1, size2 - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof has too many elements")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:  # (ii) LSB(fn) not set: shift until set or 0
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof has too few elements")
    if not hmac.compare_digest(fr, root1):
        raise ProofError("consistency proof does not lead to root1")
    return sr


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Verify an RFC 9162 §2.1.4.2 consistency proof; raise :class:`ProofError` if bad.

    Proves that the tree of ``size1`` leaves with root ``root1`` is a prefix of the
    tree of ``size2`` leaves with root ``root2`` (append-only log, T/CECS 2.0.15,
    4.1.2, 7.2.3; CONTRACT §5). When ``size1 == size2`` the proof must be empty and
    the roots are only compared byte for byte, without a length check, as the
    transparency-dev/merkle vector ``sizes-are-equal-one-and-proof-is-empty``
    requires; ``size1 == 0`` is always rejected.
    """
    computed = root_from_consistency_proof(size1, size2, proof, root1)
    if size1 != size2:
        _check_hash(root2, "root2")
    if not hmac.compare_digest(bytes(computed), bytes(root2)):
        raise ProofError("consistency proof does not lead to root2")


# -------------------------------------------------------------------- memory store


class MemoryTree:
    """In-memory append-only Merkle tree keeping every perfect subtree hash.

    Stores ``(level, index) -> hash`` exactly like the database-backed log store
    (one row per perfect subtree), so it is both a test helper and the reference
    implementation of that store. Roots and proofs for any historical size are
    answered with O(log n) lookups. T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        """Create a tree, optionally pre-filled with ``leaf_hashes``."""
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._size = 0
        self.lookups = 0
        """Number of perfect subtree reads so far (to check O(log n) behaviour)."""
        self._get_subtree = range_hasher(self.perfect_hash)
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def __len__(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf: bytes) -> int:
        """Append a leaf hash, store the perfect subtrees it completes; return its index."""
        index = self._size
        for level, i, h in append_nodes(index, leaf, self.perfect_hash):
            self._nodes[(level, i)] = h
        self._size += 1
        return index

    def append_entry(self, entry: bytes) -> int:
        """Append an entry (hashed with :func:`leaf_hash`); return its index."""
        return self.append(leaf_hash(entry))

    def perfect_hash(self, level: int, index: int) -> bytes:
        """Return the stored hash of the perfect subtree ``(level, index)``."""
        self.lookups += 1
        return self._nodes[(level, index)]

    def leaf(self, index: int) -> bytes:
        """Return the leaf hash at ``index``."""
        return self._nodes[(0, index)]

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Return the hash of tree node ``[start, end)`` (``end <= size``)."""
        self._check_size(end)
        return self._get_subtree(start, end)

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash of the tree at ``size`` (default: current size)."""
        size = self._size if size is None else size
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._get_subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of leaf ``index`` in the tree of ``size``."""
        size = self._size if size is None else size
        self._check_size(size)
        return inclusion_proof(index, size, self._get_subtree)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the consistency proof from tree size ``size1`` to ``size2``."""
        size2 = self._size if size2 is None else size2
        self._check_size(size2)
        return consistency_proof(size1, size2, self._get_subtree)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise ValueError(f"tree size {size} out of range (log has {self._size} leaves)")
