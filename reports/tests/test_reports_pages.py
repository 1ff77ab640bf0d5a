"""The report pages and downloads: what each person sees, bad choices, formula-safe downloads, the
funder PDF, and a fixed number of queries whatever the amount of data."""

from __future__ import annotations

import csv
import datetime
import io
import subprocess

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from academy.tests.factories import UserFactory
from certificates.models import Certificate
from programmes.models import Achievement, Enrolment
from programmes.tests.factories import CohortFactory, CompetencyFactory, EnrolmentFactory, ProgrammeFactory
from reports.downloads import safe_cell

STAFF_URL = "/staff/reports/"


def _tool(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout


def partner_url(partner, suffix="/"):
    return f"/partners/organisations/{partner.slug}/report{suffix}"


@pytest.fixture
def other_cohort(other_partner):
    programme = ProgrammeFactory(title="Air quality", slug="air-quality", partners=[other_partner])
    return CohortFactory(programme=programme, partner=other_partner, name="Newham autumn cohort")


@pytest.fixture
def enrolled(cohort, other_cohort, framework):
    """A learner in each organisation's cohort, with a name a spreadsheet would run as a formula."""
    ours = EnrolmentFactory(cohort=cohort, learner__full_name='=HYPERLINK("http://x")', learner__email="a@example.org")
    theirs = EnrolmentFactory(cohort=other_cohort, learner__full_name="Nadia Newham", learner__email="n@example.org")
    old = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
    Enrolment.objects.filter(pk__in=[ours.pk, theirs.pk]).update(enrolled_at=old)
    return ours, theirs


def test_urls_are_where_they_are_said_to_be(partner):
    assert reverse("reports:staff_report") == STAFF_URL
    assert reverse("reports:partner_report", args=[partner.slug]) == partner_url(partner)
    assert reverse("reports:partner_report_csv", args=[partner.slug]) == partner_url(partner, ".csv")


def test_staff_see_every_organisation_and_the_charts(client, staff_user, enrolled):
    client.force_login(staff_user)
    response = client.get(STAFF_URL, {"start": "2025-12-01", "end": "2026-02-28"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nadia Newham" in text and "HYPERLINK" in text  # both stalled, both listed for staff
    # the funnel, the certificates, and the verification counts once the counter is installed
    charts = 3 if "Certificates checked, by week" in text else 2
    assert text.count("<svg") == charts and text.count('role="img"') == charts
    assert "<script" not in text.split("<footer")[0].split("<main")[1]  # no script in the charts
    assert "<style" not in text and 'style="' not in text  # the CSP forbids inline style
    assert "From invitation to certificate" in text and "Of 2 learners enrolled in this period" in text


def test_partner_sees_only_its_own_organisation(client, coordinator, viewer, partner, enrolled):
    for person in (coordinator, viewer):
        client.force_login(person)
        response = client.get(partner_url(partner), {"start": "2025-12-01", "end": "2026-02-28"})
        assert response.status_code == 200
        text = response.content.decode()
        assert "Newham" not in text and "Nadia" not in text and "Air quality" not in text
        assert "Of 1 learner" in text or "Of 1 learners" in text
        csv_text = client.get(partner_url(partner, ".csv"), {"start": "2025-12-01", "end": "2026-02-28"}).content
        assert b"Nadia" not in csv_text and b"Newham" not in csv_text


def test_partner_cannot_choose_another_organisations_cohort(client, coordinator, partner, other_cohort, enrolled):
    client.force_login(coordinator)
    response = client.get(partner_url(partner), {"cohort": other_cohort.pk})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Choose one of the cohorts listed." in text and "Nadia" not in text
    download = client.get(partner_url(partner, ".csv"), {"cohort": other_cohort.pk})
    assert download.status_code == 400 and "Choose one of the cohorts listed." in download.content.decode()


def test_another_organisation_gets_404(client, other_coordinator, partner):
    client.force_login(other_coordinator)
    for suffix in ("/", ".csv", ".xlsx"):
        assert client.get(partner_url(partner, suffix)).status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "31/02/2026"}, "Enter the first day as a date"),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "The last day must be on or after the first day."),
        ({"start": "1990-01-01", "end": "2026-01-01"}, "at most ten years"),
        ({"programme": "not-a-number"}, "Choose one of the programmes listed."),
        ({"partner": "999999"}, "Choose one of the partner organisations listed."),
        ({"cohort": "-1"}, "Choose one of the cohorts listed."),
    ],
)
def test_bad_choices_get_a_clear_message(client, staff_user, enrolled, params, message):
    client.force_login(staff_user)
    response = client.get(STAFF_URL, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "From invitation to certificate" not in response.content.decode()  # no report from bad input
    for download in ("report.csv", "report.xlsx"):
        response = client.get(STAFF_URL + download, params)
        assert response.status_code == 400 and message in response.content.decode()


def test_a_cohort_of_another_programme_is_refused(client, staff_user, cohort, other_cohort, enrolled):
    client.force_login(staff_user)
    response = client.get(STAFF_URL, {"programme": cohort.programme_id, "cohort": other_cohort.pk})
    assert "That cohort runs another programme" in response.content.decode()


def test_csv_and_xlsx_are_formula_safe(client, staff_user, enrolled):
    client.force_login(staff_user)
    params = {"start": "2025-12-01", "end": "2026-02-28"}
    response = client.get(STAFF_URL + "report.csv", params)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row[0] for row in rows if row and "HYPERLINK" in row[0]]
    assert names == ['\'=HYPERLINK("http://x")']
    assert ["Invited", "2"] in rows
    response = client.get(STAFF_URL + "report.xlsx", params)
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert '\'=HYPERLINK("http://x")' in cells
    assert not any(isinstance(cell, str) and cell.startswith("=") for cell in cells)
    assert "Learners who have stalled" in workbook.sheetnames


