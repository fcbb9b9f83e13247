"""Ledger scenario builders for tests and benchmarks of any app: records appended through
the real ``log_append``, a bulk loader for large trees, and the Go checker runner."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from inspecta.ledger import merkle, services
from inspecta.ledger.models import Entry


def b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


def unb64(value: str) -> bytes:
    return base64.b64decode(value)


def append(n: int, *, kind: str = "test_record", start: int = 0) -> list[Entry]:
    """Append ``n`` plain records (mapping form), each in its own transaction."""
    out = []
    for i in range(start, start + n):
        with transaction.atomic():
            out.append(services.log_append(kind=kind, record={"type": "test.thing", "id": i, "n": i}))
    return out


def bulk_entries(n: int, *, start: int = 0) -> list[bytes]:
    """Insert ``n`` pending entries directly (executemany), as fast as the store allows;
    return their leaf hashes. For large-tree tests that must not go through HTTP."""
    now = timezone.now()
    leaves, rows = [], []
    for i in range(start, start + n):
        raw = b'{"id":"%d","kind":"bulk"}' % i
        leaf = merkle.leaf_hash(raw)
        leaves.append(leaf)
        rows.append(("bulk", "test.bulk", str(i), raw, leaf, now))
    table = connection.ops.quote_name(Entry._meta.db_table)
    with connection.cursor() as cursor:
        for k in range(0, len(rows), 500):
            chunk = rows[k : k + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (kind, record_type, record_id, entry, leaf_hash, created_at) VALUES {values}",  # noqa: S608
                [v for row in chunk for v in row],
            )
    return leaves


def get_json(client: Client, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.content)
    data: dict[str, Any] = response.json()
    return data


def go_check(binary: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Feed one JSON request to the built Go checker (``gocheck`` fixture) and read its answer."""

    result = subprocess.run(  # noqa: S603 - the checker binary the gocheck fixture just built
        [str(binary)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    response: dict[str, Any] = json.loads(result.stdout)
    return response
