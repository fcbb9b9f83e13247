import pytest

from inspecta.exchange.testing import agency_with_admin, approved_client


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Partial uploads in a temporary folder; rate-limit counters not shared between tests."""
    from django.core.cache import cache

    settings.INSPECTA_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    cache.clear()


@pytest.fixture
def agency(tree):
    org, admin = agency_with_admin()
    return {"org": org, "admin": admin}


@pytest.fixture
def hmac_creds(tree, agency):
    return approved_client(applicant=agency["admin"], reviewer=tree["gz_admin"])


@pytest.fixture
def ed_creds(tree, agency):
    return approved_client(
        applicant=agency["admin"], reviewer=tree["gz_supervisor"], algorithm="ed25519", name="LIMS-ed"
    )
