"""Perceptual hashes of photos (T/CECS 2.0.16, 4.3.4-2; Nanchang 四(二)): the same photo
re-compressed, resized or rotated by its EXIF tag hashes near itself, different scenes
far apart, and the four bands find every hash within distance 3."""

from __future__ import annotations

import io
import random

import imagehash
import pytest
from PIL import Image, ImageDraw, ImageFilter

from inspecta.core.imaging import (
    BAND_MATCH_DISTANCE,
    phash_bands,
    phash_distance,
    phash_int,
    photo_phash,
)

ORIENTATION = 0x0112


def scene(seed: int, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """A photo-like picture: a graded background and blurred shapes placed at random."""
    rnd = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        c = int(60 + 120 * y / height)
        draw.line([(0, y), (width, y)], fill=(c, c // 2, 200 - c // 2))
    for _ in range(25):
        x0, y0 = rnd.randint(0, width), rnd.randint(0, height)
        box = [x0, y0, x0 + rnd.randint(80, 500), y0 + rnd.randint(80, 500)]
        colour = tuple(rnd.randint(0, 255) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return image.filter(ImageFilter.GaussianBlur(2))


def encoded(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return scene(1)


def test_the_hash_is_the_16_hex_digit_phash(photo):
    data = encoded(photo, quality=92)
    value = photo_phash(data)
    assert value is not None and len(value) == 16 and int(value, 16) >= 0
    assert value == value.lower()
    # the reference computation on the same pixels (a PNG has no JPEG draft decoding)
    png = encoded(photo, "PNG")
    assert photo_phash(png) == str(imagehash.phash(Image.open(io.BytesIO(png))))


def test_recompressed_resized_and_converted_copies_are_near(photo):
    original = photo_phash(encoded(photo, quality=92))
    copies = {
        "quality 30": encoded(photo, quality=30),
        "quality 10": encoded(photo, quality=10),
        "half size": encoded(photo.resize((800, 600)), quality=80),
        "thumbnail": encoded(photo.resize((320, 240)), quality=60),
        "png": encoded(photo, "PNG"),
        "webp": encoded(photo, "WEBP", quality=50),
        "greyscale": encoded(photo.convert("L"), quality=85),
    }
    for name, data in copies.items():
        assert phash_distance(original, photo_phash(data)) <= 6, name


def test_different_scenes_are_far_apart(photo):
    original = photo_phash(encoded(photo))
    hashes = [photo_phash(encoded(scene(seed))) for seed in range(2, 8)]
    for value in hashes:
        assert phash_distance(original, value) >= 16
    assert len(set(hashes)) == len(hashes)


def test_the_exif_orientation_is_applied(photo):
    upright = photo_phash(encoded(photo, quality=92))
    # a phone stores the sensor's pixels turned and says so in the EXIF orientation
    turned = photo.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    tagged = encoded(turned, quality=92, exif=exif.tobytes())
    assert phash_distance(upright, photo_phash(tagged)) <= 2
    # without the tag the same pixels are a different picture: the tag is what matters
    assert phash_distance(upright, photo_phash(encoded(turned, quality=92))) >= 16


def test_unreadable_files_give_none(photo):
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
    truncated = encoded(photo, quality=92)[:2000]
    for data in (heic, b"", b"not an image at all", b"\xff\xd8\xff\xe0" + b"\x00" * 64, truncated):
        assert photo_phash(data) is None


def test_distance_int_and_bands():
    assert phash_distance("0000000000000000", "ffffffffffffffff") == 64
    assert phash_distance("b2192536b698dd59", "B2192536B698DD59") == 0
    assert phash_distance("b2192536b698dd59", "b2192536b698dd58") == 1
    assert phash_int("0000000000000001") == 1
    assert phash_int("7fffffffffffffff") == 2**63 - 1
    assert phash_int("8000000000000000") == -(2**63)
    assert phash_int("ffffffffffffffff") == -1
    for h in ("b2192536b698dd59", "ffffffffffffffff", "8000000000000000"):
        assert f"{phash_int(h) & (2**64 - 1):016x}" == h
    assert phash_bands("b2192536b698dd59") == (0xB219, 0x2536, 0xB698, 0xDD59)
    for bad in ("", "b2192536b698dd5", "b2192536b698dd5g", "0xb2192536b698dd"):
        with pytest.raises(ValueError):
            phash_distance(bad, "0000000000000000")
        with pytest.raises(ValueError):
            phash_bands(bad)


def test_hashes_within_three_bits_share_a_band():
    rnd = random.Random(7)
    for _ in range(2000):
        value = rnd.getrandbits(64)
        bits = rnd.sample(range(64), rnd.randint(0, BAND_MATCH_DISTANCE))
        other = value
        for bit in bits:
            other ^= 1 << bit
        a, b = f"{value:016x}", f"{other:016x}"
        assert phash_distance(a, b) == len(bits)
        assert any(x == y for x, y in zip(phash_bands(a), phash_bands(b), strict=True))
    # and the bound is tight: four bits, one in each band, share none
    a, b = "0000000000000000", "0001000100010001"
    assert phash_distance(a, b) == 4
    assert not any(x == y for x, y in zip(phash_bands(a), phash_bands(b), strict=True))
