"""Helpers for browser tests: accessibility, CSP, signing in."""

from __future__ import annotations

import re

import pytest

BLOCKING_IMPACTS = {"serious", "critical"}


# Violations known, reported and waiting for a fix by the owner of the page. Each entry is narrow:
# (page path pattern, axe rule, element selector pattern, why it is tolerated for now). A fix makes
# the entry unnecessary; it never hides anything else on the page.
KNOWN_VIOLATIONS: list[tuple[str, str, str, str]] = [
    # (path regex, axe rule, element regex, why). Empty: every page must pass as it is.
]


def _known(path: str, rule: str, target: str) -> bool:
    return any(
        re.search(path_re, path) and rule == known_rule and re.search(target_re, target)
        for path_re, known_rule, target_re, _why in KNOWN_VIOLATIONS
    )


def assert_accessible(page, *, context: str | None = None) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""
    from urllib.parse import urlsplit

    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    path = urlsplit(page.url).path
    lines = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        nodes = [
            node
            for node in violation["nodes"]
            if not _known(path, violation["id"], ", ".join(map(str, node["target"])))
        ]
        if not nodes:
            continue
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in nodes[:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    if lines:
        pytest.fail(f"axe-core on {page.url}: serious/critical violations\n" + "\n".join(lines), pytrace=False)


def assert_no_csp_violations(page) -> None:
    assert not page.problems.csp, "Content-Security-Policy violations:\n" + "\n".join(page.problems.csp)


def make_login_ready(user, password: str | None = None):
    """Give a test user a verified primary e-mail address (allauth requires one to sign in)."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def sign_in(page, email: str, password: str) -> None:
    """Sign in through the site's own form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label(re.compile(r"e-?mail", re.I)).first.fill(email)
    page.get_by_label(re.compile(r"password", re.I)).first.fill(password)
    form = page.locator("form").filter(has=page.get_by_label(re.compile(r"password", re.I)))
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()


def sign_out(page) -> None:
    page.context.clear_cookies()


PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def signed_in(browsing, who, user, live_server, viewport=DESKTOP):
    """A page of a new browser context, signed in as ``user`` through a session cookie."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    page = browsing.new_page(who)
    page.set_viewport_size(viewport)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def visit(page, path, name):
    """Open ``path``, expect a 200, take a screenshot and run axe on it."""
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.shot(name)
    assert_accessible(page)
