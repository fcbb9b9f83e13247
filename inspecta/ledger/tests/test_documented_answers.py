"""The log's JSON answers are written by the views (``JsonResponse`` with caching
headers, bytes fixed by CONTRACT §5); their schemas are declared on the operations and
must agree with what is sent."""

from __future__ import annotations

import pytest

from inspecta.core.testing.openapi import assert_documented
from inspecta.ledger import services
from inspecta.ledger.testing import append

pytestmark = pytest.mark.django_db

BASE = "/api/v1/log"


def test_every_json_answer_of_the_log_matches_its_schema(client):
    append(5)
    services.sequence_pending()
    services.checkpoint_publish()
    pending = append(1, start=5)[0]
    checks = [
        (f"{BASE}/keys", f"{BASE}/keys", {}),
        (f"{BASE}/proof/inclusion", f"{BASE}/proof/inclusion", {"index": 1, "size": 5}),
        (f"{BASE}/proof/consistency", f"{BASE}/proof/consistency", {"from": 2, "size": 5}),
        (f"{BASE}/entries", f"{BASE}/entries", {"start": 0, "end": 3}),
        (f"{BASE}/entries", f"{BASE}/entries", {"start": 4}),  # clipped to the tree
        (f"{BASE}/entries/2", f"{BASE}/entries/{{index}}", {}),
        (
            f"{BASE}/records/{pending.record_type}/{pending.record_id}",
            f"{BASE}/records/{{record_type}}/{{record_id}}",
            {},
        ),
    ]
    for url, path, query in checks:
        response = client.get(url, query)
        assert response.status_code == 200, (url, response.content)
        assert "Cache-Control" in response.headers
        body = assert_documented(response, path)
        assert body
    consistency = client.get(f"{BASE}/proof/consistency", {"from": 2, "size": 5}).json()
    assert set(consistency) == {"from", "size", "hashes"}
    record = client.get(f"{BASE}/records/{pending.record_type}/{pending.record_id}").json()
    assert record["status"] == "pending" and record["log_index"] is None


def test_an_answer_outside_its_schema_is_caught(client):
    from django.http import JsonResponse

    with pytest.raises(AssertionError):
        assert_documented(JsonResponse({"index": "one", "size": 5, "hashes": []}), f"{BASE}/proof/inclusion")
