"""C2SP signed notes and tlog checkpoints (Ed25519), pure Python.

The transparency log publishes its tree head as a C2SP ``tlog-checkpoint`` signed
with a C2SP ``signed-note`` Ed25519 signature, and its verifier key in the
``<name>+<hex key hash>+<base64 key>`` form of ``golang.org/x/mod/sumdb/note``
(T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5).

Formats (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint):

* note: ``text`` (non-empty, ends with a newline) + ``"\\n"`` + one or more lines
  ``"— <key name> <base64(key ID (4 bytes) || signature)>\\n"``; the whole message is
  valid UTF-8 without ASCII control characters other than newline;
* key ID: ``SHA-256(key name || 0x0A || signature type || public key)[:4]``;
* verifier key: ``<name>+<8 hex digits key ID>+<base64(type || public key)>``;
* signer key: ``PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(type || private)>``;
* checkpoint text: ``origin\\nsize\\nbase64(root)\\n`` + optional extension lines.

Signature algorithms are pluggable (:class:`SignatureAlgorithm`,
:func:`register_algorithm`); type ``0x01`` (Ed25519) is built in.

Algorithms without an assigned type byte (the optional SM2-with-SM3 line of
:mod:`inspecta.ledger.sm2`, GB/T 39786) use the C2SP rule for them: type byte
``0xff`` followed by a longer identifier unlikely to collide
(:attr:`SignatureAlgorithm.identifier`). The "type" inside key IDs and encoded keys
is then ``0xff || identifier`` (:attr:`SignatureAlgorithm.type_prefix`), so
``key ID = SHA-256(name || 0x0A || 0xff || identifier || public key)[:4]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ALG_ED25519",
    "ALG_UNASSIGNED",
    "ED25519",
    "Checkpoint",
    "CheckpointError",
    "InvalidSignatureError",
    "KeyFormatError",
    "MalformedNoteError",
    "NoteError",
    "OpenedNote",
    "SignatureAlgorithm",
    "Signer",
    "UnverifiedNoteError",
    "Verifier",
    "checkpoint_body",
    "is_valid_name",
    "key_hash",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "register_algorithm",
    "sign_checkpoint",
    "sign_note",
]

SIGNATURE_PREFIX = "\u2014 "
"""Start of a signature line: em dash (U+2014) and a space."""

MAX_SIGNATURES = 100
"""Most signature lines accepted in a note (C2SP requires at least 16)."""

ALG_ED25519 = 0x01
"""C2SP signed-note signature type of Ed25519."""

ALG_UNASSIGNED = 0xFF
"""C2SP signed-note type byte of algorithms without an assigned byte (then followed by
an identifier, :attr:`SignatureAlgorithm.identifier`)."""

KEY_HASH_SIZE = 4
HASH_SIZE = 32
_MAX_TREE_SIZE = 2**63 - 1  # int64, the limit of golang.org/x/mod/sumdb/tlog
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """Base error of signed notes, keys and checkpoints."""


class MalformedNoteError(NoteError):
    """The message is not a well-formed C2SP signed note."""


class InvalidSignatureError(NoteError):
    """A signature by a known key does not verify (the whole note is rejected)."""


class UnverifiedNoteError(NoteError):
    """The note carries no signature by any known key."""


class KeyFormatError(NoteError):
    """A signer or verifier key string (or key material) is invalid."""


class CheckpointError(NoteError):
    """The note text is not a valid C2SP tlog checkpoint."""


# ------------------------------------------------------------------ algorithms


class SignatureAlgorithm(ABC):
    """A C2SP signed-note signature type (pluggable, e.g. a later SM2 line).

    T/CECS 2.0.15, 7.2.3; CONTRACT §5.
    """

    alg_id: int
    """Signature type identifier byte (first byte of the encoded keys)."""
    identifier: bytes = b""
    """For ``alg_id == 0xff`` (C2SP: no assigned byte) the longer identifier that
    follows the type byte; it must be self-delimiting (e.g. a DER OID), since the
    public key follows it. Empty for assigned type bytes."""
    name: str
    """Human readable algorithm name."""

    @property
    def type_prefix(self) -> bytes:
        """What precedes the public key in encoded keys and key IDs: the type byte, and
        for type ``0xff`` the identifier (C2SP signed-note, "Signature types")."""
        return bytes([self.alg_id]) + self.identifier

    @abstractmethod
    def check_public_key(self, public_key: bytes) -> None:
        """Raise :class:`KeyFormatError` unless ``public_key`` is well formed."""

    @abstractmethod
    def check_private_key(self, private_key: bytes) -> None:
        """Raise :class:`KeyFormatError` unless ``private_key`` is well formed."""

    @abstractmethod
    def generate_private_key(self) -> bytes:
        """Return a fresh random private key encoding."""

    @abstractmethod
    def public_key(self, private_key: bytes) -> bytes:
        """Return the public key encoding for ``private_key``."""

    @abstractmethod
    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Return the signature of ``message``."""

    @abstractmethod
    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` is a valid signature of ``message``."""


class Ed25519Algorithm(SignatureAlgorithm):
    """Ed25519 (RFC 8032) signed-note signatures, type ``0x01``.

    Public key: 32 bytes; private key: the 32-byte seed (as in Go's note package).
    T/CECS 2.0.15, 7.2.3; CONTRACT §5.
    """

    alg_id = ALG_ED25519
    name = "Ed25519"

    def check_public_key(self, public_key: bytes) -> None:
        """Require a 32-byte public key."""
        if len(public_key) != 32:
            raise KeyFormatError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")

    def check_private_key(self, private_key: bytes) -> None:
        """Require a 32-byte seed."""
        if len(private_key) != 32:
            raise KeyFormatError(f"Ed25519 private key must be a 32-byte seed, got {len(private_key)}")

    def generate_private_key(self) -> bytes:
        """Return a random 32-byte seed."""
        return Ed25519PrivateKey.generate().private_bytes_raw()

    def public_key(self, private_key: bytes) -> bytes:
        """Derive the 32-byte public key from the seed."""
        return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Sign ``message`` (pure Ed25519, 64-byte signature)."""
        return Ed25519PrivateKey.from_private_bytes(private_key).sign(message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Verify a 64-byte Ed25519 signature."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


ED25519 = Ed25519Algorithm()
_ALGORITHMS: dict[bytes, SignatureAlgorithm] = {ED25519.type_prefix: ED25519}


def register_algorithm(algorithm: SignatureAlgorithm) -> None:
    """Make a signature type usable in key strings (CONTRACT §5, pluggable algorithms).

    Type ``0xff`` needs a non-empty :attr:`~SignatureAlgorithm.identifier` (C2SP
    signed-note: "followed by a longer identifier that is unlikely to collide"), other
    type bytes none; one prefix may not name two algorithms, nor one prefix start another.
    """
    if not 0 <= algorithm.alg_id <= 0xFF:
        raise ValueError("signature type must be one byte")
    if (algorithm.alg_id == ALG_UNASSIGNED) != bool(algorithm.identifier):
        raise ValueError("signature type 0xff, and only it, is followed by an identifier")
    prefix = algorithm.type_prefix
    existing = _ALGORITHMS.get(prefix)
    if existing is not None and existing is not algorithm:
        raise ValueError(f"signature type {prefix.hex()} already registered")
    for other in _ALGORITHMS:
        if other != prefix and (other.startswith(prefix) or prefix.startswith(other)):
            raise ValueError(f"signature type {prefix.hex()} is ambiguous with {other.hex()}")
    _ALGORITHMS[prefix] = algorithm


def _split_key(key: bytes) -> tuple[SignatureAlgorithm, bytes]:
    """Split ``type (|| identifier) || key material`` into the algorithm and the material."""
    for prefix, algorithm in _ALGORITHMS.items():
        if key.startswith(prefix):
            return algorithm, key[len(prefix) :]
    raise KeyFormatError(f"unknown signature type 0x{key[0]:02x}" + (" with this identifier" if key[0] == 0xFF else ""))


# -------------------------------------------------------------------- helpers


def _b64decode(value: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4): padded, canonical, no whitespace."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise ValueError("invalid base64") from exc
    if base64.b64encode(raw).decode("ascii") != value:
        raise ValueError("non-canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _has_control(text: str) -> bool:
    """Whether ``text`` has an ASCII control character other than newline."""
    return any(ch < " " and ch != "\n" for ch in text)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a valid key name (C2SP signed-note).

    Non-empty, no Unicode space, no ``+``; also no control character and valid
    UTF-8. T/CECS 2.0.15, 7.2.3; CONTRACT §5.
    """
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and not _has_control(name)
        and _is_utf8(name)
    )


def key_hash(name: str, key: bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name || 0x0A || type || public key)[:4]``.

    ``key`` is the encoded key: signature type byte followed by the public key
    (C2SP signed-note; T/CECS 2.0.15, 7.2.3; CONTRACT §5).
    """
    return hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()[:KEY_HASH_SIZE]


# ---------------------------------------------------------------------- keys


@dataclass(frozen=True)
class Verifier:
    """A named public key that verifies note signatures (C2SP signed-note).

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5 (``GET /api/v1/log/key``).
    """

    name: str
    public_key: bytes
    algorithm: SignatureAlgorithm = ED25519

    def __post_init__(self) -> None:
        """Validate the name and the key material."""
        if not is_valid_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        self.algorithm.check_public_key(self.public_key)

    @property
    def encoded_key(self) -> bytes:
        """Signature type byte (and, for ``0xff``, identifier) followed by the public key."""
        return self.algorithm.type_prefix + self.public_key

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key ID."""
        return key_hash(self.name, self.encoded_key)

    @property
    def key_string(self) -> str:
        """``<name>+<8 hex key ID>+<base64(type || public key)>``."""
        return f"{self.name}+{self.key_hash.hex()}+{_b64encode(self.encoded_key)}"

    @classmethod
    def from_key_string(cls, vkey: str) -> Verifier:
        """Parse a verifier key string, checking its key ID."""
        name, _, rest = vkey.partition("+")
        hash_hex, _, key64 = rest.partition("+")
        if not is_valid_name(name) or not _HEX8.fullmatch(hash_hex):
            raise KeyFormatError("malformed verifier key")
        try:
            key = _b64decode(key64)
        except ValueError as exc:
            raise KeyFormatError("malformed verifier key") from exc
        if not key:
            raise KeyFormatError("malformed verifier key")
        if key_hash(name, key) != bytes.fromhex(hash_hex):
            raise KeyFormatError("verifier key hash does not match")
        algorithm, public_key = _split_key(key)
        return cls(name, public_key, algorithm)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` signs ``message`` under this key."""
        return self.algorithm.verify(self.public_key, message, signature)


@dataclass(frozen=True, repr=False)
class Signer:
    """A named private key that signs notes (C2SP signed-note).

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """

    name: str
    private_key: bytes
    algorithm: SignatureAlgorithm = ED25519

    def __post_init__(self) -> None:
        """Validate the name and the key material."""
        if not is_valid_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        self.algorithm.check_private_key(self.private_key)

    def __repr__(self) -> str:
        """Never show the private key."""
        return f"Signer(name={self.name!r}, key_hash={self.key_hash.hex()}, algorithm={self.algorithm.name})"

    @classmethod
    def generate(cls, name: str, algorithm: SignatureAlgorithm = ED25519) -> Signer:
        """Create a signer with a fresh random key."""
        return cls(name, algorithm.generate_private_key(), algorithm)

    @classmethod
    def from_key_string(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hash>+<base64(type || private)>``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise KeyFormatError("malformed signer key")
        _, _, name, hash_hex, key64 = parts
        if not is_valid_name(name) or not _HEX8.fullmatch(hash_hex):
            raise KeyFormatError("malformed signer key")
        try:
            key = _b64decode(key64)
        except ValueError as exc:
            raise KeyFormatError("malformed signer key") from exc
        if not key:
            raise KeyFormatError("malformed signer key")
        algorithm, private_key = _split_key(key)
        signer = cls(name, private_key, algorithm)
        if signer.key_hash != bytes.fromhex(hash_hex):
            raise KeyFormatError("signer key hash does not match")
        return signer

    @property
    def key_string(self) -> str:
        """``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(type || private key)>`` (secret)."""
        encoded = self.algorithm.type_prefix + self.private_key
        return f"PRIVATE+KEY+{self.name}+{self.key_hash.hex()}+{_b64encode(encoded)}"

    def verifier(self) -> Verifier:
        """The matching public :class:`Verifier`."""
        return Verifier(self.name, self.algorithm.public_key(self.private_key), self.algorithm)

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key ID (of the public key)."""
        return self.verifier().key_hash

    def sign(self, message: bytes) -> bytes:
        """Return the raw signature of ``message``."""
        return self.algorithm.sign(self.private_key, message)


