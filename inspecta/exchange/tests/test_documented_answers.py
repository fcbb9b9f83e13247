"""The exchange answers whose bodies are built by hand agree with the OpenAPI document
(CONTRACT §1)."""

from __future__ import annotations

import pytest

from inspecta.core.testing.openapi import assert_documented

pytestmark = pytest.mark.django_db


def test_platform_keys_match_their_schema(client):
    body = assert_documented(client.get("/api/v1/exchange/platform-keys"), "/api/v1/exchange/platform-keys")
    assert body["keys"] and {key["alg"] for key in body["keys"]} == {"ed25519"}
    assert sum(key["active"] for key in body["keys"]) == 1
