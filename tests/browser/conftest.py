"""Browser fixtures: the real service in sandbox mode, and headless Debian Chromium driven by
Playwright (its bundled driver only: the browser is /usr/bin/chromium, never a download).

Without the browser the tests skip with the reason, except in CI (``CI=true``), where they fail:
`make test` installs Debian's ``chromium`` first (``.ci/ensure-chromium``). A failing test leaves
a full-page screenshot under ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox import RunningSandbox, sandbox_db_url, sandbox_service

__all__ = ["RunningSandbox", "sandbox_db_url", "sandbox_service"]  # fixtures for this package

CHROMIUM = os.environ.get("BRITIZEN_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # Fixtures read this in their teardown to decide whether to keep a screenshot.
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else None
    if found is None and "BRITIZEN_TEST_CHROMIUM" not in os.environ:
        found = shutil.which("chromium")
    if found is None:
        reason = (
            f"headless Chromium not found at {CHROMIUM}: run `make test` as root (it installs "
            "Debian's chromium package) or apt-get install chromium"
        )
        if _in_ci():
            pytest.fail(f"{reason} (CI=true: the browser tests must run)")
        pytest.skip(reason)
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a dev dependency, installed by make
        if _in_ci():
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip(f"playwright is not installed: {exc}")
    return found


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path,
            # Root in CI and containers: Chromium's own sandbox needs user namespaces.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A page that fails the test on any script error and is photographed if the test fails."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(10_000)
    new_page = await context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    pages = [new_page]
    context.on("page", lambda opened: pages.append(opened))
    yield new_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        await save_screenshots(request.node.name, pages)
    await context.close()
    assert not errors, f"script errors on the page: {errors}"


async def save_screenshots(test_name: str, pages: list[Any]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    for index, shot in enumerate(pages):
        if shot.is_closed():
            continue
        suffix = "" if index == 0 else f"-{index}"
        await shot.screenshot(path=str(ARTIFACTS / f"{stem}{suffix}.png"), full_page=True)