# ---------------------------------------------------------------------- notes


class OpenedNote(NamedTuple):
    """Result of :func:`open_note`: the verified text and who signed it."""

    text: str
    signers: list[str]


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    if _has_control(text) or not _is_utf8(text):
        raise MalformedNoteError("note text must be UTF-8 without control characters")


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Sign ``text`` and return the C2SP signed note.

    ``text + "\\n" + "— <name> <base64(key ID || signature)>\\n"`` per signer.
    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    _check_text(text)
    if not signers:
        raise NoteError("at least one signer is required")
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        sig = signer.key_hash + signer.sign(message)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {_b64encode(sig)}\n")
    return text + "\n" + "".join(lines)


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a C2SP signed note and verify its signatures.

    Signatures by unknown keys (name and key ID not both matching a verifier) are
    ignored; a failing signature by a known key rejects the note
    (:class:`InvalidSignatureError`); at least one known signature is required
    (:class:`UnverifiedNoteError`); malformed input raises
    :class:`MalformedNoteError`. Returns the text and the names of the verified
    signers. T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    if isinstance(message, bytes | bytearray):
        try:
            message = bytes(message).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("note is not valid UTF-8") from None
    if _has_control(message) or not _is_utf8(message):
        raise MalformedNoteError("note must be UTF-8 without control characters")

    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_hash), v)
        if other.encoded_key != v.encoded_key:
            raise NoteError(f"ambiguous verifiers for {v.name} {v.key_hash.hex()}")

    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no signature block")
    text, sigs = message[: split + 1], message[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise MalformedNoteError("note signature block is empty or does not end with a newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError("too many signatures")

    body = text.encode("utf-8")
    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNoteError("malformed signature line")
        name, sep, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not is_valid_name(name) or not b64:
            raise MalformedNoteError("malformed signature line")
        try:
            raw = _b64decode(b64)
        except ValueError:
            raise MalformedNoteError("malformed signature encoding") from None
        if len(raw) <= KEY_HASH_SIZE:
            raise MalformedNoteError("signature too short")
        key_id, sig = raw[:KEY_HASH_SIZE], raw[KEY_HASH_SIZE:]
        verifier = known.get((name, key_id))
        if verifier is None or (name, key_id) in seen:
            continue  # unknown key, or repeated signature by the same key
        seen.add((name, key_id))
        if not verifier.verify(body, sig):
            raise InvalidSignatureError(f"invalid signature by {name} {key_id.hex()}")
        verified.append(name)
    if not verified:
        raise UnverifiedNoteError("no signature by a known key")
    return OpenedNote(text, verified)


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog checkpoint: origin, tree size, root hash, extension lines.

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5 (``GET /api/v1/log/checkpoint``).
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The checkpoint note text."""
        return checkpoint_body(self.origin, self.size, self.root, self.extensions)


def _check_line(line: str, what: str) -> None:
    if not isinstance(line, str) or not line or "\n" in line or _has_control(line) or not _is_utf8(line):
        raise CheckpointError(f"{what} must be a non-empty line without control characters")


def checkpoint_body(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """Return the C2SP tlog-checkpoint text ``origin\\nsize\\nbase64(root)\\n[ext\\n...]``.

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    _check_line(origin, "origin")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_TREE_SIZE:
        raise CheckpointError(f"invalid tree size {size!r}")
    if not isinstance(root, bytes | bytearray) or len(root) != HASH_SIZE:
        raise CheckpointError("root hash must be 32 bytes")
    for ext in extensions:
        _check_line(ext, "extension line")
    lines = [origin, str(size), _b64encode(bytes(root)), *extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse and strictly validate a C2SP tlog-checkpoint note text.

    At least three non-empty lines, text ending with a newline, decimal size
    without leading zeros, canonical base64 32-byte root, non-empty extension
    lines. T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("checkpoint must end with a newline")
    if _has_control(text) or not _is_utf8(text):
        raise CheckpointError("checkpoint must be UTF-8 without control characters")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, size and root hash lines")
    origin, size_line, root_line, *extensions = lines
    _check_line(origin, "origin")
    if not _DECIMAL.fullmatch(size_line):
        raise CheckpointError("malformed tree size")
    size = int(size_line)
    if size > _MAX_TREE_SIZE:
        raise CheckpointError("tree size too large")
    try:
        root = _b64decode(root_line)
    except ValueError:
        raise CheckpointError("malformed root hash") from None
    if len(root) != HASH_SIZE:
        raise CheckpointError("root hash must be 32 bytes")
    for ext in extensions:
        _check_line(ext, "extension line")
    return Checkpoint(origin, size, root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> str:
    """Return the signed checkpoint note (CONTRACT §5 ``/api/v1/log/checkpoint``)."""
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(message: str | bytes, verifiers: Iterable[Verifier]) -> tuple[Checkpoint, list[str]]:
    """Verify a signed checkpoint note and parse it; return it and its signers.

    T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5.
    """
    text, names = open_note(message, verifiers)
    return parse_checkpoint(text), names
