"""The facilitator's grid in chromium, at 1280 and 375 px and by keyboard alone: arrow keys and
Space, a whole row or column ticked, the confirmation before undoing achievements (and going
back from it), the warning before leaving with unsaved ticks, the domain filter, one learner's
checklist on a phone, an error shown, and a certified learner's locked boxes. axe-core runs on
every page and state (no serious or critical violation); each step is screenshotted, and the
screenshots are kept under test-artifacts/ when a test fails.
"""

import re

import pytest

from certificates.models import Certificate
from certificates.tests.samples import issued_certificate_saved
from programmes.models import Achievement, Enrolment
from programmes.selectors import cohort_progress_grid
from programmes.services import achievement_record, enrolment_withdraw
from tests.browser.support import DESKTOP, PHONE, assert_accessible, signed_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def active(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement; return { tag: e.tagName.toLowerCase(),
        id: e.id || "", type: e.type || "", text: (e.innerText || "").trim().slice(0, 80),
        checked: !!e.checked, name: e.name || "" }; }"""
    )


def order(cohort):
    """The grid's learners and competencies in the order the page draws them."""
    grid = cohort_progress_grid(cohort=cohort)
    return [row.enrolment for row in grid.rows], grid.competencies


def box(enrolment, competency) -> str:
    return f"#t{enrolment.pk}-{competency.pk}"


@pytest.fixture
def two(cohort, enrolment, other_learner, framework):
    return order(cohort)