@pytest.mark.parametrize("text", ["=1+1", "+44", "-3", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_neutralises_formulas(text):
    assert safe_cell(text) == "'" + text
    assert safe_cell(5) == 5 and safe_cell("Zoë") == "Zoë"


def test_funder_report_form_then_pdf(client, staff_user, cohort, enrolled, tmp_path):
    client.force_login(staff_user)
    form = client.get("/staff/reports/funder/")
    assert form.status_code == 200 and b"Choose what the report covers" in form.content
    missing = client.get("/staff/reports/funder/", {"programme": ""})
    assert missing.status_code == 200 and "Choose the programme the report is about." in missing.content.decode()
    response = client.get(
        "/staff/reports/funder/", {"programme": cohort.programme_id, "start": "2025-12-01", "end": "2026-02-28"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "funder.pdf"
    path.write_bytes(response.content)
    text = " ".join(_tool("pdftotext", str(path), "-").split())
    assert "Funder report" in text and "Lived Experience of Poverty" in text
    assert "From invitation to certificate" in text
    assert "HYPERLINK" not in text and "Nadia" not in text  # no learner's name, no other programme
    fonts = {line.split()[0].split("+", 1)[-1] for line in _tool("pdffonts", str(path)).splitlines()[2:]}
    assert fonts and all("Academy" in font for font in fonts), fonts  # the bundled fonts only


def test_stalled_list_links_to_the_grid_for_staff_and_the_portal_for_partners(
    client, staff_user, coordinator, partner, cohort, enrolled
):
    ours, _theirs = enrolled
    client.force_login(staff_user)
    text = client.get(STAFF_URL, {"start": "2025-12-01", "end": "2026-02-28"}).content.decode()
    assert f"/cohorts/{cohort.pk}/progress/" in text
    assert reverse("admin:programmes_enrolment_change", args=[ours.pk]) in text
    client.force_login(coordinator)
    text = client.get(partner_url(partner), {"start": "2025-12-01", "end": "2026-02-28"}).content.decode()
    assert reverse("partners:learner_progress", args=[cohort.pk, ours.pk]) in text


def test_links_from_the_portal_and_the_admin(client, staff_user, coordinator, partner):
    client.force_login(coordinator)
    assert partner_url(partner) in client.get("/partners/").content.decode()
    client.force_login(staff_user)
    assert STAFF_URL in client.get("/admin/").content.decode()


# --- A fixed number of queries -------------------------------------------------------------------


def grow(cohort, framework, n: int):
    """``n`` more learners in the cohort and in a new cohort each, with achievements and certificates."""
    programme = cohort.programme
    for index in range(n):
        extra = CohortFactory(programme=programme, partner=cohort.partner)
        for target in (cohort, extra):
            enrolment = EnrolmentFactory(
                cohort=target, status=Enrolment.Status.COMPLETED, completed_at=datetime.datetime.now(datetime.UTC)
            )
            Achievement.objects.create(
                enrolment=enrolment, competency=framework["competencies"][index % 6], achieved_on=datetime.date.today()
            )
            Certificate.objects.create(
                enrolment=enrolment,
                verification_code=f"Q-{enrolment.pk}",
                status=Certificate.Status.ISSUED,
                sha256="1" * 64,
                issued_at=datetime.datetime.now(datetime.UTC),
            )
        EnrolmentFactory(cohort=extra)  # one more, stalled soon
    CompetencyFactory(domain=framework["core"][0])


def test_queries_do_not_grow_with_the_data(
    client, staff_user, coordinator, partner, cohort, framework, enrolled, django_assert_num_queries
):
    counts = {}
    for size in (1, 12):
        grow(cohort, framework, size)
        for who, url in ((staff_user, STAFF_URL), (coordinator, partner_url(partner))):
            client.force_login(who)
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            for suffix in ("", "csv", "xlsx"):
                target = (
                    url
                    if not suffix
                    else (url + "report." + suffix if who is staff_user else partner_url(partner, "." + suffix))
                )
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(target)
                assert response.status_code == 200
                counts.setdefault((who.pk, suffix), []).append(len(queries))
    for key, (small, large) in counts.items():
        assert small == large, f"{key}: {small} queries with little data, {large} with more"
    assert max(large for _small, large in counts.values()) <= 20, counts


def test_reports_are_never_cached(client, staff_user):
    client.force_login(staff_user)
    assert "no-store" in client.get(STAFF_URL)["Cache-Control"]


def test_learners_and_facilitators_get_404(client, learner, facilitator, partner, enrolment):
    for person in (learner, facilitator, UserFactory()):
        client.force_login(person)
        assert client.get(STAFF_URL).status_code == 404
        assert client.get("/staff/reports/funder/").status_code == 404
        assert client.get(partner_url(partner)).status_code == 404
