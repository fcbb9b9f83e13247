"""The commission pages (Nanchang 四(四)1) on a phone: the deliverer picks the project and
the agency, then the sealed samples not yet in a commission; the page offers the
confirmation only to whoever confirms next; the printable form's QR, read back by zbarimg
from a 300 dpi rendering, is the commission's address."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from django.test import Client

from inspecta.core.testing.access import login_verified
from inspecta.sampling.documents import commission_url
from inspecta.sampling.models import Commission

from .test_commissions import confirm, fill, sealed
from .test_labels import scan_pages

pytestmark = pytest.mark.django_db

needs_tools = pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="zbar-tools/poppler not installed"
)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    from inspecta.sampling.testing import sampling_scene

    s = sampling_scene(tree)
    return s | {"tree": tree, "samples": [sealed(s, 91), sealed(s, 92)]}


def _client(user: Any) -> Client:
    return login_verified(Client(), user)


def test_the_deliverer_fills_a_commission_on_the_page(scene: dict[str, Any]) -> None:
    http = _client(scene["sampler"])
    first = http.get("/sampling/commissions/new/")
    assert first.status_code == 200 and "下一步：选择样品" in first.content.decode()
    query = {"project": scene["project"].pk, "agency": scene["agency"].pk}
    step = http.get("/sampling/commissions/new/", query)
    page = step.content.decode()
    assert step.status_code == 200
    a = scene["samples"][0]
    assert page.count('data-testid="sample-choice"') == 2 and "提交委托单" in page
    made = http.post("/sampling/commissions/new/", query | {"samples": [a.pk], "notes": "加急"})
    commission = Commission.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/sampling/commissions/{commission.pk}/"
    # the sample taken is no longer offered; one taken by another commission is refused
    again = http.get("/sampling/commissions/new/", query).content.decode()
    assert again.count('data-testid="sample-choice"') == 1
    refused = http.post("/sampling/commissions/new/", query | {"samples": [a.pk]})
    assert refused.status_code == 400 and Commission.objects.count() == 1

    detail = http.get(f"/sampling/commissions/{commission.pk}/").content.decode()
    assert 'id="confirm-card"' in detail and f"/api/v1/sampling/commissions/{commission.pk}/challenge" in detail
    assert (
        'id="confirm-card"'
        not in _client(scene["witness"]).get(f"/sampling/commissions/{commission.pk}/").content.decode()
    )
    confirm(scene, commission, "sampler", 931)
    assert 'id="confirm-card"' not in http.get(f"/sampling/commissions/{commission.pk}/").content.decode()
    assert (
        'id="confirm-card"' in _client(scene["witness"]).get(f"/sampling/commissions/{commission.pk}/").content.decode()
    )
    listed = http.get("/sampling/commissions/").content.decode()
    assert commission.number in listed and 'href="/sampling/commissions/new/"' in listed
    # a receiver sees the list but is offered no filling, and may not fill
    receiver = _client(scene["receiver"])
    assert 'href="/sampling/commissions/new/"' not in receiver.get("/sampling/commissions/").content.decode()
    assert receiver.get("/sampling/commissions/new/").status_code == 403


def test_the_deliverer_picks_the_parameters_of_each_sample(scene: dict[str, Any]) -> None:
    from inspecta.core.models import TestItemParameter

    http = _client(scene["sampler"])
    query = {"project": scene["project"].pk, "agency": scene["agency"].pk}
    a, b = scene["samples"]
    links = list(TestItemParameter.objects.filter(test_item_id=a.test_item_id).select_related("parameter"))
    assert len(links) >= 2  # the catalog's parameters of the sample's item
    page = http.get("/sampling/commissions/new/", query).content.decode()
    assert page.count('data-testid="sample-parameters"') == 2
    assert all(link.parameter.name in page for link in links)
    # a code outside the item's parameters is not a choice: refused, nothing filled
    bad = http.post("/sampling/commissions/new/", query | {"samples": [a.pk], f"parameters_{a.pk}": ["NOPE"]})
    assert bad.status_code == 400 and not Commission.objects.exists()
    assert "所选的值不在可选范围内" in bad.content.decode().split('data-testid="sample-parameters"')[1]  # by the sample
    chosen = sorted(link.parameter_id for link in links[:2])
    made = http.post("/sampling/commissions/new/", query | {"samples": [a.pk, b.pk], f"parameters_{a.pk}": chosen})
    assert made.status_code == 302
    lines = {line.sample_id: line.parameters for line in Commission.objects.get().lines.all()}
    assert lines == {a.pk: chosen, b.pk: []}  # b: the test item as a whole


@needs_tools
def test_the_printed_form_carries_the_commission_qr(scene: dict[str, Any], tmp_path: Any) -> None:
    commission = fill(scene, scene["samples"])
    confirm(scene, commission, "sampler", 941)
    confirm(scene, commission, "witness", 942)
    response = _client(scene["receiver"]).get(f"/sampling/commissions/{commission.pk}/form.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert scan_pages(response.content, tmp_path) == [commission_url(commission)]
