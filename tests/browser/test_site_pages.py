"""The site's own pages in chromium (issue 16, items 6 to 8) at 1280 px and 375 px, and by
keyboard alone: the public home page and accessibility statement, the error pages (404, 403 for a
viewer, 500, the CSRF refusal), a form with errors showing its summary (axe with the errors shown),
the learner's pages and the data export. axe-core finds no serious or critical violation on any
of them; the navigation bar's focus indicator reaches 3:1 (it was 1.7:1)."""

import re

import pytest
from django.test import Client
from django.urls import path

from academy.urls import urlpatterns as site_urlpatterns
from programmes.services import achievement_record
from tests.browser.support import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


def _fails(request):
    raise RuntimeError("a secret detail")


# The live server serves the site plus one page that fails, to show the 500 page.
urlpatterns = [path("test-errors/500/", _fails), *site_urlpatterns]
handler403 = "academy.views.permission_denied"


def signed_in(browsing, who, user, live_server):
    client = Client()
    client.force_login(user)
    page = browsing.new_page(who)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    return page


def check(page, name: str, *, width: str) -> None:
    page.set_viewport_size(WIDTHS[width])
    page.shot(f"{name}-{width}")
    assert page.locator("h1").count() == 1, f"{page.url} should have one main heading"
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"], "sideways scrolling"
    assert_accessible(page)


