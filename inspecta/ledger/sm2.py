"""SM2-with-SM3 signed-note signatures: the optional second checkpoint signature line.

Users bound to GB/T 39786 (commercial cryptography for information systems) need the
log's tree heads signed with the national algorithms as well; the Ed25519 line stays
the primary one that C2SP tools (Go's ``golang.org/x/mod/sumdb/note``) verify, and
they ignore this line as a signature by an unknown key (C2SP signed-note). Enabled
by ``INSPECTA_LOG_SM2_SIGNATURE``. T/CECS 2.0.15, 4.1.2, 7.2.3; GB/T 39786;
GB/T 32918.2 (SM2 signatures), GB/T 32905 (SM3), GB/T 35276 (encodings).

Signature type (C2SP signed-note, "Signature types"): SM2 has no assigned byte, so
the type is ``0xff`` (reserved for such types) followed by an identifier "unlikely to
collide": the DER encoding of the object identifier 1.2.156.10197.1.501 (SM2 signature
with SM3, GM/T 0006), ``06 08 2a 81 1c cf 55 01 83 75``. A DER OID is self-delimiting,
so the public key that follows needs no separator:

* public key: the 65-byte uncompressed point ``04 || x || y`` (GB/T 35276);
* private key: the 32-byte scalar ``d`` (big endian), ``1 <= d < n - 1``;
* signature: DER ``SEQUENCE { r INTEGER, s INTEGER }`` (GB/T 35276) over the note text,
  computed as GB/T 32918.2 with the SM3 hash and the distinguishing identifier
  ``ID = "1234567812345678"`` (GB/T 35276 default) entering ``Z_A``;
* key ID: ``SHA-256(name || 0x0A || 0xff || OID DER || public key)[:4]``.

Implementation: tongsuopy (Tongsuo). Its ``EVP_DigestSign`` does not expose the
distinguishing identifier; it uses Tongsuo's default, which is
``1234567812345678`` — ``tests/test_sm2.py`` proves that with OpenSSL 3
(``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678``)
in both directions, and that another identifier fails.
"""

from __future__ import annotations

from tongsuopy.crypto import hashes
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.serialization import Encoding, PrivateFormat, PublicFormat

from .note import ALG_UNASSIGNED, KeyFormatError, SignatureAlgorithm, register_algorithm

__all__ = ["SM2", "SM2_DISTID", "SM2_SM3_OID_DER", "SM2Algorithm", "sm2_public_key_pem"]

SM2_SM3_OID_DER = bytes.fromhex("06082a811ccf55018375")
"""DER of the OID 1.2.156.10197.1.501 (SM2-with-SM3), the identifier after ``0xff``."""

SM2_DISTID = b"1234567812345678"
"""The SM2 distinguishing identifier used (GB/T 35276 default; Tongsuo's default)."""

_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
"""Order of the SM2 base point (GB/T 32918.5)."""


def _public(public_key: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), public_key)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("SM2 public key is not a point of the curve") from exc


def _private(private_key: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(private_key, "big"), ec.SM2())


class SM2Algorithm(SignatureAlgorithm):
    """SM2 signatures with SM3 (GB/T 32918.2, GB/T 39786), type ``0xff`` + OID DER.

    T/CECS 2.0.15, 4.1.2, 7.2.3; GB/T 39786.
    """

    alg_id = ALG_UNASSIGNED
    identifier = SM2_SM3_OID_DER
    name = "SM2-SM3"

    def check_public_key(self, public_key: bytes) -> None:
        """Require a 65-byte uncompressed point on the SM2 curve."""
        if len(public_key) != 65 or public_key[0] != 0x04:
            raise KeyFormatError("SM2 public key must be a 65-byte uncompressed point")
        _public(public_key)

    def check_private_key(self, private_key: bytes) -> None:
        """Require a 32-byte scalar in ``[1, n - 2]``."""
        if len(private_key) != 32 or not 1 <= int.from_bytes(private_key, "big") < _N - 1:
            raise KeyFormatError("SM2 private key must be a 32-byte scalar in [1, n-2]")

    def generate_private_key(self) -> bytes:
        """A fresh random scalar (Tongsuo's generator)."""
        while True:
            value: int = ec.generate_private_key(ec.SM2()).private_numbers().private_value
            if value < _N - 1:
                return value.to_bytes(32, "big")

    def public_key(self, private_key: bytes) -> bytes:
        """The uncompressed point ``04 || x || y``."""
        public = _private(private_key).public_key()
        return bytes(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """SM2 signature (DER) of ``message`` with SM3 and ID ``1234567812345678``."""
        return bytes(_private(private_key).sign(message, ec.ECDSA(hashes.SM3())))

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Verify a DER SM2 signature (SM3, ID ``1234567812345678``)."""
        if not 8 <= len(signature) <= 80:
            return False
        try:
            _public(public_key).verify(signature, message, ec.ECDSA(hashes.SM3()))
        except Exception:
            return False
        return True


SM2 = SM2Algorithm()
register_algorithm(SM2)


def sm2_public_key_pem(public_key: bytes) -> str:
    """The public key as a PEM SubjectPublicKeyInfo (for ``openssl pkeyutl``)."""
    pem: bytes = _public(public_key).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def sm2_private_key_pem(private_key: bytes) -> str:
    """The private key as unencrypted PKCS#8 PEM (tests: signing with ``openssl``)."""
    from tongsuopy.crypto.serialization import NoEncryption

    pem: bytes = _private(private_key).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return pem.decode("ascii")
