"""T/CECS 6.0.3: 16 clients signing and calling at once get no errors and no cross-talk."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from inspecta.exchange.models import CallLog, Receipt
from inspecta.exchange.testing import agency_with_admin, approved_client, needs_concurrent_db, prepare, sign_prepared
from inspecta.reports.testing import reporting_scene

pytestmark = pytest.mark.django_db(transaction=True)


@needs_concurrent_db
def test_sixteen_signed_clients_at_once(live_server):
    from inspecta.core import services as core_services
    from inspecta.core.testing.factories import authority_tree

    core_services.regions_load()  # reference data a transactional test's flush removed
    core_services.catalog_load()
    tree = authority_tree()
    # the agencies' LIMS call ping; one agency (registered, so it may submit reports)
    # sends a batch from each of its own 16 clients
    reporting = reporting_scene(tree, 904)
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
    batchers = [
        approved_client(
            applicant=reporting["admin"],
            reviewer=tree["gz_admin"],
            algorithm="ed25519" if index % 2 else "hmac-sha256",
            scopes=["reports:submit"],
            name=f"LIMS-batch-{index}",
        )
        for index in range(16)
    ]
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
                "/api/v1/reports/batch",
                json.dumps({"reports": [{"report_number": f"r{index}"}], "async": True}).encode(),
                base=live_server.url,
                **{"Content-Type": "application/json", "Idempotency-Key": "same-key-everywhere"},
            )
            sign_prepared(batch, batchers[index])
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
    assert {r.client_id for r in Receipt.objects.all()} == {c.client.pk for c in batchers}
    logged = CallLog.objects.filter(operation__contains="exchange/ping")
    assert logged.count() == 16 * 5
    assert set(logged.values_list("status", flat=True)) == {200}