def expect_status(page, url: str, status: int) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, f"{url}: {response and response.status}"
    page.wait_for_load_state("load")
    # The browser logs the page's own error status in the console: expected here, not a script error.
    page.problems.errors[:] = [e for e in page.problems.errors if f"status of {status}" not in e]


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {tag: e.tagName, id: e.id, text: (e.innerText || '').trim().slice(0, 80), href: e.getAttribute('href'),
          outline: s.outlineColor, outlineStyle: s.outlineStyle, summary: e.hasAttribute('data-error-summary'),
          nav: !!e.closest('.academy-nav'),
          navBg: e.closest('.academy-nav') ? getComputedStyle(e.closest('.academy-nav')).backgroundColor : null}; }"""


@pytest.fixture
def part_way(enrolment, framework, facilitator):
    framework["core"][0].description = "Doing research in a way that respects the people who take part."
    framework["core"][0].save()
    for number, competency in enumerate(framework["competencies"][:3]):
        achievement_record(
            enrolment=enrolment,
            competency=competency,
            recorded_by=facilitator,
            evidence="Explained consent in a role play." if number == 0 else "",
        )
    return enrolment


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_home_and_accessibility_statement(page, cohort, width):
    expect_status(page, "/", 200)
    assert page.get_by_role("heading", name="Programmes open now").is_visible()
    assert page.get_by_text("Hackney spring cohort").is_visible()
    check(page, "home", width=width)
    page.get_by_role("link", name="Accessibility statement").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/accessibility/")
    check(page, "accessibility", width=width)


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_error_pages(browsing, live_server, settings, viewer, coordinator, other_coordinator, cohort, width):
    settings.ROOT_URLCONF = __name__
    visitor = browsing.new_page("visitor")
    expect_status(visitor, "/no-such-page/", 404)
    assert visitor.get_by_role("heading", name="Page not found").is_visible()
    check(visitor, "404", width=width)
    expect_status(visitor, "/test-errors/500/", 500)
    assert visitor.get_by_role("heading", name="Sorry, something went wrong").is_visible()
    assert "a secret detail" not in visitor.content()
    check(visitor, "500", width=width)

    stranger = signed_in(browsing, "other-coordinator", other_coordinator, live_server)
    expect_status(stranger, f"/partners/cohorts/{cohort.pk}/", 404)
    assert cohort.name not in stranger.content()
    check(stranger, "404-other-organisation", width=width)

    # A viewer on a coordinator-only page of their own organisation: they can look but not change.
    looker = signed_in(browsing, "viewer", viewer, live_server)
    expect_status(looker, f"/partners/cohorts/{cohort.pk}/edit/", 403)
    assert looker.get_by_role("heading", name="You can look but not change").is_visible()
    assert looker.get_by_role("link", name="Go back to what you can see").is_visible()
    check(looker, "403-viewer", width=width)

    # A refused form (the CSRF cookie is gone): the site's own page, nothing changed.
    learner_page = signed_in(browsing, "coordinator", coordinator, live_server)
    expect_status(learner_page, "/my/profile/", 200)
    learner_page.context.clear_cookies(name="csrftoken")
    learner_page.get_by_label(re.compile("Your name as it should appear")).fill("Someone Else")
    with learner_page.expect_navigation():
        learner_page.get_by_role("button", name="Save my name").click()
    learner_page.problems.errors[:] = [e for e in learner_page.problems.errors if "status of 403" not in e]
    assert learner_page.get_by_role("heading", name="Your form could not be sent").is_visible()
    check(learner_page, "csrf", width=width)
    coordinator.refresh_from_db()
    assert coordinator.full_name != "Someone Else"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_form_with_errors_shows_the_summary_by_keyboard(browsing, live_server, learner, enrolment, width):
    page = signed_in(browsing, "learner", learner, live_server)
    page.set_viewport_size(WIDTHS[width])
    expect_status(page, "/my/profile/", 200)
    field = page.get_by_label(re.compile("Your name as it should appear"))
    field.fill("   ")
    with page.expect_navigation():
        field.press("Enter")
    page.wait_for_load_state("load")
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    assert summary.is_visible()
    assert page.evaluate(FOCUSED)["summary"], "the error summary takes the focus"
    check(page, "profile-errors", width=width)  # axe with the errors shown
    page.keyboard.press("Tab")
    link = page.evaluate(FOCUSED)
    assert link["href"] == "#id_full_name", link
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["id"] == "id_full_name", "the summary's link moves the focus to the field"


def test_keyboard_navigation_focus_contrast_and_current_page(browsing, live_server, learner, enrolment):
    page = signed_in(browsing, "learner", learner, live_server)
    expect_status(page, "/my/profile/", 200)
    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUSED)
    assert skip["text"] == "Skip to main content"
    seen_nav = []
    for _ in range(12):
        page.keyboard.press("Tab")
        now = page.evaluate(FOCUSED)
        if not now["nav"]:
            continue
        seen_nav.append(now)
        assert now["outlineStyle"] != "none", now
        ratio = contrast(now["outline"], now["navBg"])
        assert ratio >= 3, f"focus on the navigation bar is {ratio:.2f}:1 ({now})"
    assert any(item["text"] == "My profile" for item in seen_nav)
    current = page.locator('.academy-nav a[aria-current="page"]')
    assert current.count() == 1 and current.inner_text() == "My profile"
    # On the page's light background the focus is as clear.
    page.get_by_role("link", name="Change your password").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    now = page.evaluate(FOCUSED)
    assert contrast(now["outline"], "rgb(255, 255, 255)") >= 3


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_learner_pages_and_export(browsing, live_server, learner, part_way, width):
    page = signed_in(browsing, "learner", learner, live_server)
    expect_status(page, "/", 200)
    assert page.locator('.academy-nav a[aria-current="page"]').inner_text() == "My progress"
    check(page, "dashboard", width=width)
    expect_status(page, f"/my/enrolments/{part_way.pk}/", 200)
    assert page.get_by_role("heading", name="What to do next").is_visible()
    assert page.get_by_text("Explained consent in a role play.").is_visible()
    assert page.get_by_text("Doing research in a way that respects the people who take part.").is_visible()
    check(page, "enrolment", width=width)
    expect_status(page, "/my/profile/", 200)
    check(page, "profile", width=width)
    for name, suffix, start in [("PDF file", ".pdf", b"%PDF-"), ("CSV file", ".csv", "\ufeffSection".encode())]:
        link = page.get_by_role("link", name=re.compile(name))
        link.focus()
        with page.expect_download() as download_info:
            page.keyboard.press("Enter")
        download = download_info.value
        assert download.suggested_filename.endswith(suffix)
        with open(download.path(), "rb") as handle:
            assert handle.read(len(start)) == start


def test_sign_in_errors_show_the_summary(page, learner):
    """An allauth form (sign in) with errors: the summary at its top, focused, axe with errors shown."""
    expect_status(page, "/accounts/login/", 200)
    page.get_by_label(re.compile(r"e-?mail", re.I)).first.fill("learner@example.org")
    password = page.get_by_label(re.compile("password", re.I)).first
    password.fill("not the password")
    with page.expect_navigation():
        password.press("Enter")
    page.wait_for_load_state("load")
    assert page.get_by_role("alert").filter(has_text="There is a problem").is_visible()
    assert page.evaluate(FOCUSED)["summary"]
    check(page, "sign-in-errors", width="desktop")
    check(page, "sign-in-errors", width="phone")
