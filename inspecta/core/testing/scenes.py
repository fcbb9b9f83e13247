"""Scenes built once per test module: inside a transaction that is rolled back when the
module ends, each test running in a savepoint inside it (the ``db`` fixture). Building
approved agencies and projects through the services costs seconds; a module whose tests
share one scene builds it once::

    @pytest.fixture(scope="module")
    def built(django_db_setup, django_db_blocker):
        with rolled_back(django_db_blocker):
            yield _build()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction


@contextmanager
def rolled_back(django_db_blocker: Any) -> Iterator[None]:
    """Database access for a module-scoped fixture, undone when it ends."""

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
