"""Tests of C2SP signed notes and tlog checkpoints (T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5).

Static peers: the examples of golang.org/x/mod/sumdb/note (deterministic Ed25519
signatures, so our output must match byte for byte). The live Go cross-check is in
``test_gocheck.py``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest

from inspecta.ledger.merkle import leaf_hash
from inspecta.ledger.note import (
    Checkpoint,
    CheckpointError,
    InvalidSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    SignatureAlgorithm,
    Signer,
    UnverifiedNoteError,
    Verifier,
    checkpoint_body,
    is_valid_name,
    key_hash,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    register_algorithm,
    sign_checkpoint,
    sign_note,
)

# From golang.org/x/mod/sumdb/note (example_test.go / package documentation).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# note.GenerateKey with an all-zero random source, i.e. seed = 32 zero bytes.
GO_ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

ORIGIN = "inspecta.example/log"
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture(scope="module")
def verifier(signer: Signer) -> Verifier:
    return signer.verifier()


# ------------------------------------------------------------------------- keys


def test_go_example_keys_and_signature() -> None:
    signer = Signer.from_key_string(GO_SKEY)
    verifier = Verifier.from_key_string(GO_VKEY)
    assert signer.key_string == GO_SKEY
    assert verifier.key_string == GO_VKEY
    assert signer.verifier() == verifier
    assert verifier.key_hash.hex() == "c74f20a3"
    signed = sign_note(GO_TEXT, [signer])
    assert signed == GO_TEXT + "\n" + GO_SIG
    assert open_note(signed, [verifier]) == (GO_TEXT, ["PeterNeumann"])
    enoch = Signer("EnochRoot", bytes(32))
    both = sign_note(GO_TEXT, [signer, enoch])
    assert both == GO_TEXT + "\n" + GO_SIG + GO_ENOCH_SIG
    assert open_note(both, [verifier, enoch.verifier()]).signers == [
        "PeterNeumann",
        "EnochRoot",
    ]
    assert open_note(both.encode(), [enoch.verifier()]).signers == ["EnochRoot"]


def test_key_hash_per_spec(signer: Signer, verifier: Verifier) -> None:
    public = verifier.public_key
    assert len(public) == 32
    expected = hashlib.sha256(ORIGIN.encode() + b"\n" + b"\x01" + public).digest()[:4]
    assert verifier.key_hash == expected == signer.key_hash
    assert key_hash(ORIGIN, b"\x01" + public) == expected
    name, hash_hex, key64 = verifier.key_string.split("+", 2)
    assert (name, hash_hex) == (ORIGIN, expected.hex())
    assert base64.b64decode(key64) == b"\x01" + public
    assert signer.key_string == f"PRIVATE+KEY+{ORIGIN}+{expected.hex()}+" + base64.b64encode(
        b"\x01" + signer.private_key
    ).decode("ascii")
    assert Signer.from_key_string(signer.key_string) == signer
    assert Verifier.from_key_string(verifier.key_string) == verifier
    assert base64.b64encode(b"\x01" + signer.private_key).decode() not in repr(signer)


def test_key_string_manglings_rejected() -> None:
    """Every substring and every one-character change of a key is rejected (as in Go)."""
    for key, parse in [
        (GO_VKEY, Verifier.from_key_string),
        (GO_SKEY, Signer.from_key_string),
    ]:
        for i in range(len(key) + 1):
            for j in range(i + 1, len(key) + 1):
                if (i, j) != (0, len(key)):
                    with pytest.raises(NoteError):
                        parse(key[i:j])
        for i in range(len(key)):
            with pytest.raises(NoteError):
                parse(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])
    # Wrong key length / unknown algorithm, each with a matching key hash.
    with pytest.raises(KeyFormatError):
        Verifier.from_key_string("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(KeyFormatError):
        Verifier.from_key_string("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


@pytest.mark.parametrize(
    "name",
    ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u3000b", "a\nb", "a\x01b", "\ud800"],
)
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)
    with pytest.raises(KeyFormatError):
        Signer(name, bytes(32))


def test_valid_names() -> None:
    for name in ["a", "example.com/log42", "检测.example/日志", "PeterNeumann"]:
        assert is_valid_name(name)
        Signer(name, bytes(32)).verifier()


def test_key_material_checked() -> None:
    with pytest.raises(KeyFormatError):
        Signer("x", bytes(31))
    with pytest.raises(KeyFormatError):
        Verifier("x", bytes(33))


# ------------------------------------------------------------------------ notes


def test_round_trip(signer: Signer, verifier: Verifier) -> None:
    text = "hello\n\nworld\n"  # the text may contain blank lines
    signed = sign_note(text, [signer])
    assert signed.startswith(text + "\n\u2014 " + ORIGIN + " ")
    assert signed.endswith("\n")
    opened = open_note(signed, [verifier])
    assert opened.text == text
    assert opened.signers == [ORIGIN]


def test_tampered_text_fails(signer: Signer, verifier: Verifier) -> None:
    signed = sign_note("size 10\n", [signer])
    with pytest.raises(InvalidSignatureError):
        open_note(signed.replace("size 10", "size 11"), [verifier])
    with pytest.raises(InvalidSignatureError):
        open_note("x" + signed, [verifier])


def test_tampered_signature_fails(signer: Signer, verifier: Verifier) -> None:
    signed = sign_note("abc\n", [signer])
    text, sig_line = signed.split("\n\n")
    name, b64 = sig_line[2:-1].split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 1
    bad = f"{text}\n\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(InvalidSignatureError):
        open_note(bad, [verifier])
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1  # key ID no longer matches: treated as an unknown key
    bad = f"{text}\n\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(UnverifiedNoteError):
        open_note(bad, [verifier])


def test_wrong_key_fails(signer: Signer, verifier: Verifier) -> None:
    signed = sign_note("abc\n", [signer])
    other = Signer.generate(ORIGIN)  # same name, other key: unknown, ignored
    with pytest.raises(UnverifiedNoteError):
        open_note(signed, [other.verifier()])
    with pytest.raises(UnverifiedNoteError):
        open_note(signed, [])
    # A configured key with the same name and key ID but another public key: the
    # signature is checked against it and the note is rejected.
    with pytest.raises(InvalidSignatureError):
        open_note(signed, [_same_id_other_key(verifier)])


def test_unknown_signatures_ignored(signer: Signer, verifier: Verifier) -> None:
    witness = Signer.generate("witness.example/w1")
    signed = sign_note("abc\n", [witness, signer, signer])
    assert open_note(signed, [verifier]).signers == [ORIGIN]  # duplicate counted once
    assert open_note(signed, [verifier, witness.verifier()]).signers == [
        "witness.example/w1",
        ORIGIN,
    ]
    with pytest.raises(NoteError):
        open_note(
            signed,
            [
                verifier,
                Verifier(ORIGIN, verifier.public_key),
                _same_id_other_key(verifier),
            ],
        )


def _same_id_other_key(verifier: Verifier) -> Verifier:
    """A verifier object claiming ``verifier``'s name and key ID with another key."""

    class Fake(Verifier):
        @property
        def key_hash(self) -> bytes:
            return verifier.key_hash

    return Fake(verifier.name, bytes(32))


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda s: s[:-1], id="no final newline"),
        pytest.param(lambda s: s.replace("\n\n", "\n"), id="no blank line"),
        pytest.param(lambda s: s.split("\n\n")[0] + "\n\n", id="empty signature block"),
        pytest.param(lambda s: s + "\n", id="blank line after signatures"),
        pytest.param(lambda s: s.replace("\u2014 ", "- "), id="hyphen instead of em dash"),
        pytest.param(lambda s: s.replace("\u2014 ", "\u2014"), id="no space after em dash"),
        pytest.param(lambda s: s.replace(f" {ORIGIN} ", f" {ORIGIN}  "), id="double space"),
        pytest.param(lambda s: s.replace(f" {ORIGIN} ", f" {ORIGIN}+x "), id="plus in name"),
        pytest.param(lambda s: s.replace(f" {ORIGIN} ", " "), id="missing name"),
        pytest.param(lambda s: s.replace("=\n", "\n"), id="bad base64 padding"),
        pytest.param(lambda s: s.replace("abc", "a\x07c"), id="control character"),
        pytest.param(lambda s: s.replace("abc", "a\rc"), id="carriage return"),
        pytest.param(lambda s: s + "\u2014 x AAAAAA==\n", id="signature too short"),
        pytest.param(lambda s: s + "\u2014 x\n", id="no signature"),
        pytest.param(lambda s: s + "junk\n", id="junk line"),
        pytest.param(lambda s: s + "\u2014 x AAAAAAAA\n" * 100, id="too many signatures"),
    ],
)
def test_malformed_notes_rejected(signer: Signer, verifier: Verifier, mangle: Callable[[str], str]) -> None:
    signed = sign_note("abc\n", [signer])
    bad = mangle(signed)
    assert bad != signed
    with pytest.raises(MalformedNoteError):
        open_note(bad, [verifier])


