"""Browser tests: Debian's chromium driven by Playwright against a live server on 127.0.0.1.

* The browser is Debian's ``/usr/bin/chromium``; nothing is ever downloaded (no ``playwright
  install``). Missing chromium skips these tests on a developer's machine and FAILS them in CI.
* The site is pytest-django's ``live_server`` (a thread in this process, so the tests use
  ``transactional_db`` and read e-mail from Django's in-memory outbox).
* ``steps.shot(name)`` screenshots every step into a per-test folder; when a test fails, the
  folder is copied to ``test-artifacts/<test name>/`` (git-ignored) with a final screenshot.
* Every page is watched for Content-Security-Policy violations and uncaught JavaScript errors:
  any one fails the test.
* ``assert_accessible(page)`` runs axe-core (bundled with axe-playwright-python, not downloaded)
  and fails on serious or critical violations.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

# The live server listens on 127.0.0.1 only (pytest-django's default would be "localhost").
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# --- Reports: remember each phase's outcome on the test item, for the screenshot fixture --------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- Browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium(django_db_setup):
    """One headless chromium per test module.

    Playwright's sync API keeps an asyncio loop running in this thread while it is started, and
    Django's ORM (used by the tests themselves to prepare and check data) refuses to run beside a
    loop unless told it is safe; the flag is set only while chromium is up.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)."
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as manager:
            browser = manager.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@dataclass
class PageProblems:
    """CSP violations and uncaught errors a page reported while the test ran."""

    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp.append(f"{message.location.get('url', '')}: {text}")
        elif message.type == "error":
            url = message.location.get("url", "")
            if not url.endswith("/favicon.ico"):  # the browser asks for one on its own
                self.errors.append(f"{url}: {text}")


@dataclass
class Steps:
    """Numbered screenshots of a test's steps, kept as files when the test fails."""

    page: object
    folder: Path
    taken: list[Path] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = self.folder / f"{len(self.taken) + 1:02d}-{safe}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def browser_context(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context, request, tmp_path):
    """A fresh page on the live server, watched for CSP violations and script errors."""
    page = browser_context.new_page()
    problems = PageProblems()
    problems.watch(page)
    page.problems = problems
    page.steps = Steps(page=page, folder=tmp_path / "screenshots")
    page.steps.folder.mkdir()
    yield page
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))
    if failed:
        _keep_screenshots(page, request.node.nodeid)
    page.close()
    if not failed:
        assert not problems.csp, "Content-Security-Policy violations:\n" + "\n".join(problems.csp)
        assert not problems.errors, "JavaScript errors:\n" + "\n".join(problems.errors)


@pytest.fixture
def steps(page):
    return page.steps


def _keep_screenshots(page, nodeid: str) -> None:
    target = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)
    shutil.rmtree(target, ignore_errors=True)
    with contextlib.suppress(Exception):  # the page may be gone; keep what was taken
        page.steps.shot("at-failure")
    shutil.copytree(page.steps.folder, target)
    problems = page.problems.csp + page.problems.errors
    if problems:
        (target / "console.txt").write_text("\n".join(problems), encoding="utf-8")
