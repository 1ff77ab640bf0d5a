"""The front door in a real browser: the pages anyone reaches first load, pass axe, break no CSP."""

import pytest

from tests.browser.support import assert_accessible, assert_no_csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("path", "heading", "styled"),
    [
        ("/", "Citizen Science Academy", True),
        ("/accounts/login/", "Sign in", True),
        ("/admin/login/", "Citizen Science Academy", False),
    ],
    ids=["home", "sign-in", "admin-sign-in"],
)
def test_public_page_loads_accessibly_under_csp(page, path, heading, styled):
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")
    page.shot(path)
    assert "Content-Security-Policy" in response.headers or "content-security-policy" in response.headers
    if styled:
        # The site's stylesheets loaded: Bootstrap's reboot sets the body's margin to 0 (default 8px).
        assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"
        assert page.locator("h1").count() == 1
    assert heading in page.content()
    assert_accessible(page)
    assert_no_csp_violations(page)


def test_the_watchers_catch_csp_violations_and_inaccessible_pages(page, live_server):
    """The checks above would fail: an inline script under the site's CSP, and an unlabelled field."""
    bad = (
        '<!doctype html><html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1>'
        "<script>document.title = 'ran';</script>"
        '<form><input type="text" name="nameless"></form></main></body></html>'
    )

    def fulfil(route):
        route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'"},
            body=bad,
        )

    page.route("**/bad-page/", fulfil)
    page.goto(f"{live_server.url}/bad-page/")
    page.wait_for_load_state("load")
    assert page.title() == "Bad", "the inline script ran despite the CSP"
    page.wait_for_timeout(200)
    assert any("Content Security Policy" in message for message in page.problems.csp)
    with pytest.raises(pytest.fail.Exception, match="label"):
        assert_accessible(page)
    page.problems.csp.clear()  # expected here; the fixture fails any test that leaves some