def test_invalid_utf8_rejected(signer: Signer, verifier: Verifier) -> None:
    signed = sign_note("abc\n", [signer]).encode()
    with pytest.raises(MalformedNoteError):
        open_note(signed.replace(b"abc", b"a\xffc"), [verifier])


@pytest.mark.parametrize("text", ["", "abc", "a\x00c\n", "a\tb\n"])
def test_sign_rejects_bad_text(signer: Signer, text: str) -> None:
    with pytest.raises(MalformedNoteError):
        sign_note(text, [signer])


def test_sign_requires_signer() -> None:
    with pytest.raises(NoteError):
        sign_note("abc\n", [])


class _XorAlgorithm(SignatureAlgorithm):
    """Toy signature type for the pluggability test (NOT secure)."""

    alg_id = 0xFF
    identifier = bytes.fromhex("06032a0304")  # C2SP: 0xff + identifier (DER OID 1.2.3.4)
    name = "test-xor"

    def check_public_key(self, public_key: bytes) -> None:
        if len(public_key) != 8:
            raise KeyFormatError("bad key")

    def check_private_key(self, private_key: bytes) -> None:
        self.check_public_key(private_key)

    def generate_private_key(self) -> bytes:
        return b"12345678"

    def public_key(self, private_key: bytes) -> bytes:
        return private_key

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return hashlib.sha256(private_key + message).digest()

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        return signature == hashlib.sha256(public_key + message).digest()


