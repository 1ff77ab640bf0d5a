"""The optional equality-monitoring questions in chromium: from the dashboard's prompt to the
learner's own answers and withdrawing them, each page checked by axe-core and on a phone."""

import pytest

from reports.models import EqualityMonitoringAnswers
from tests.browser.support import assert_accessible
from tests.browser.test_pages import PHONE, signed_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_answer_see_and_withdraw(browsing, live_server, learner, enrolment):
    page = signed_in(browsing, "learner", learner, live_server)
    visit(page, "/", "dashboard-equality-prompt")
    page.get_by_role("link", name="Answer the questions").click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Optional questions about you"
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("25 to 34").check()
    page.get_by_label("Your ethnic group").select_option("black_caribbean")
    page.get_by_label("The first part of your postcode").fill("e8 1ab")
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_load_state("load")
    assert "Tick the box to agree" in page.content()  # consent is never assumed
    assert_accessible(page)
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Your answers to the optional questions"
    assert "Caribbean" in page.content() and "E8" in page.content()
    page.shot("equality-answers")
    assert_accessible(page)
    page.get_by_role("button", name="Delete my answers").click()
    page.wait_for_load_state("load")
    assert "withdrew your consent" in page.content()
    assert not EqualityMonitoringAnswers.objects.exists()
