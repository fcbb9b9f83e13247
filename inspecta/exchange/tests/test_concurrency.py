"""T/CECS 6.0.3: 16 clients signing and calling at once get no errors and no cross-talk."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from inspecta.exchange.models import CallLog, Receipt
from inspecta.exchange.testing import agency_with_admin, approved_client, needs_concurrent_db, prepare, sign_prepared

pytestmark = pytest.mark.django_db(transaction=True)


@needs_concurrent_db
def test_sixteen_signed_clients_at_once(live_server):
    from inspecta.core.testing.factories import authority_tree

    tree = authority_tree()
    creds = []
    for index in range(16):
        _org, admin = agency_with_admin(name=f"检测机构{index}", username=f"agency{index}")
        creds.append(
            approved_client(
                applicant=admin,
                reviewer=tree["gz_admin"],
                algorithm="ed25519" if index % 2 else "hmac-sha256",
                name=f"LIMS-{index}",
            )
        )
    barrier = threading.Barrier(16)

    def run(index: int) -> list[tuple[int, dict]]:
        mine = creds[index]
        out = []
        with requests.Session() as session:
            barrier.wait()
            for call in range(5):
                body = json.dumps({"client": index, "call": call}).encode()
                prepared = prepare(
                    "POST",
                    f"/api/v1/exchange/ping?c={index}",
                    body,
                    base=live_server.url,
                    **{"Content-Type": "application/json"},
                )
                sign_prepared(prepared, mine)
                response = session.send(prepared, timeout=30)
                out.append((response.status_code, response.json()))
            batch = prepare(
                "POST",
                "/api/v1/exchange/test-batches",
                json.dumps({"records": [{"id": f"r{index}"}], "async": True}).encode(),
                base=live_server.url,
                **{"Content-Type": "application/json", "Idempotency-Key": "same-key-everywhere"},
            )
            sign_prepared(batch, mine)
            response = session.send(batch, timeout=30)
            out.append((response.status_code, response.json()))
        return out

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(run, range(16)))
    for index, calls in enumerate(results):
        for status, data in calls[:-1]:
            assert status == 200, data
            assert data["client_id"] == creds[index].client.pk
            assert data["key_id"] == creds[index].key_id
            assert data["echo"]["client"] == index
            assert data["query"] == {"c": str(index)}
        status, data = calls[-1]
        assert status == 202, data
    # The same Idempotency-Key used by 16 different clients is 16 different keys.
    assert Receipt.objects.count() == 16
    assert {r.client_id for r in Receipt.objects.all()} == {c.client.pk for c in creds}
    logged = CallLog.objects.filter(operation__contains="exchange/ping")
    assert logged.count() == 16 * 5
    assert set(logged.values_list("status", flat=True)) == {200}
