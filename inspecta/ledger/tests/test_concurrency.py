"""16 concurrent appenders and a running sequencer: no gaps, the root recomputes."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from inspecta.ledger import audit, merkle, services, store
from inspecta.ledger.models import Entry

APPENDERS = 16
PER_APPENDER = 25


@pytest.mark.django_db(transaction=True)
def test_concurrent_appenders_leave_no_gaps():
    if connection.vendor == "sqlite":
        pytest.skip(
            "the SQLite test database is in memory and per connection, so threads cannot share it; "
            "SQLite serialises writers anyway (run the suite with DATABASE_URL=postgres://... for this test)"
        )
    errors: list[BaseException] = []
    start = threading.Barrier(APPENDERS + 1)
    done = threading.Event()

    def appender(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_APPENDER):
                with transaction.atomic():
                    services.log_append(kind="test_record", record={"type": "test.thing", "id": f"{n}-{i}", "n": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def sequencer() -> None:
        try:
            start.wait()
            while not done.is_set():
                services.sequence_pending(batch_size=7)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(APPENDERS)]
    runner = threading.Thread(target=sequencer)
    for t in [*threads, runner]:
        t.start()
    for t in threads:
        t.join()
    done.set()
    runner.join()
    assert errors == []
    services.sequence_pending()

    total = APPENDERS * PER_APPENDER
    rows = list(Entry.objects.order_by("index").values_list("index", "leaf_hash"))
    assert [i for i, _ in rows] == list(range(total))
    assert store.tree_size() == total
    assert store.root(total) == merkle.root_from_leaves([bytes(h) for _, h in rows])
    services.checkpoint_publish()
    assert [p for p in audit.verify_log() if p.critical] == []
