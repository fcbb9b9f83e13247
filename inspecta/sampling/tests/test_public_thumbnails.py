"""Thumbnails of the key images on the public verification of a report (T/CECS 4.1.2
"调阅…关键影像资料", 4.3.4-2; CONTRACT §6): the specimen photos with their tags of each
sample in the chain, small, without EXIF or GPS, only for samples that a report in force
names; never the photos that show people (the placard photo, the live photos)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from inspecta.core.files import file_store
from inspecta.ledger.services import sequence_pending
from inspecta.reports import services as report_services
from inspecta.reports.testing import submission
from inspecta.sampling.choices import PhotoKind
from inspecta.sampling.models import Sample
from inspecta.sampling.public import thumbnail_url
from inspecta.sampling.testing import received_sample, sampling_scene

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def gps_photo(user: Any) -> Any:
    """A 1600×1200 JPEG carrying a GPS position and a camera model in its EXIF."""

    image = Image.new("RGB", (1600, 1200), (180, 40, 40))
    for x in range(0, 1600, 100):
        image.paste((20, 20 + x % 200, 200), (x, 0, x + 50, 1200))
    exif = Image.Exif()
    exif[0x0110] = "PhoneModel-X"
    exif[GPS_IFD] = {1: "N", 2: (23.0, 7.0, 48.0), 3: "E", 4: (113.0, 19.0, 48.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(GPS_IFD)
    return file_store(out.getvalue(), organisation_id=user.organisation_id, purpose="photo", name="g.jpg", actor=user)


def _received(scene: dict[str, Any], seed: int) -> Sample:
    return received_sample(scene, seed, specimen_photo=gps_photo(scene["sampler"]), receipt_photos=1)  # type: ignore[no-any-return]


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return sampling_scene(tree) | {"tree": tree}


def test_the_public_verification_shows_the_key_images_only(scene: dict[str, Any]) -> None:
    sample = _received(scene, 8)
    report = report_services.report_submit(
        actor=scene["agency_admin"],
        **submission(scene["agency"], scene["made"], scene["project"], number="R-THUMB-1", samples=[sample.code]),
    )
    sequence_pending()
    body = Client().get(f"/api/v1/public/reports/{report.verification_code}").json()
    step = next(s for s in body["chain"] if s["step"] == "witnessed_sampling")
    kinds = [t["kind"] for t in step["thumbnails"]]
    assert kinds == ["specimen"]  # the placard photo shows a person: never public
    people = sample.photos.filter(kind__in=[PhotoKind.LIVE, PhotoKind.RECEIPT, PhotoKind.PLACARD])
    assert people.filter(kind=PhotoKind.LIVE).count() == 3 and people.filter(kind=PhotoKind.RECEIPT).exists()
    listed = {t["url"] for t in step["thumbnails"]}
    assert not listed & {thumbnail_url(sample.code, p.pk) for p in people}

    for t in step["thumbnails"]:
        answer = Client().get(t["url"])
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
        small = Image.open(io.BytesIO(answer.content))
        assert max(small.size) <= 320
        assert not small.getexif() and "exif" not in small.info
    gps = Image.open(io.BytesIO(Client().get(step["thumbnails"][0]["url"]).content))
    assert gps.size == (320, 240) and not gps.getexif().get_ifd(GPS_IFD)

    # the live photos of the people and the receipt photos are never served
    for p in people:
        assert Client().get(thumbnail_url(sample.code, p.pk)).status_code == 404
    page = Client().get(f"/v/{report.verification_code}").content.decode()
    assert 'data-testid="key-images"' in page and step["thumbnails"][0]["url"] in page
    for p in people:
        assert thumbnail_url(sample.code, p.pk) not in page


def test_a_thumbnail_of_a_sample_on_no_report_is_not_served(scene: dict[str, Any]) -> None:
    sample = _received(scene, 9)
    specimen = sample.photos.get(kind=PhotoKind.SPECIMEN)
    answer = Client().get(thumbnail_url(sample.code, specimen.pk))
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    # nor a photo of a sample in force asked under another sample's code
    other = _received(scene, 10)
    report_services.report_submit(
        actor=scene["agency_admin"],
        **submission(scene["agency"], scene["made"], scene["project"], number="R-THUMB-2", samples=[other.code]),
    )
    assert Client().get(thumbnail_url(other.code, specimen.pk)).status_code == 404
    assert Client().get(thumbnail_url(other.code, other.photos.get(kind="specimen").pk)).status_code == 200
