"""Cohort progress for partners, and its CSV and XLSX exports with formula neutralising."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from portal.exports import safe_cell
from programmes.tests.factories import AchievementFactory, EnrolmentFactory

DANGEROUS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_safe_cell_prefixes_a_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ann Example", "ann@example.org", 3, None, "O'Brien"])
def test_safe_cell_leaves_other_values(value):
    assert safe_cell(value) == value


def test_progress_summary_counts_per_domain(client, viewer, cohort, enrolment, framework):
    ethics_1, ethics_2, methods_1, *_ = framework["competencies"]
    for competency in (ethics_1, ethics_2, methods_1):
        AchievementFactory(enrolment=enrolment, competency=competency)
    client.force_login(viewer)
    response = client.get(reverse("partners:cohort_progress", args=[cohort.pk]))
    progress = response.context["progress"]
    assert [(name, required) for _id, name, required in progress.domains] == [
        ("Ethics", 2),
        ("Research methods", 2),
        ("Peer interviewing", 2),
    ]
    [row] = progress.learners
    assert [(c.achieved, c.required) for c in row.cells] == [(2, 2), (1, 2), (0, 2)]
    page = response.content.decode()
    assert "2 of 2" in page and "1 of 2" in page and "3 of 6" in page


def test_progress_queries_are_bounded(client, coordinator, cohort, framework, django_assert_max_num_queries):
    for _ in range(15):
        enrolment = EnrolmentFactory(cohort=cohort)
        AchievementFactory(enrolment=enrolment, competency=framework["competencies"][0])
    client.force_login(coordinator)
    with django_assert_max_num_queries(10):
        client.get(reverse("partners:cohort_progress", args=[cohort.pk]))
    with django_assert_max_num_queries(10):
        client.get(reverse("partners:progress_csv", args=[cohort.pk]))


def test_learner_detail_lists_competencies_with_what_is_shown(client, viewer, cohort, enrolment, framework):
    shown = framework["competencies"][0]
    AchievementFactory(enrolment=enrolment, competency=shown)
    client.force_login(viewer)
    response = client.get(reverse("partners:learner_progress", args=[cohort.pk, enrolment.pk]))
    domains = response.context["domains"]
    assert [(d.name, d.achieved, d.required) for d in domains][0] == ("Ethics", 1, 2)
    page = response.content.decode()
    assert "Shown:" in page and "Not yet shown:" in page and shown.statement in page


@pytest.fixture
def dangerous_learner(cohort, framework):
    return EnrolmentFactory(
        cohort=cohort, learner__full_name='=HYPERLINK("http://evil","x")', learner__email="@evil@example.org"
    )


def test_csv_export_neutralises_formulas(client, coordinator, cohort, dangerous_learner):
    client.force_login(coordinator)
    response = client.get(reverse("partners:progress_csv", args=[cohort.pk]))
    assert response["Content-Disposition"].startswith('attachment; filename="hackney-spring-cohort-progress-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Learner", "Email address", "Status"]
    assert rows[0][3] == "Ethics (achieved of 2)"
    assert rows[1][0] == '\'=HYPERLINK("http://evil","x")'
    assert rows[1][1] == "'@evil@example.org"


def test_xlsx_export_neutralises_formulas(client, coordinator, cohort, dangerous_learner):
    client.force_login(coordinator)
    response = client.get(reverse("partners:progress_xlsx", args=[cohort.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    name_cell = sheet.cell(row=2, column=1)
    assert name_cell.value == '\'=HYPERLINK("http://evil","x")'
    assert name_cell.data_type == "s"  # text, not a formula
    assert sheet.cell(row=2, column=2).value == "'@evil@example.org"
    assert sheet.cell(row=2, column=4).value == 0  # counts stay numbers
