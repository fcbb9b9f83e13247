"""The client list page renders through the shared list view and shows only the clients
in the viewer's scope (T/CECS 6.0.7)."""

from __future__ import annotations

from inspecta.core.testing.access import login_verified
from inspecta.exchange.testing import agency_with_admin, approved_client


def test_client_list_shows_own_clients_only(client, tree):
    _gz_org, gz_admin = agency_with_admin()
    _sz_org, sz_admin = agency_with_admin("440300", name="深圳检测中心", username="sz_agency_admin")
    approved_client(applicant=gz_admin, reviewer=tree["gz_admin"], name="广州LIMS")
    approved_client(applicant=sz_admin, reviewer=tree["sz_admin"], name="深圳LIMS")

    login_verified(client, gz_admin)
    page = client.get("/exchange/").content.decode()
    assert 'data-testid="clients"' in page
    assert "广州LIMS" in page and "深圳LIMS" not in page

    login_verified(client, tree["sz_admin"])
    page = client.get("/exchange/").content.decode()
    assert "深圳LIMS" in page and "广州LIMS" not in page
