"""Every HTML page beyond the journey, in chromium: axe-core finds no serious or critical violation,
the page breaks no Content-Security-Policy rule, and it works on a phone-sized screen too.

Each person is signed in by a session cookie (the sign-in form itself is covered by the smoke test
and the journey). A learner part way through a programme, with another one completed, so the
dashboard shows both states.
"""

import pytest
from django.test import Client

from programmes.services import achievement_record
from tests.browser.support import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def signed_in(browsing, who: str, user, live_server):
    client = Client()
    client.force_login(user)
    page = browsing.new_page(who)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    return page


def visit(page, path: str, name: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")
    page.shot(name)
    assert page.locator("h1").count() == 1, f"{path} should have one main heading"
    assert_accessible(page)


@pytest.fixture
def part_way(enrolment, framework, facilitator):
    for competency in framework["competencies"][:3]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)
    return enrolment


def test_learner_pages(browsing, live_server, learner, part_way):
    page = signed_in(browsing, "learner", learner, live_server)
    visit(page, "/", "dashboard")
    assert page.get_by_role("progressbar").count() >= 1
    visit(page, f"/my/enrolments/{part_way.pk}/", "enrolment")
    visit(page, "/my/profile/", "profile")
    page.set_viewport_size(PHONE)
    visit(page, "/", "dashboard-phone")
    # Nothing wider than the phone's screen: no sideways scrolling for learners.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_facilitator_grid(browsing, live_server, facilitator, cohort, part_way, other_learner):
    page = signed_in(browsing, "facilitator", facilitator, live_server)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid")
    page.set_viewport_size(PHONE)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid-phone")


def test_coordinator_pages(browsing, live_server, coordinator, cohort, part_way, other_learner):
    page = signed_in(browsing, "coordinator", coordinator, live_server)
    base = f"/partners/cohorts/{cohort.pk}"
    for path, name in [
        ("/partners/", "portal"),
        (f"/partners/organisations/{cohort.partner.slug}/cohorts/new/", "cohort-new"),
        (f"{base}/", "cohort"),
        (f"{base}/edit/", "cohort-edit"),
        (f"{base}/enrol/", "enrol-one"),
        (f"{base}/enrol/several/", "enrol-several"),
        (f"{base}/enrol/upload/", "enrol-upload"),
        (f"{base}/progress/", "progress"),
        (f"{base}/progress/{part_way.pk}/", "learner-progress"),
    ]:
        visit(page, path, name)


def test_staff_pages(browsing, live_server, staff_user, cohort, part_way):
    page = signed_in(browsing, "staff", staff_user, live_server)
    visit(page, "/staff/name-changes/", "name-changes")
    visit(page, f"/cohorts/{cohort.pk}/invite/", "cohort-invite")


def test_public_pages(page):
    for path, name in [
        ("/verify/", "verify-start"),
        ("/verify/file/", "file-check"),
        ("/welcome/new-link/", "new-invitation-link"),
        ("/welcome/MQ/not-a-valid-token/", "expired-invitation"),
        ("/accounts/password/reset/", "password-reset"),
        ("/accounts/login/code/", "sign-in-by-code"),
    ]:
        visit(page, path, name)
