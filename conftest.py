import pytest


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
