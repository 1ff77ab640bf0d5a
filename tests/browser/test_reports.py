"""The staff report and a partner's report in chromium, at 1280 px and at 375 px: axe-core finds no
serious or critical violation, the charts are drawn (the SVG has a size and its bars take the
palette's colour from reports.css, not from pygal's blocked inline style), the page breaks no
Content-Security-Policy rule (the ``browsing`` fixture fails the test on any), and nothing is wider
than a phone's screen."""

import datetime

import pytest
from django.test import Client

from certificates.models import Certificate
from programmes.models import Achievement, Enrolment
from programmes.tests.factories import EnrolmentFactory
from tests.browser.support import assert_accessible, assert_no_csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
BLUE = "rgb(0, 114, 178)"  # reports.charts.PALETTE[0], Okabe–Ito blue


def signed_in(browsing, who: str, user, live_server):
    client = Client()
    client.force_login(user)
    page = browsing.new_page(who)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    return page


@pytest.fixture
def activity(cohort, framework, facilitator):
    """Learners at every stage, achievements and certificates: every chart has something to draw."""
    now = datetime.datetime.now(datetime.UTC)
    statuses = [
        Enrolment.Status.INVITED,
        Enrolment.Status.ACTIVE,
        Enrolment.Status.COMPLETED,
        Enrolment.Status.WITHDRAWN,
    ]
    for index in range(8):
        status = statuses[index % 4]
        enrolment = EnrolmentFactory(
            cohort=cohort,
            status=status,
            learner__full_name=f"Learner Ñamé {index}",
            completed_at=now if status == Enrolment.Status.COMPLETED else None,
        )
        Enrolment.objects.filter(pk=enrolment.pk).update(enrolled_at=now - datetime.timedelta(days=60 + index))
        for competency in framework["competencies"][: index % 4 + 1]:
            Achievement.objects.create(
                enrolment=enrolment,
                competency=competency,
                achieved_on=datetime.date.today() - datetime.timedelta(days=40),
            )
        if status == Enrolment.Status.COMPLETED:
            Certificate.objects.create(
                enrolment=enrolment,
                verification_code=f"BROWSER-{index}",
                status=Certificate.Status.ISSUED,
                sha256="2" * 64,
                issued_at=now - datetime.timedelta(days=3),
            )


def check_report(page, path: str, name: str) -> None:
    for viewport, label in (({"width": 1280, "height": 900}, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(viewport)
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        page.wait_for_load_state("load")
        page.shot(f"{name}-{label}")
        assert page.locator("h1").count() == 1
        charts = page.locator("figure svg[role=img]")
        assert charts.count() >= 3, "the funnel, the domains and the certificates are charted"
        for index in range(charts.count()):
            box = charts.nth(index).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100, f"chart {index} is not drawn: {box}"
        bar = page.locator("figure svg .series.color-0 rect.rect").first
        assert bar.evaluate("element => getComputedStyle(element).fill") == BLUE
        assert page.get_by_role("table").count() >= 3
        assert_accessible(page)
        assert_no_csp_violations(page)
        if viewport is PHONE:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_staff_report(browsing, live_server, staff_user, activity):
    page = signed_in(browsing, "staff", staff_user, live_server)
    check_report(page, "/staff/reports/", "staff-report")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("From", exact=True).fill("2031-01-01")
    page.get_by_label("To", exact=True).fill("2030-01-01")
    page.get_by_role("button", name="Show the report").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("The last day must be on or after the first day.").first.is_visible()
    assert_accessible(page)


def test_partner_report(browsing, live_server, coordinator, partner, activity):
    page = signed_in(browsing, "coordinator", coordinator, live_server)
    page.goto("/partners/")
    page.get_by_role("link", name=f"See the report for {partner.name}").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/partners/organisations/{partner.slug}/report/")
    check_report(page, f"/partners/organisations/{partner.slug}/report/", "partner-report")
