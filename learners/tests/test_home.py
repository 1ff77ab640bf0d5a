"""The public front page (issue 16, item 7): what the Academy is, the open programmes with their
partners and dates, how to take part, contact, the accessibility statement; bounded queries."""

import datetime

import pytest
from django.utils import timezone

from partners.tests.factories import PartnerOrganisationFactory
from programmes.models import Programme
from programmes.tests.factories import CohortFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


def test_front_page_explains_the_academy_and_how_to_take_part(client, settings):
    settings.DEFAULT_FROM_EMAIL = "Citizen Science Academy <hello@academy.example>"
    body = client.get("/").content.decode()
    assert "What the Academy is" in body
    assert "No experience of research, work or study is needed" in body
    assert "How to take part" in body
    assert 'href="mailto:hello@academy.example"' in body
    assert 'href="/accessibility/"' in body
    assert "No programme is open right now" in body


def test_open_programmes_with_partners_and_dates(client, cohort, partner):
    today = timezone.localdate()
    CohortFactory(
        programme=cohort.programme,
        partner=PartnerOrganisationFactory(name="Tower Hamlets Residents"),
        name="Old cohort",
        starts_on=today - datetime.timedelta(days=100),
        ends_on=today - datetime.timedelta(days=1),
    )
    ProgrammeFactory(title="A draft programme", status=Programme.Status.DRAFT)
    body = client.get("/").content.decode()
    assert "Lived Experience of Poverty" in body
    assert partner.name in body
    assert "Hackney spring cohort" in body
    assert cohort.starts_on.strftime("%-d %B %Y") in body
    assert "Community Centre, High Street" in body
    assert "Old cohort" not in body  # it has ended
    assert "A draft programme" not in body


def test_front_page_queries_do_not_grow_with_programmes(client, django_assert_max_num_queries):
    for _ in range(6):
        partners = [PartnerOrganisationFactory() for _partner in range(2)]
        programme = ProgrammeFactory(partners=partners)
        for p in partners:
            CohortFactory(programme=programme, partner=p)
    with django_assert_max_num_queries(6) as captured:
        body = client.get("/").content.decode()
    assert body.count('class="card h-100"') == 6
    assert (
        len([q for q in captured.captured_queries if "programmes_" in q["sql"]]) == 3
    )  # programmes, cohorts, partners


def test_accessibility_statement(client):
    response = client.get("/accessibility/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Accessibility statement</h1>" in body
    assert "WCAG" in body and "mailto:" in body
