"""Browser tests: Debian's chromium driven by Playwright against a live server on 127.0.0.1.

* The browser is Debian's ``/usr/bin/chromium``; nothing is ever downloaded (no ``playwright
  install``). Missing chromium skips these tests on a developer's machine and FAILS them in CI.
* The site is pytest-django's ``live_server`` (a thread in this process, so the tests use
  ``transactional_db`` and read e-mail from Django's in-memory outbox).
* ``browsing.new_page(who)`` opens a page for one person (own cookies); ``page.shot(step)``
  screenshots every step into a per-test folder; when a test fails, the folder is copied to
  ``test-artifacts/<test name>/`` (git-ignored) with a final screenshot of every open page.
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
    """Numbered screenshots of a test's steps (any person's page), kept as files on failure."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def shot(self, page, name: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = self.folder / f"{len(self.taken) + 1:02d}-{safe}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@dataclass
class Browsing:
    """The people of one test, each in their own browser context (cookies) on the live server.

    ``browsing.new_page("learner")`` opens a page watched for CSP violations and script errors;
    ``page.shot("step")`` screenshots it into the test's numbered steps.
    """

    chromium: object
    base_url: str
    steps: Steps
    pages: dict[str, object] = field(default_factory=dict)
    problems: PageProblems = field(default_factory=PageProblems)
    contexts: list[object] = field(default_factory=list)

    def new_page(self, who: str):
        context = self.chromium.new_context(
            base_url=self.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        self.problems.watch(page)
        page.problems = self.problems
        page.shot = lambda name: self.steps.shot(page, f"{who}-{name}")
        self.pages[who] = page
        return page

    def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                context.close()


@pytest.fixture
def browsing(chromium, live_server, request, tmp_path):
    """Browser contexts for a test; on failure every open page is screenshotted and the steps kept
    under test-artifacts/; otherwise any CSP violation or script error fails the test."""
    steps = Steps(folder=tmp_path / "screenshots")
    steps.folder.mkdir()
    browsing = Browsing(chromium=chromium, base_url=live_server.url, steps=steps)
    yield browsing
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))
    if failed:
        _keep_screenshots(browsing, request.node.nodeid)
    browsing.close()
    if not failed:
        problems = browsing.problems
        assert not problems.csp, "Content-Security-Policy violations:\n" + "\n".join(problems.csp)
        assert not problems.errors, "JavaScript errors:\n" + "\n".join(problems.errors)


@pytest.fixture
def page(browsing):
    """One anonymous visitor's page."""
    return browsing.new_page("visitor")


def _keep_screenshots(browsing: Browsing, nodeid: str) -> None:
    target = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)
    shutil.rmtree(target, ignore_errors=True)
    for who, page in browsing.pages.items():
        with contextlib.suppress(Exception):  # the page may be gone; keep what was taken
            browsing.steps.shot(page, f"{who}-at-failure")
    shutil.copytree(browsing.steps.folder, target)
    problems = browsing.problems.csp + browsing.problems.errors
    if problems:
        (target / "console.txt").write_text("\n".join(problems), encoding="utf-8")
    print(f"Screenshots of each step kept in {target.relative_to(ARTIFACTS.parent)}/")
