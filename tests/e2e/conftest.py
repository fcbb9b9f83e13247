"""Browser end-to-end fixtures: Playwright's sync API driving Debian's Chromium against
pytest-django's ``live_server`` (a StaticLiveServerTestCase-style server: /static/ is
served from the staticfiles finders, so Tabler, htmx and Alpine load as in production).

Playwright cannot download browsers here; we launch the system Chromium. Override the
path with ``INSPECTA_CHROMIUM``. Set ``INSPECTA_SCREENSHOTS=1`` to (re)write the README
screenshots under ``docs/screenshots/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio loop in the main thread; the test body's ORM
# calls would otherwise raise SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 15_000


# Module scope: Playwright's sync API keeps an event loop running in the main thread while
# the browser is open, which would break code under test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # generous: the live server shares the CPU with Chromium
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _context(browser: Any, live_server: Any, **options: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def context(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh desktop browser profile (no cookies) per test."""

    yield from _context(browser, live_server, viewport=DESKTOP)


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def phone_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """An iPhone-12-sized mobile page (390x844, touch, mobile viewport meta honoured)."""

    for context in _context(
        browser, live_server, viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    ):
        yield context.new_page()


@pytest.fixture
def e2e_tree(transactional_db: Any) -> dict[str, Any]:
    """The standard authority tree, committed so the live server's thread sees it.

    ``transactional_db`` flushes every table after each test, reference data included,
    so reload the (idempotent) reference data the root conftest loaded once per session.
    """

    from inspecta.core import services
    from inspecta.core.testing.factories import authority_tree

    services.regions_load()
    services.catalog_load()
    return authority_tree()


@pytest.fixture
def screenshot() -> Any:
    """``screenshot(page, "name")`` writes docs/screenshots/name.png when INSPECTA_SCREENSHOTS=1."""

    enabled = os.environ.get("INSPECTA_SCREENSHOTS") == "1"

    def take(page: Any, name: str, **options: Any) -> Path | None:
        if not enabled:
            return None
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), **options)
        return path

    return take
