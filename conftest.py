import threading

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread


class SerialisedWSGIServer(ThreadedWSGIServer):
    """The live server, answering one request at a time.

    On SQLite the test database lives in memory and the live server's threads share the
    test's one connection (pytest-django passes it as ``connections_override``); a browser
    that loads a thumbnail while an upload is saved would otherwise run two transactions on
    that connection at once ("cannot start a transaction within a transaction"). Keep-alive
    connections still get their own threads; only the application call is serialised. On
    PostgreSQL every thread has its own connection and nothing is serialised.
    """

    _lock = threading.Lock()

    def set_app(self, application):
        from django.db import connection

        if connection.vendor != "sqlite" or not connection.is_in_memory_db():
            return super().set_app(application)
        lock = self._lock

        def serialised(environ, start_response):
            with lock:
                return application(environ, start_response)

        return super().set_app(serialised)


LiveServerThread.server_class = SerialisedWSGIServer


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database holds the real reference data, as a node does after setup."""

    from inspecta.core import services

    with django_db_blocker.unblock():
        services.regions_load()
        services.catalog_load()


@pytest.fixture
def tree(db):
    """The standard province/city/district scenario (inspecta.core.testing.factories)."""

    from inspecta.core.testing.factories import authority_tree

    return authority_tree()
