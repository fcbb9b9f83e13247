"""A passkey enrolled from a 390 px phone page through Chromium's virtual authenticator
(CTAP2, internal transport, resident key, user verified by "fingerprint"), then used to
confirm a record through ``InspectaPasskey.confirm``, then removed.

Served on ``localhost``: WebAuthn refuses an IP address as relying party id.
"""

from __future__ import annotations

import hashlib
import os
import re
from base64 import b64decode
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import Passkey
from inspecta.accounts.passkeys import identity_challenge_options, identity_confirm, identity_proof_verify
from inspecta.core.testing.browser import sign_in
from inspecta.core.testing.factories import OrganisationFactory, UserFactory

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")  # as in conftest.py

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _virtual_phone(page: Any) -> tuple[Any, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    answer = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, answer["authenticatorId"]


def test_a_sampler_enrols_a_passkey_on_the_phone_and_confirms_with_it(
    phone_page: Any, live_server: Any, e2e_tree: dict[str, Any], settings: Any
) -> None:
    assert live_server.url.startswith("http://localhost:")
    settings.INSPECTA_WEBAUTHN_RP_ID = "localhost"
    settings.INSPECTA_WEBAUTHN_ORIGINS = [live_server.url]
    org = OrganisationFactory(name="某施工单位", kind=OrganisationKind.CONTRACTOR, level="", region_code="440106")
    sampler = UserFactory(username="site_sampler", organisation=org, roles=[Role.SAMPLER])
    page = phone_page
    cdp, authenticator = _virtual_phone(page)

    sign_in(page, sampler)
    page.goto("/accounts/profile/")
    section = page.get_by_test_id("passkeys")
    expect(section.get_by_test_id("passkey-none")).to_be_visible()
    section.locator("#passkey-name").fill("工地手机")
    button = section.get_by_role("button", name="添加通行密钥", exact=True)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    with page.expect_navigation():
        button.click()
    expect(page.get_by_test_id("passkey-item")).to_have_count(1)
    expect(page.get_by_test_id("passkey-item")).to_contain_text("工地手机")
    expect(page.get_by_text("通行密钥“工地手机”已添加。")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    passkey = Passkey.objects.get(user=sampler)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]
    assert b64decode(credentials[0]["credentialId"] + "==") == bytes(passkey.credential_id)
    assert passkey.name == "工地手机" and "internal" in passkey.transports

    # a confirmation: the record's SHA-256 is the challenge the phone signs
    record = hashlib.sha256(b'{"sample":"C30-0001","event":"sampled"}').digest()
    options = identity_challenge_options(user=sampler, challenge=record)
    assertion = page.evaluate("options => InspectaPasskey.confirm(options)", options)
    proof = identity_confirm(user=sampler, challenge=record, assertion=assertion)
    assert proof.factor == "passkey" and proof.passkey_id == passkey.pk
    assert identity_proof_verify(record=proof.as_record(), challenge=record)
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    # cancelled on the phone (fingerprint not recognised): a plain Chinese message
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False})
    message = page.evaluate(
        "options => InspectaPasskey.confirm(options).then(() => 'ok', e => e.message)",
        identity_challenge_options(user=sampler, challenge=record),
    )
    assert re.search(r"[\u4e00-\u9fff]", message) and message != "ok", message

    # removal asks first; dismissed keeps it, accepted removes it
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("passkey-item").get_by_role("button", name="移除").click()
    expect(page.get_by_test_id("passkey-item")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_test_id("passkey-item").get_by_role("button", name="移除").click()
    expect(page.get_by_test_id("passkey-none")).to_be_visible()
    passkey.refresh_from_db()
    assert passkey.removed_at is not None
