"""Perceptual hashes of photos (T/CECS 2.0.16, 4.3.4-2; Nanchang 四(二)-(四)).

The electronic seal binds the image features of the specimens (T/CECS 2.0.16:
样品的唯一性标识、图像特征、结构特征); the key images of sampling, making, tagging and
sealing are kept (4.3.4-2), and every step of the concrete specimen tracking is proved
with photos (Nanchang 四(二)-(四)). A photo that is a near-duplicate of any earlier photo
is flagged: the same picture re-submitted, re-compressed or resized, stands in for a
new one.

The hash is the 64-bit DCT pHash of ``imagehash.phash`` (32×32 greyscale, top-left 8×8
of the DCT against its median), written as 16 hex digits. Re-compression and resizing
move it by a few bits, a different scene by about half of them. Near-duplicate search
uses the pigeonhole principle: split the hash in four 16-bit bands
(:func:`phash_bands`); two hashes within Hamming distance :data:`BAND_MATCH_DISTANCE`
(3) differ in at most three bands, so they share at least one, and an index on the
bands finds every candidate with exact lookups; :func:`phash_distance` then decides.
:func:`phash_int` gives the hash as a signed 64-bit integer for a ``bigint`` column.
"""

from __future__ import annotations

import io
import random
import re

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "BAND_MATCH_DISTANCE",
    "phash_bands",
    "phash_distance",
    "phash_int",
    "photo_phash",
    "photo_thumbnail",
    "picture_bytes",
]

BAND_MATCH_DISTANCE = 3
"""The largest Hamming distance at which two hashes are sure to share a band."""

_HEX16 = re.compile(r"[0-9a-fA-F]{16}")
_DRAFT_SIZE = (512, 512)


def photo_phash(data: bytes) -> str | None:
    """16 hex digits of the pHash of the image in ``data``, or ``None`` when Pillow
    cannot read it (HEIC without a plugin, a truncated or corrupt file, not an image).

    The EXIF orientation is applied first, so a photo and its rotated-by-tag copy hash
    alike. A JPEG is decoded at a reduced scale (``draft``, at least 512 px a side):
    the hash only looks at 32×32 pixels, and a 50-megapixel photo then costs a fraction
    of a full decode.
    """
    import imagehash

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", _DRAFT_SIZE)
            upright = ImageOps.exif_transpose(image)
            upright.load()
            return str(imagehash.phash(upright))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None


def _value(h: str) -> int:
    if not isinstance(h, str) or not _HEX16.fullmatch(h):
        raise ValueError(f"not a 16-hex-digit pHash: {h!r}")
    return int(h, 16)


def phash_distance(a: str, b: str) -> int:
    """Hamming distance of two pHashes (0 to 64)."""
    return (_value(a) ^ _value(b)).bit_count()


def phash_int(h: str) -> int:
    """The pHash as a signed 64-bit integer (two's complement), for a ``bigint``
    column; ``h`` is recovered with ``f"{value & (2**64 - 1):016x}"``."""
    value = _value(h)
    return value - (1 << 64) if value >= 1 << 63 else value


def phash_bands(h: str) -> tuple[int, int, int, int]:
    """The four 16-bit bands of the pHash, most significant first (each 0 to 65535).

    Two hashes within :data:`BAND_MATCH_DISTANCE` of each other have at least one equal
    band (the differing bits touch at most three bands): the index a near-duplicate
    search looks up."""
    value = _value(h)
    return (value >> 48 & 0xFFFF, value >> 32 & 0xFFFF, value >> 16 & 0xFFFF, value & 0xFFFF)


def photo_thumbnail(data: bytes, *, side: int = 320, quality: int = 75) -> bytes | None:
    """A small JPEG of the image in ``data`` (its longer side at most ``side`` pixels),
    upright by its EXIF orientation and carrying no metadata: no EXIF, so no GPS position,
    no device, no time (T/CECS 4.1.2: the key images shown to the public, nothing more).
    ``None`` when Pillow cannot read the image."""

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (side * 2, side * 2))
            upright = ImageOps.exif_transpose(image)
            upright.load()
            small = upright.convert("RGB")
            small.thumbnail((side, side))
            out = io.BytesIO()
            # a fresh RGB image written without ``exif=``/``icc_profile=``: nothing of the
            # original's metadata is copied
            Image.frombytes("RGB", small.size, small.tobytes()).save(out, "JPEG", quality=quality, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None


def picture_bytes(seed: int, *, size: int = 256, fmt: str = "PNG", quality: int = 90) -> bytes:
    """A picture of coloured blocks, different for each ``seed`` (and its perceptual hash
    too); the same seed re-encoded (another format or quality) is the same picture. The
    demo's photos (and the tests') are such pictures."""

    from PIL import ImageDraw

    rnd = random.Random(seed)  # noqa: S311 (a test picture, not a secret)
    img = Image.new("RGB", (size, size), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(24):
        x, y = rnd.randrange(size), rnd.randrange(size)
        w, h = rnd.randrange(16, size // 2), rnd.randrange(16, size // 2)
        draw.rectangle([x, y, x + w, y + h], fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()