# --- Keyboard only -------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_arrow_keys_space_and_save_by_keyboard(browsing, live_server, facilitator, cohort, two, viewport):
    rows, comps = two
    page = signed_in(browsing, "facilitator", facilitator, live_server, viewport)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid")
    # Keyboard only from the top "Save progress" button: Tab reaches the grid in two presses.
    page.get_by_role("button", name="Save progress").first.focus()
    for _ in range(3):
        page.keyboard.press("Tab")
        if active(page)["type"] == "checkbox":
            break
    assert active(page)["id"] == f"t{rows[0].pk}-{comps[0].pk}"
    page.keyboard.press("ArrowRight")
    assert active(page)["id"] == f"t{rows[0].pk}-{comps[1].pk}"
    page.keyboard.press("ArrowDown")
    assert active(page)["id"] == f"t{rows[1].pk}-{comps[1].pk}"
    page.keyboard.press("Space")
    assert active(page)["checked"]
    page.keyboard.press("End")
    assert active(page)["id"] == f"t{rows[1].pk}-{comps[-1].pk}"
    page.keyboard.press("Space")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # onto the column's "Tick all" button
    assert active(page)["tag"] == "button" and "Tick all" in active(page)["text"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowLeft")
    assert active(page)["id"] == f"t{rows[0].pk}-{comps[-2].pk}"
    # Only one box in the grid is a Tab stop: Tab leaves the grid for the evidence note.
    page.keyboard.press("Tab")
    assert active(page)["tag"] == "textarea"
    assert page.locator("[data-unsaved-note]").is_visible()
    page.keyboard.type("Session 2, keyboard")
    page.keyboard.press("Tab")
    assert active(page)["text"] == "Save progress"
    page.shot("ticked-by-keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.shot("saved")
    assert_accessible(page)
    status = page.get_by_role("status").filter(has_text="Saved:")
    assert re.search(rf"2 achievements recorded for {re.escape(rows[1].learner.full_name)}", status.inner_text())
    assert set(Achievement.objects.values_list("enrolment_id", "competency_id")) == {
        (rows[1].pk, comps[1].pk),
        (rows[1].pk, comps[-1].pk),
    }
    assert set(Achievement.objects.values_list("evidence", flat=True)) == {"Session 2, keyboard"}


# --- A whole row, a whole column -----------------------------------------------------------------


def test_tick_a_whole_row_and_a_whole_column(browsing, live_server, facilitator, cohort, two):
    rows, comps = two
    page = signed_in(browsing, "facilitator", facilitator, live_server)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid")
    page.get_by_role("button", name=f"Tick all for {rows[0].learner.full_name}").click()
    assert page.url.endswith(f"/cohorts/{cohort.pk}/progress/")  # no round trip with JavaScript
    assert page.locator(f"tr[data-row='{rows[0].pk}'] input[type=checkbox]:checked").count() == len(comps)
    assert page.locator(f"tr[data-row='{rows[1].pk}'] input[type=checkbox]:checked").count() == 0
    page.get_by_role("button", name=re.compile(re.escape(f"Tick all learners for “{comps[2].statement}”"))).click()
    assert page.locator(box(rows[1], comps[2])).is_checked()
    page.shot("row-and-column-ticked")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Save progress").first.click()
    assert Achievement.objects.count() == len(comps) + 1
    assert_accessible(page)


# --- The confirmation before undoing ------------------------------------------------------------


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_confirmation_before_undoing(browsing, live_server, facilitator, cohort, two, viewport):
    rows, comps = two
    for competency in comps[:3]:
        achievement_record(enrolment=rows[0], competency=competency, recorded_by=facilitator)
    page = signed_in(browsing, "facilitator", facilitator, live_server, viewport)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid")
    page.locator(box(rows[0], comps[1])).uncheck()
    page.locator(box(rows[1], comps[0])).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save progress").first.click()
    page.shot("confirmation")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Undo 1 achievement?"
    assert active(page)["tag"] == "h1"  # the focus is on the question, so it is read first
    assert page.get_by_role("alert").count() >= 1
    listed = page.locator(".grid-removals").inner_text()
    assert rows[0].learner.full_name in listed and comps[1].statement in listed
    assert_accessible(page)
    assert Achievement.objects.count() == 3  # nothing saved yet
    # Go back: the ticks are as they were left, still unsaved.
    with page.expect_navigation():
        page.get_by_role("button", name="No, go back to my ticks").click()
    page.shot("back-to-the-grid")
    assert not page.locator(box(rows[0], comps[1])).is_checked()
    assert page.locator(box(rows[1], comps[0])).is_checked()
    assert page.locator("[data-unsaved-note]").is_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Save progress").first.click()
    # Confirm, by keyboard: Tab from the heading reaches "Yes, undo".
    for _ in range(4):
        page.keyboard.press("Tab")
        if active(page)["name"] == "confirm":
            break
    assert active(page)["text"].startswith("Yes, undo 1 achievement")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.shot("undone")
    assert_accessible(page)
    status = page.get_by_role("status").filter(has_text="Saved:").inner_text()
    assert f"1 achievement removed for {rows[0].learner.full_name}" in status
    assert f"1 achievement recorded for {rows[1].learner.full_name}" in status
    assert not Achievement.objects.filter(enrolment=rows[0], competency=comps[1]).exists()


# --- Leaving with unsaved ticks ----------------------------------------------------------------


def test_leaving_with_unsaved_ticks_warns(browsing, live_server, facilitator, cohort, two):
    rows, comps = two
    page = signed_in(browsing, "facilitator", facilitator, live_server)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid")
    page.locator(box(rows[0], comps[0])).check()
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("link", name=rows[0].learner.full_name).click()
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(f"/cohorts/{cohort.pk}/progress/")  # stayed, ticks kept
    assert page.locator(box(rows[0], comps[0])).is_checked()
    page.shot("stayed")
    # Saving is not leaving: no warning.
    with page.expect_navigation():
        page.get_by_role("button", name="Save progress").first.click()
    assert dialogs == ["beforeunload"]
    # And with nothing changed, leaving asks nothing.
    with page.expect_navigation():
        page.get_by_role("link", name=rows[0].learner.full_name).click()
    assert dialogs == ["beforeunload"]


# --- Filter by domain, errors shown -------------------------------------------------------------


def test_filter_by_domain_and_an_error_shown(browsing, live_server, facilitator, cohort, two, framework):
    rows, comps = two
    page = signed_in(browsing, "facilitator", facilitator, live_server)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid")
    ethics = framework["core"][0]
    page.get_by_label("Show competencies of").select_option(label=f"{ethics.name} (core)")
    with page.expect_navigation():
        page.get_by_role("button", name="Show", exact=True).click()
    page.shot("one-domain")
    assert f"domain={ethics.pk}" in page.url
    assert page.locator("input[type=checkbox][name=tick]").count() == 2 * len(rows)
    assert_accessible(page)
    # A learner withdrawn by someone else while the page was open: the save says so, nothing lost.
    page.locator(box(rows[0], comps[0])).check()
    enrolment_withdraw(enrolment=rows[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Save progress").first.click()
    page.shot("error")
    summary = page.locator("[data-error-summary]")
    assert "changed while you were working" in summary.inner_text()
    assert_accessible(page)
    assert not Achievement.objects.exists()


# --- One learner's checklist on a phone -------------------------------------------------------


def test_learner_checklist_on_a_phone(browsing, live_server, facilitator, cohort, two, framework):
    rows, comps = two
    achievement_record(enrolment=rows[0], competency=comps[0], recorded_by=facilitator)
    page = signed_in(browsing, "facilitator", facilitator, live_server, PHONE)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid-phone")
    with page.expect_navigation():
        page.get_by_role("link", name=rows[0].learner.full_name).click()
    page.shot("checklist")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("fieldset legend").count() == 3  # grouped by domain
    # Big targets: each whole label is a tap target at least 44 px high.
    label = page.locator(f"label[for='t{rows[0].pk}-{comps[1].pk}']")
    assert label.bounding_box()["height"] >= 24
    assert page.locator(".checklist-item").first.bounding_box()["height"] >= 44
    label.click()
    page.locator(f"label[for='t{rows[0].pk}-{comps[0].pk}']").click()  # untick the one recorded
    with page.expect_navigation():
        page.get_by_role("button", name="Save progress").first.click()
    page.shot("checklist-confirmation")
    assert page.get_by_role("heading", level=1).inner_text() == "Undo 1 achievement?"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Yes, undo")).click()
    page.shot("checklist-saved")
    assert page.url.endswith(f"/cohorts/{cohort.pk}/progress/{rows[0].pk}/")
    assert_accessible(page)
    assert list(Achievement.objects.values_list("competency_id", flat=True)) == [comps[1].pk]


# --- A certified learner: locked ----------------------------------------------------------------


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_locked_boxes_of_a_certified_learner(
    browsing, live_server, settings, tmp_path, facilitator, cohort, enrolment, framework, viewport
):
    settings.MEDIA_ROOT = tmp_path
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)
    Certificate.objects.filter(enrolment=enrolment).delete()
    issued_certificate_saved(enrolment, code="GR1D0-0TEST-C0DE2-AAAAA")
    page = signed_in(browsing, "facilitator", facilitator, live_server, viewport)
    visit(page, f"/cohorts/{cohort.pk}/progress/", "grid-locked")
    first = page.locator(box(enrolment, framework["competencies"][0]))
    assert first.is_disabled() and first.is_checked()
    assert page.locator("td.locked .grid-lock").first.is_visible()
    assert "Academy staff must first revoke the certificate" in page.locator("#lock-note").inner_text()
    # Saving the page as it is undoes nothing.
    with page.expect_navigation():
        page.get_by_role("button", name="Save progress").first.click()
    assert Achievement.objects.filter(enrolment=enrolment).count() == 6
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    visit(page, f"/cohorts/{cohort.pk}/progress/{enrolment.pk}/", "checklist-locked")
    assert page.locator("input[type=checkbox]:disabled").count() == 6
