"""Helpers for browser tests: accessibility, CSP, signing in."""

from __future__ import annotations

import re

import pytest

BLOCKING_IMPACTS = {"serious", "critical"}


def assert_accessible(page, *, context: str | None = None) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe-core on {page.url}: {len(blocking)} serious/critical violation(s)"]
        for violation in blocking:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"][:5]:
                lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
        pytest.fail("\n".join(lines), pytrace=False)


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
    page.locator("form").filter(has=page.get_by_label(re.compile(r"password", re.I))).locator(
        "button[type=submit], input[type=submit]"
    ).first.click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.context.clear_cookies()
