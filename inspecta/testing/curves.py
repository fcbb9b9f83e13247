"""Curves of instrument data, stored compactly (the issue's "not one row per point"):
the values as little-endian float32 (``x`` then ``y`` when the sender gives both, else
``y`` at a fixed step ``dt`` from ``x0``), zlib-compressed, with the SHA-256 of the
uncompressed values. Float32 keeps 7 significant digits: 0.01 kN of a 3,000 kN machine.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from inspecta.core.errors import AppError, ErrorCode

__all__ = ["ENCODING", "curve_pack", "curve_points", "curve_unpack"]

ENCODING = "f32le+zlib"


def _packed(values: Any, name: str) -> bytes:
    """``values`` as little-endian float32, refusing what is not a non-empty array of
    finite numbers within float32's range (``struct`` refuses the non-numbers and the
    out-of-range ones, the sum is not finite when one is infinite or NaN)."""

    if not isinstance(values, list) or not values:
        raise AppError(ErrorCode.INVALID_INPUT, _("曲线的 %(n)s 须是非空的数值数组。") % {"n": name})
    if len(values) > settings.INSPECTA_CURVE_MAX_POINTS:
        raise AppError(
            ErrorCode.INVALID_INPUT,
            _("曲线最多 %(m)d 个点。") % {"m": settings.INSPECTA_CURVE_MAX_POINTS},
            {"max": settings.INSPECTA_CURVE_MAX_POINTS},
        )
    try:
        if not math.isfinite(sum(values)):
            raise ValueError("not finite")
        return struct.pack(f"<{len(values)}f", *values)
    except (struct.error, OverflowError, TypeError, ValueError) as exc:
        raise AppError(ErrorCode.INVALID_INPUT, _("曲线的 %(n)s 含有不是有限数值的值。") % {"n": name}) from exc


def curve_pack(curve: dict[str, Any]) -> tuple[dict[str, Any], bytes, str]:
    """``(meta, data, sha256)`` of a curve given as ``{"y": [...], "x": [...]}`` or
    ``{"y": [...], "dt": 0.01, "x0": 0}``, with optional ``x_unit`` and ``y_unit``;
    ``AppError`` (``invalid_input``) for anything else."""

    y = _packed(curve.get("y"), "y")
    x = _packed(curve["x"], "x") if curve.get("x") is not None else None
    if x is not None and len(x) != len(y):
        raise AppError(ErrorCode.INVALID_INPUT, _("曲线的 x 与 y 点数不同。"))
    dt = curve.get("dt")
    if x is None and (isinstance(dt, bool) or not isinstance(dt, int | float) or not math.isfinite(dt) or dt <= 0):
        raise AppError(ErrorCode.INVALID_INPUT, _("曲线须给出 x 数组，或正的采样间隔 dt。"))
    raw = (x or b"") + y
    meta: dict[str, Any] = {
        "encoding": ENCODING,
        "count": len(y) // 4,
        "has_x": x is not None,
        "x_unit": str(curve.get("x_unit", ""))[:16],
        "y_unit": str(curve.get("y_unit", ""))[:16],
    }
    if x is None:
        meta["dt"] = float(dt)  # type: ignore[arg-type]
        meta["x0"] = float(curve.get("x0") or 0)
    return meta, zlib.compress(raw, 6), hashlib.sha256(raw).hexdigest()


def curve_unpack(meta: dict[str, Any], data: bytes | memoryview) -> tuple[list[float], list[float]]:
    """The ``(x, y)`` values of a stored curve."""

    count = int(meta["count"])
    values = struct.unpack(f"<{count * (2 if meta.get('has_x') else 1)}f", zlib.decompress(bytes(data)))
    if meta.get("has_x"):
        return list(values[:count]), list(values[count:])
    x0, dt = float(meta.get("x0", 0)), float(meta["dt"])
    return [x0 + i * dt for i in range(count)], list(values)


def curve_points(meta: dict[str, Any], data: bytes | memoryview, limit: int = 1000) -> list[list[float]]:
    """At most about ``limit`` ``[x, y]`` points to draw: each bucket's first point and
    its extremes, so a peak is never lost to the thinning."""

    x, y = curve_unpack(meta, data)
    if len(y) <= limit:
        return [[round(a, 6), round(b, 6)] for a, b in zip(x, y, strict=True)]
    step = math.ceil(len(y) / (limit / 3))
    points: list[list[float]] = []
    for start in range(0, len(y), step):
        idx = range(start, min(start + step, len(y)))
        keep = sorted({start, max(idx, key=y.__getitem__), min(idx, key=y.__getitem__)})
        points += [[round(x[i], 6), round(y[i], 6)] for i in keep]
    return points
