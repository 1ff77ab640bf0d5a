"""The partner's cohort page at scale, and withdrawing that asks first and can be undone, in
chromium at 1280 px and 375 px and by keyboard alone: axe-core on every page and state (the
confirmation open, the refusal shown), no CSP violation, screenshots of each step kept on failure.
"""

import re

import pytest

from academy.models import Invitation
from academy.tests.factories import UserFactory
from programmes.models import Enrolment
from programmes.tests.factories import EnrolmentFactory
from tests.browser.support import DESKTOP, PHONE, assert_accessible, signed_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Zoë Ó'Brien-Łukasz"


def row(page, name):
    return page.locator("tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


def fully_on_screen(page, locator):
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{box} off a {width} px screen"


def tab_to(page, pattern, limit=80):
    """Press Tab until the focused element's accessible text matches ``pattern``."""
    regex = re.compile(pattern, re.S)
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate("() => (document.activeElement.innerText || document.activeElement.value || '').trim()")
        if regex.search(text):
            return text
    pytest.fail(f"no focusable element matching {pattern!r} within {limit} Tabs")


def confirmation_is_announced(page, heading):
    """The question is the page's heading and has the focus (announced by screen readers)."""
    h1 = page.locator("h1#confirm-heading")
    assert re.search(heading, h1.inner_text()), h1.inner_text()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'confirm-heading'")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_withdraw_asks_first_and_reinstate_undoes_it(browsing, live_server, coordinator, cohort, enrolment, viewport):
    page = signed_in(browsing, "coordinator", coordinator, live_server, viewport)
    visit(page, f"/partners/cohorts/{cohort.pk}/", "cohort")
    learner_row = row(page, NAME)
    withdraw = learner_row.get_by_role("link", name=re.compile(r"^Withdraw"))
    fully_on_screen(page, withdraw)
    fully_on_screen(page, learner_row.locator("[data-label=Status]"))
    withdraw.click()
    page.wait_for_url(re.compile(r"/withdraw/$"))
    confirmation_is_announced(page, rf"Withdraw {NAME} from “{cohort.name}”\?")
    page.shot("confirm-withdraw")
    assert_accessible(page)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE  # asking changed nothing
    page.get_by_role("button", name=re.compile(r"^Yes, withdraw")).click()
    page.wait_for_url(re.compile(rf"/cohorts/{cohort.pk}/$"))
    assert "has been withdrawn from the cohort" in page.locator("main").inner_text()
    assert "Withdrawn" in row(page, NAME).locator("[data-label=Status]").inner_text()
    page.shot("withdrawn")
    assert_accessible(page)
    reinstate = row(page, NAME).get_by_role("button", name=re.compile(r"^Reinstate"))
    fully_on_screen(page, reinstate)
    reinstate.click()
    page.wait_for_load_state("load")
    assert f"{NAME} is back in the cohort (taking part)." in page.locator("main").inner_text()
    assert row(page, NAME).locator("[data-label=Status]").inner_text().startswith("Taking part")
    page.shot("reinstated")
    assert_accessible(page)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    # The history is on the learner's page, with who did what.
    visit(page, f"/partners/cohorts/{cohort.pk}/progress/{enrolment.pk}/", "history")
    history = page.locator("section[aria-labelledby=history-heading]").inner_text()
    assert "Reinstated by Cora Coordinator" in history and "Withdrawn by Cora Coordinator" in history


def test_withdraw_and_reinstate_by_keyboard_alone(browsing, live_server, coordinator, cohort, enrolment):
    page = signed_in(browsing, "coordinator", coordinator, live_server, DESKTOP)
    visit(page, f"/partners/cohorts/{cohort.pk}/", "cohort")
    tab_to(page, r"^Withdraw\s+Zoë")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/withdraw/$"))
    confirmation_is_announced(page, r"^Withdraw ")
    page.shot("confirm")
    tab_to(page, r"^Yes, withdraw")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/cohorts/{cohort.pk}/$"))
    page.shot("withdrawn")
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN
    tab_to(page, r"^Reinstate")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    page.shot("reinstated")
    assert "is back in the cohort" in page.locator("main").inner_text()
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_the_partner_list_on_a_phone(browsing, live_server, coordinator, cohort, enrolment, framework):
    cohort.capacity = 80
    cohort.save()
    for i in range(55):
        EnrolmentFactory(
            cohort=cohort,
            learner=UserFactory(email=f"learner{i:02}@example.org", full_name=f"Learner {i:02}", password=None),
            status=Enrolment.Status.INVITED,
        )
    page = signed_in(browsing, "coordinator", coordinator, live_server, PHONE)
    visit(page, f"/partners/cohorts/{cohort.pk}/", "list")
    # Cards: no header row to scroll sideways to; each learner's status and actions on screen.
    assert page.locator("table.portal-cards thead").evaluate("e => getComputedStyle(e).position") == "absolute"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    first = page.locator("tbody tr").first
    fully_on_screen(page, first.locator("[data-label=Status]"))
    fully_on_screen(page, first.locator("[data-label=Actions]"))
    assert re.search(r"\d+ of 6", first.locator("[data-label=Progress]").inner_text())
    assert "56 learners. Page 1 of 2." in page.locator("main").inner_text()
    # Search.
    page.get_by_label("Name or email address").fill("learner07@")
    page.get_by_role("button", name="Show learners").click()
    page.wait_for_url(re.compile(r"q=learner07"))
    assert page.locator("tbody tr").count() == 1 and "Learner 07" in page.locator("tbody").inner_text()
    page.shot("searched")
    assert_accessible(page)
    # Filter, then the next page keeps the filter.
    page.get_by_label("Name or email address").fill("")
    page.get_by_label("Status").select_option("invited")
    page.get_by_role("button", name="Show learners").click()
    page.wait_for_url(re.compile(r"status=invited"))
    assert "55 learners match. Page 1 of 2." in page.locator("main").inner_text()
    page.get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r"status=invited.*page=2"))
    assert page.locator("tbody tr").count() == 5 and NAME not in page.locator("tbody").inner_text()
    page.shot("filtered-page-2")
    assert_accessible(page)
    # Bulk re-send, with a confirmation first.
    page.get_by_role("link", name=re.compile(r"Re-send every pending invitation \(55\)")).click()
    confirmation_is_announced(page, r"Re-send the invitation to 55 learners\?")
    page.shot("confirm-resend")
    assert_accessible(page)
    assert not Invitation.objects.filter(invited_by=coordinator).exists()
    page.get_by_role("button", name="Yes, re-send 55 invitations").click()
    page.wait_for_url(re.compile(rf"/cohorts/{cohort.pk}/$"))
    assert "New invitations are on their way to 55 learners." in page.locator("main").inner_text()
    # Browser tests run no worker: the 55 fresh invitations are recorded, waiting to be sent.
    fresh = Invitation.objects.filter(status=Invitation.Status.PENDING, invited_by=coordinator)
    assert fresh.values("user").distinct().count() == 55
    # Withdraw several: tick two, confirm on a page that lists them.
    page.get_by_label("Choose Learner 00").check()
    page.get_by_label("Choose Learner 01").check()
    page.get_by_role("button", name="Withdraw the chosen learners…").click()
    confirmation_is_announced(page, r"Withdraw 2 learners from")
    listed = page.locator("main ul").last.inner_text()
    assert "Learner 00" in listed and "Learner 01" in listed and "Learner 02" not in listed
    page.shot("confirm-bulk-withdraw")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, withdraw 2 learners").click()
    page.wait_for_url(re.compile(rf"/cohorts/{cohort.pk}/$"))
    assert "2 learners have been withdrawn." in page.locator("main").inner_text()
    assert Enrolment.objects.filter(cohort=cohort, status="withdrawn").count() == 2
    page.shot("bulk-withdrawn")
    # Nobody chosen: the page says what to do.
    page.get_by_role("button", name="Withdraw the chosen learners…").click()
    confirmation_is_announced(page, r"Choose the learners to withdraw")
    page.shot("nobody-chosen")
    assert_accessible(page)
