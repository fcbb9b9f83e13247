import pytest


@pytest.fixture
def tree(db):
    """The standard province/city/district scenario (inspecta.core.testing.factories)."""

    from inspecta.core.testing.factories import authority_tree

    return authority_tree()
