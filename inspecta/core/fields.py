"""Field factories shared by apps, so that the same kind of value is stored alike everywhere."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def longitude_field(label: Any) -> models.DecimalField:
    """WGS-84 longitude in degrees, six decimals (about 0.1 m), optional."""

    return models.DecimalField(
        label,
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )


def latitude_field(label: Any) -> models.DecimalField:
    """WGS-84 latitude in degrees, six decimals, optional."""

    return models.DecimalField(
        label,
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
