"""Passkeys as the identity factor of confirmations (T/CECS 4.3.4-2; Nanchang 四(四)2):
enrolment and confirmation with a software authenticator, every refusal, the later
re-verification of a stored proof, and the TOTP fallback."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from inspecta.accounts import passkeys
from inspecta.accounts.choices import ConfirmationFactor, OrganisationKind, Role
from inspecta.accounts.models import Passkey, User
from inspecta.accounts.passkeys import (
    IdentityProof,
    identity_challenge_options,
    identity_confirm,
    identity_factors,
    identity_proof_verify,
    passkey_register,
    passkey_registration_options,
    passkey_remove,
)
from inspecta.accounts.testing import SoftAuthenticator
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.testing.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

RECORD = hashlib.sha256(b'{"sample":"C30-0001","event":"witnessed"}').digest()
OTHER_RECORD = hashlib.sha256(b'{"sample":"C30-0002","event":"witnessed"}').digest()


@pytest.fixture
def sampler(db: Any) -> User:
    org = OrganisationFactory(name="某施工单位", kind=OrganisationKind.CONTRACTOR, level="", region_code="440106")
    return UserFactory(username="sampler", organisation=org, roles=[Role.SAMPLER])


@pytest.fixture
def witness(db: Any) -> User:
    org = OrganisationFactory(name="某监理单位", kind=OrganisationKind.SUPERVISING_FIRM, level="", region_code="440106")
    return UserFactory(username="witness", organisation=org, roles=[Role.WITNESS])


def enrol(
    user: User, phone: SoftAuthenticator | None = None, name: str = "我的手机"
) -> tuple[Passkey, SoftAuthenticator]:
    phone = phone or SoftAuthenticator()
    options = passkey_registration_options(user=user)
    return passkey_register(actor=user, user=user, credential=phone.create(options), name=name), phone


def confirm(user: User, phone: SoftAuthenticator, challenge: bytes = RECORD) -> IdentityProof:
    options = identity_challenge_options(user=user, challenge=challenge)
    return identity_confirm(user=user, challenge=challenge, assertion=phone.get(options))


def refused(code: ErrorCode, call: Any, *args: Any, **kwargs: Any) -> AppError:
    with pytest.raises(AppError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message), caught.value.message
    return caught.value


def _code(device: TOTPDevice) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)


# --- enrolment ----------------------------------------------------------------------


def test_registration_options_require_user_verification_and_exclude_enrolled_keys(sampler: User) -> None:
    options = json.loads(passkey_registration_options(user=sampler))
    assert options["rp"] == {"id": "localhost", "name": "建设工程检测监管信息服务平台"}
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["attestation"] == "none"
    assert options["user"]["name"] == "sampler" and options["excludeCredentials"] == []
    assert len(base64url_to_bytes(options["challenge"])) == 32

    _passkey, phone = enrol(sampler)
    again = json.loads(passkey_registration_options(user=sampler))
    assert [c["id"] for c in again["excludeCredentials"]] == [bytes_to_base64url(phone.credential_id)]
    assert again["user"]["id"] == options["user"]["id"]  # one stable handle per person
    assert again["challenge"] != options["challenge"]


def test_a_passkey_is_registered_with_its_public_key(sampler: User) -> None:
    passkey, phone = enrol(sampler, name="  工地手机 ")
    assert passkey.user == sampler and passkey.name == "工地手机"
    assert bytes(passkey.credential_id) == phone.credential_id
    assert bytes(passkey.public_key) == phone.cose_public_key()
    assert passkey.transports == ["internal", "hybrid"] and passkey.sign_count == 0
    assert passkey.aaguid == "00000000-0000-0000-0000-000000000000"
    assert passkey.history.count() == 1 and passkey.history.get().history_user == sampler  # type: ignore[attr-defined]
    # a person may hold several (one per phone); an empty name gets the usual one
    second, _phone = enrol(sampler, name="")
    assert second.name == "我的手机"
    assert list(sampler.passkeys.values_list("name", flat=True)) == ["工地手机", "我的手机"]


def test_a_registration_challenge_serves_once(sampler: User) -> None:
    phone = SoftAuthenticator()
    answer = phone.create(passkey_registration_options(user=sampler))
    passkey_register(actor=sampler, user=sampler, credential=answer, name="a")
    refused(
        ErrorCode.PASSKEY_CHALLENGE_EXPIRED, passkey_register, actor=sampler, user=sampler, credential=answer, name="a"
    )
    assert Passkey.objects.count() == 1


def test_registration_without_options_or_after_they_expire_is_refused(sampler: User) -> None:
    from django.core.cache import cache

    phone = SoftAuthenticator()
    answer = phone.create(passkey_registration_options(user=sampler))
    cache.clear()  # what the cache does after INSPECTA_WEBAUTHN_TIMEOUT_SECONDS
    refused(
        ErrorCode.PASSKEY_CHALLENGE_EXPIRED, passkey_register, actor=sampler, user=sampler, credential=answer, name="a"
    )
    assert not Passkey.objects.exists()


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda phone: setattr(phone, "user_verified", False), id="no-user-verification"),
        pytest.param(lambda phone: setattr(phone, "origin", "https://evil.example"), id="other-origin"),
    ],
)
def test_a_bad_registration_is_refused_and_keeps_nothing(sampler: User, spoil: Any) -> None:
    phone = SoftAuthenticator()
    spoil(phone)
    options = passkey_registration_options(user=sampler)
    refused(
        ErrorCode.PASSKEY_INVALID,
        passkey_register,
        actor=sampler,
        user=sampler,
        credential=phone.create(options),
        name="x",
    )
    assert not Passkey.objects.exists()


def test_registration_answers_to_another_persons_options_or_garbage_are_refused(sampler: User, witness: User) -> None:
    phone = SoftAuthenticator()
    answer = phone.create(passkey_registration_options(user=witness))  # the witness's challenge
    passkey_registration_options(user=sampler)
    refused(ErrorCode.PASSKEY_INVALID, passkey_register, actor=sampler, user=sampler, credential=answer, name="x")
    passkey_registration_options(user=sampler)
    refused(ErrorCode.PASSKEY_INVALID, passkey_register, actor=sampler, user=sampler, credential="{not json", name="x")
    # nobody enrols a key for someone else
    passkey_registration_options(user=witness)
    refused(ErrorCode.FORBIDDEN, passkey_register, actor=sampler, user=witness, credential=answer, name="x")
    assert not Passkey.objects.exists()


def test_the_same_passkey_is_not_registered_twice(sampler: User) -> None:
    _passkey, phone = enrol(sampler)
    options = passkey_registration_options(user=sampler)
    refused(
        ErrorCode.PASSKEY_ALREADY_REGISTERED,
        passkey_register,
        actor=sampler,
        user=sampler,
        credential=phone.create(options),
        name="x",
    )
    assert Passkey.objects.count() == 1


def test_a_too_long_name_is_refused(sampler: User) -> None:
    phone = SoftAuthenticator()
    options = passkey_registration_options(user=sampler)
    error = refused(
        ErrorCode.VALIDATION_FAILED,
        passkey_register,
        actor=sampler,
        user=sampler,
        credential=phone.create(options),
        name="手" * 65,
    )
    assert "name" in error.details["fields"]
    assert not Passkey.objects.exists()


# --- confirmation -------------------------------------------------------------------


def test_confirmation_options_carry_the_record_hash_and_the_persons_keys(sampler: User, witness: User) -> None:
    _mine, phone = enrol(sampler)
    enrol(witness)
    options = json.loads(identity_challenge_options(user=sampler, challenge=RECORD))
    assert base64url_to_bytes(options["challenge"]) == RECORD
    assert options["rpId"] == "localhost" and options["userVerification"] == "required"
    assert [c["id"] for c in options["allowCredentials"]] == [bytes_to_base64url(phone.credential_id)]
    assert identity_factors(user=sampler) == [ConfirmationFactor.PASSKEY]


def test_a_confirmation_by_passkey_gives_a_proof_that_verifies_later(sampler: User) -> None:
    passkey, phone = enrol(sampler)
    proof = confirm(sampler, phone)
    assert proof.factor == ConfirmationFactor.PASSKEY == "passkey"
    assert (proof.user_id, proof.passkey_id, proof.credential_id) == (sampler.pk, passkey.pk, phone.credential_id)
    assert proof.challenge == RECORD and proof.signature and proof.authenticator_data
    assert json.loads(proof.client_data_json)["type"] == "webauthn.get"
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at == proof.at

    record = json.loads(json.dumps(proof.as_record()))  # what a record stores
    assert record["factor"] == "passkey" and record["passkey_id"] == passkey.pk
    assert base64url_to_bytes(record["challenge"]) == RECORD
    assert identity_proof_verify(record=record, challenge=RECORD)
    # the stored proof is bound to this record and to every byte of it
    assert not identity_proof_verify(record=record, challenge=OTHER_RECORD)
    changed = bytearray(RECORD)
    changed[0] ^= 1
    assert not identity_proof_verify(record=record, challenge=bytes(changed))
    signature = bytearray(base64url_to_bytes(record["signature"]))
    signature[-1] ^= 1
    assert not identity_proof_verify(
        record={**record, "signature": bytes_to_base64url(bytes(signature))}, challenge=RECORD
    )
    stored_challenge = bytearray(RECORD)
    stored_challenge[5] ^= 0x80
    assert not identity_proof_verify(
        record={**record, "challenge": bytes_to_base64url(bytes(stored_challenge))}, challenge=RECORD
    )
    assert not identity_proof_verify(record={**record, "user_id": sampler.pk + 1}, challenge=RECORD)
    assert not identity_proof_verify(record={"factor": "passkey"}, challenge=RECORD)
    # a removed passkey no longer confirms, but what it confirmed still verifies
    passkey_remove(actor=sampler, passkey=passkey)
    assert identity_proof_verify(record=record, challenge=RECORD)


def test_later_verification_checks_the_relying_party(sampler: User, settings: Any) -> None:
    _passkey, phone = enrol(sampler)
    record = confirm(sampler, phone).as_record()
    settings.INSPECTA_WEBAUTHN_RP_ID = "inspecta.example"
    assert not identity_proof_verify(record=record, challenge=RECORD)


def test_a_wrong_challenge_is_refused(sampler: User) -> None:
    passkey, phone = enrol(sampler)
    answer = phone.get(identity_challenge_options(user=sampler, challenge=OTHER_RECORD))
    refused(ErrorCode.PASSKEY_INVALID, identity_confirm, user=sampler, challenge=RECORD, assertion=answer)
    passkey.refresh_from_db()
    assert passkey.sign_count == 0 and passkey.last_used_at is None


def test_a_tampered_signature_is_refused(sampler: User) -> None:
    passkey, phone = enrol(sampler)
    phone.tamper_signature = True
    refused(ErrorCode.PASSKEY_INVALID, confirm, sampler, phone)
    passkey.refresh_from_db()
    assert passkey.sign_count == 0


def test_an_assertion_without_user_verification_is_refused(sampler: User) -> None:
    passkey, phone = enrol(sampler)
    phone.user_verified = False
    refused(ErrorCode.PASSKEY_INVALID, confirm, sampler, phone)
    passkey.refresh_from_db()
    assert passkey.sign_count == 0


def test_another_persons_passkey_does_not_confirm_for_me(sampler: User, witness: User) -> None:
    enrol(sampler)
    _theirs, their_phone = enrol(witness)
    answer = their_phone.get(identity_challenge_options(user=sampler, challenge=RECORD))
    refused(ErrorCode.PASSKEY_UNKNOWN, identity_confirm, user=sampler, challenge=RECORD, assertion=answer)
    # nor does a proof made by the witness pass as the sampler's
    record = confirm(witness, their_phone).as_record()
    assert identity_proof_verify(record=record, challenge=RECORD)
    assert not identity_proof_verify(record={**record, "user_id": sampler.pk}, challenge=RECORD)


def test_a_sign_count_regression_is_refused(sampler: User) -> None:
    passkey, phone = enrol(sampler)
    confirm(sampler, phone)
    confirm(sampler, phone)
    passkey.refresh_from_db()
    assert passkey.sign_count == 2
    phone.sign_count = 0  # a copy of the key made after its first use
    refused(ErrorCode.PASSKEY_SIGN_COUNT_REGRESSED, confirm, sampler, phone)
    phone.sign_count = 1  # the same count again: a replay
    refused(ErrorCode.PASSKEY_SIGN_COUNT_REGRESSED, confirm, sampler, phone)
    passkey.refresh_from_db()
    assert passkey.sign_count == 2


def test_a_passkey_without_a_counter_keeps_confirming(sampler: User) -> None:
    passkey, phone = enrol(sampler, SoftAuthenticator(counting=False))
    confirm(sampler, phone)
    confirm(sampler, phone, OTHER_RECORD)
    passkey.refresh_from_db()
    assert passkey.sign_count == 0 and passkey.last_used_at is not None


def test_a_removed_passkey_confirms_nothing(sampler: User) -> None:
    passkey, phone = enrol(sampler)
    answer = phone.get(identity_challenge_options(user=sampler, challenge=RECORD))
    passkey_remove(actor=sampler, passkey=passkey)
    refused(ErrorCode.PASSKEY_UNKNOWN, identity_confirm, user=sampler, challenge=RECORD, assertion=answer)
    refused(ErrorCode.IDENTITY_FACTOR_MISSING, identity_challenge_options, user=sampler, challenge=RECORD)
    assert identity_factors(user=sampler) == []


def test_a_disabled_account_confirms_nothing(sampler: User) -> None:
    passkey, phone = enrol(sampler)
    answer = phone.get(identity_challenge_options(user=sampler, challenge=RECORD))
    User.objects.filter(pk=sampler.pk).update(is_active=False)
    sampler.refresh_from_db()
    refused(ErrorCode.FORBIDDEN, identity_confirm, user=sampler, challenge=RECORD, assertion=answer)
    passkey.refresh_from_db()
    assert passkey.sign_count == 0


def test_a_malformed_assertion_is_refused(sampler: User) -> None:
    enrol(sampler)
    for answer in ("nonsense", {"id": "x"}, {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}):
        with pytest.raises(AppError) as caught:
            identity_confirm(user=sampler, challenge=RECORD, assertion=answer)
        assert caught.value.code in (ErrorCode.PASSKEY_INVALID, ErrorCode.PASSKEY_UNKNOWN)
    refused(ErrorCode.IDENTITY_FACTOR_MISSING, identity_confirm, user=sampler, challenge=RECORD)
    with pytest.raises(ValueError):
        identity_challenge_options(user=sampler, challenge=b"short")


# --- the TOTP fallback ----------------------------------------------------------------


def test_the_totp_fallback_is_accepted_with_the_right_code_and_says_so(sampler: User) -> None:
    device = TOTPDevice.objects.create(user=sampler, name="phone", confirmed=True)
    assert identity_factors(user=sampler) == [ConfirmationFactor.TOTP]
    proof = identity_confirm(user=sampler, challenge=RECORD, totp_code=_code(device))
    assert proof.factor == ConfirmationFactor.TOTP == "totp"
    assert proof.passkey_id is None and proof.signature == b"" and proof.challenge == RECORD
    record = proof.as_record()
    assert record["factor"] == "totp"
    assert identity_proof_verify(record=record, challenge=RECORD)
    assert not identity_proof_verify(record=record, challenge=OTHER_RECORD)
    assert not identity_proof_verify(record={**record, "factor": "sms"}, challenge=RECORD)


def test_the_totp_fallback_is_refused_with_a_wrong_code(sampler: User) -> None:
    device = TOTPDevice.objects.create(user=sampler, name="phone", confirmed=True)
    wrong = str((int(_code(device)) + 1) % 1_000_000).zfill(6)
    refused(ErrorCode.TOTP_INVALID, identity_confirm, user=sampler, challenge=RECORD, totp_code=wrong)
    # an unconfirmed device, or none, is no fallback
    refused(ErrorCode.IDENTITY_FACTOR_MISSING, identity_confirm, user=sampler, challenge=RECORD, totp_code="")
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    refused(ErrorCode.IDENTITY_FACTOR_MISSING, identity_confirm, user=sampler, challenge=RECORD, totp_code="123456")


def test_an_assertion_wins_over_a_code(sampler: User) -> None:
    _passkey, phone = enrol(sampler)
    device = TOTPDevice.objects.create(user=sampler, name="phone", confirmed=True)
    answer = phone.get(identity_challenge_options(user=sampler, challenge=RECORD))
    proof = identity_confirm(user=sampler, challenge=RECORD, assertion=answer, totp_code=_code(device))
    assert proof.factor == ConfirmationFactor.PASSKEY
    assert identity_factors(user=sampler) == [ConfirmationFactor.PASSKEY, ConfirmationFactor.TOTP]


# --- removal and reach ----------------------------------------------------------------


def test_only_the_owner_or_an_operator_removes_a_passkey(sampler: User, witness: User, tree: dict[str, Any]) -> None:
    passkey, _phone = enrol(sampler)
    refused(ErrorCode.NOT_FOUND, passkey_remove, actor=witness, passkey=passkey)
    passkey.refresh_from_db()
    assert passkey.removed_at is None
    assert list(Passkey.objects.restrict(witness)) == []
    assert list(Passkey.objects.restrict(sampler)) == [passkey]
    assert list(Passkey.objects.restrict(tree["operator"])) == [passkey]
    passkey_remove(actor=tree["operator"], passkey=passkey)
    passkey.refresh_from_db()
    assert passkey.removed_at is not None
    assert passkey.history.first().history_user == tree["operator"]  # type: ignore[attr-defined]


def test_settings_are_read_at_each_call(sampler: User, settings: Any) -> None:
    settings.INSPECTA_WEBAUTHN_RP_ID = "jc.example.cn"
    settings.INSPECTA_WEBAUTHN_ORIGINS = ["https://jc.example.cn"]
    assert passkeys.rp_id() == "jc.example.cn"
    phone = SoftAuthenticator()
    assert phone.origin == "https://jc.example.cn"
    _passkey, phone = enrol(sampler, phone)
    assert confirm(sampler, phone).factor == "passkey"
