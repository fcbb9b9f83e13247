"""Shared set-up for benchmarks: a throw-away database (SQLite file by default, or
``DATABASE_URL``), migrated and seeded with the reference data."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any


def setup_django() -> None:
    os.environ.setdefault("INSPECTA_VAR_DIR", tempfile.mkdtemp(prefix="inspecta-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspecta.settings.base")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the database cache, when no REDIS_URL names one
    from inspecta.core import services

    services.regions_load()
    services.catalog_load()


def per_second(fn: Callable[[], Any], *, seconds: float = 2.0, min_runs: int = 20) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""

    fn()  # warm up
    runs = 0
    start = time.perf_counter()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and runs >= min_runs:
            return runs / elapsed


def emit(name: str, value: float, unit: str, baseline_name: str, baseline_value: float, **extra: Any) -> None:
    ratio = value / baseline_value if baseline_value else None
    print(
        json.dumps(
            {
                "name": name,
                "value": round(value, 3),
                "unit": unit,
                "baseline": {"name": baseline_name, "value": round(baseline_value, 3)},
                "ratio": round(ratio, 3) if ratio is not None else None,
                **extra,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