def test_pluggable_algorithm(signer: Signer, verifier: Verifier) -> None:
    algorithm = _XorAlgorithm()
    register_algorithm(algorithm)
    register_algorithm(algorithm)  # idempotent
    with pytest.raises(ValueError):
        register_algorithm(_XorAlgorithm())
    other = Signer.generate("other.example", algorithm)
    other_verifier = Verifier.from_key_string(other.verifier().key_string)
    assert other_verifier.algorithm is algorithm
    assert Signer.from_key_string(other.key_string) == other
    signed = sign_note("abc\n", [signer, other])
    assert open_note(signed, [verifier, other_verifier]).signers == [
        ORIGIN,
        "other.example",
    ]


# ----------------------------------------------------------------- checkpoints


def test_checkpoint_body() -> None:
    body = checkpoint_body(ORIGIN, 20852163, ROOT)
    assert body == f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    with_ext = checkpoint_body(ORIGIN, 0, ROOT, ["ext one", "ext two"])
    assert with_ext.endswith("\next one\next two\n")
    assert parse_checkpoint(body) == Checkpoint(ORIGIN, 20852163, ROOT)
    assert parse_checkpoint(with_ext) == Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext two"))
    assert Checkpoint(ORIGIN, 5, ROOT, ("e",)).body() == checkpoint_body(ORIGIN, 5, ROOT, ["e"])


def test_c2sp_example_checkpoint() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size, cp.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert cp.body() == text


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, []),
        ("a\nb", 1, ROOT, []),
        ("o", -1, ROOT, []),
        ("o", True, ROOT, []),
        ("o", 2**63, ROOT, []),
        ("o", 1, ROOT[:31], []),
        ("o", 1, ROOT + b"\x00", []),
        ("o", 1, ROOT, [""]),
        ("o", 1, ROOT, ["a\nb"]),
        ("o", 1, ROOT, ["a\x00"]),
    ],
)
def test_checkpoint_body_rejects(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    with pytest.raises(CheckpointError):
        checkpoint_body(origin, size, root, extensions)


B64ROOT = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(b"\xff" * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"o\n1\n{B64ROOT}",  # no final newline
        f"o\n1\n{B64ROOT}\n\n",  # empty extension line
        "o\n1\n",  # too few lines
        f"\n1\n{B64ROOT}\n",  # empty origin
        f"o\n01\n{B64ROOT}\n",  # leading zero
        f"o\n+1\n{B64ROOT}\n",
        f"o\n-1\n{B64ROOT}\n",
        f"o\n 1\n{B64ROOT}\n",
        f"o\n1 \n{B64ROOT}\n",
        f"o\n\uff11\n{B64ROOT}\n",  # fullwidth digit
        f"o\n1_0\n{B64ROOT}\n",
        f"o\n\n{B64ROOT}\n",
        f"o\n{2**63}\n{B64ROOT}\n",
        f"o\n1\n{B64ROOT[:-1]}\n",  # bad padding
        f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31 bytes
        f"o\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",  # 33 bytes
        f"o\n1\n{B64ROOT[:-2]}9=\n",  # non-canonical trailing bits
        f"o\n1\n {B64ROOT}\n",
        f"o\n1\n{URLSAFE_ROOT}\n",  # URL alphabet
        f"o\r\n1\n{B64ROOT}\n",
    ],
)
def test_parse_checkpoint_rejects(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


def test_signed_checkpoint_round_trip(signer: Signer, verifier: Verifier) -> None:
    cp = Checkpoint(ORIGIN, 12345, leaf_hash(b"x"))
    signed = sign_checkpoint(cp, [signer])
    assert signed.startswith(cp.body() + "\n\u2014 ")
    assert open_checkpoint(signed, [verifier]) == (cp, [ORIGIN])
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(signed.replace("12345", "12346"), [verifier])
    bad = sign_note("o\n01\n" + base64.b64encode(ROOT).decode() + "\n", [signer])
    with pytest.raises(CheckpointError):
        open_checkpoint(bad, [verifier])
