"""The cohort's learners at scale: search, filter, sort, the progress column and pages of 50."""

import html
import re

import pytest
from django.urls import reverse

from programmes.models import Enrolment
from programmes.tests.factories import AchievementFactory, EnrolmentFactory


@pytest.fixture
def big_cohort(cohort, framework):
    """65 learners (so two pages): ``Learner 00`` … ``Learner 64``, learner i has shown i % 7
    of the six required competencies (capped at six); every tenth is withdrawn."""
    cohort.capacity = 100
    cohort.save()
    competencies = framework["competencies"]
    for i in range(65):
        enrolment = EnrolmentFactory(
            cohort=cohort,
            learner__email=f"learner{i:02}@example.org",
            learner__full_name=f"Learner {i:02}",
            status=Enrolment.Status.WITHDRAWN if i % 10 == 9 else Enrolment.Status.ACTIVE,
        )
        for competency in competencies[: i % 7]:
            AchievementFactory(enrolment=enrolment, competency=competency)
    return cohort


def _names(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r"<bdi>(Learner \d\d|[^<]+Łukasz)</bdi></a></th>", page)]


def _get(client, cohort, **params):
    return client.get(reverse("partners:cohort_detail", args=[cohort.pk]), params)


def test_pages_of_fifty_keep_the_query_string(coordinator_client, big_cohort, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):  # session, account, cohort, counts, requirements, count, page
        response = _get(coordinator_client, big_cohort, sort="name", q="Learner")
    page = response.content.decode()
    names = _names(page)
    assert len(names) == 50 and names[0] == "Learner 00"
    assert "65 learners match. Page 1 of 2." in page
    assert 'href="?sort=name&amp;q=Learner&amp;page=2"' in page
    second = _names(_get(coordinator_client, big_cohort, sort="name", q="Learner", page=2).content.decode())
    assert len(second) == 15
    assert "Learner 09" in second  # withdrawn learners come after the live ones


def test_query_count_does_not_grow_with_the_page(coordinator_client, cohort, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        _get(coordinator_client, cohort)
    cohort.capacity = 100
    cohort.save()
    EnrolmentFactory.create_batch(60, cohort=cohort)
    with django_assert_max_num_queries(7):
        _get(coordinator_client, cohort, status="active", progress="not_started", sort="-progress")


def test_search_by_name_or_email(coordinator_client, big_cohort, learner):
    EnrolmentFactory(learner=learner, cohort=big_cohort)
    assert _names(_get(coordinator_client, big_cohort, q="ó'brien").content.decode()) == ["Zoë Ó'Brien-Łukasz"]
    assert _names(_get(coordinator_client, big_cohort, q="learner12@").content.decode()) == ["Learner 12"]
    page = _get(coordinator_client, big_cohort, q="nobody like this").content.decode()
    assert "No learner matches. Change the search or the filters, or clear them." in page


def test_filter_by_status_and_progress(coordinator_client, big_cohort):
    withdrawn = _names(_get(coordinator_client, big_cohort, status="withdrawn").content.decode())
    assert withdrawn == [f"Learner {i:02}" for i in range(9, 65, 10)]
    complete = _names(_get(coordinator_client, big_cohort, progress="complete", status="active").content.decode())
    assert complete == [f"Learner {i:02}" for i in range(65) if i % 7 == 6 and i % 10 != 9]
    not_started = _names(_get(coordinator_client, big_cohort, progress="not_started").content.decode())
    assert not_started[:2] == ["Learner 00", "Learner 07"]
    under = set(_names(_get(coordinator_client, big_cohort, progress="under_half", sort="name").content.decode()))
    assert "Learner 01" in under and "Learner 02" in under and "Learner 03" not in under
    half = set(_names(_get(coordinator_client, big_cohort, progress="half_or_more").content.decode()))
    assert {"Learner 03", "Learner 05"} <= half and "Learner 06" not in half


def test_sort_by_progress_and_status(coordinator_client, big_cohort):
    most = _names(_get(coordinator_client, big_cohort, sort="-progress").content.decode())
    assert most[0] == "Learner 06"  # 6 of 6, first by name
    least = _names(_get(coordinator_client, big_cohort, sort="progress").content.decode())
    assert least[0] == "Learner 00"
    by_status = _names(_get(coordinator_client, big_cohort, sort="status", page=2).content.decode())
    assert by_status[-1] == "Learner 59"  # withdrawn come last in the status order
    backwards = _names(_get(coordinator_client, big_cohort, sort="-name").content.decode())
    assert backwards[0] == "Learner 64"


def test_progress_column_has_text_not_only_a_bar(coordinator_client, big_cohort):
    page = _get(coordinator_client, big_cohort, q="Learner 03").content.decode()
    assert '<span class="portal-progress-text">3 of 6</span>' in page
    assert '<progress class="portal-progress-bar" max="6" value="3" aria-hidden="true">' in page
    assert 'data-label="Status"' in page and 'data-label="Actions"' in page  # labels for the phone's cards


def test_unknown_parameters_are_ignored_not_an_error(coordinator_client, big_cohort):
    response = _get(coordinator_client, big_cohort, status="gone", progress="x" * 500, sort="password", page="-3")
    assert response.status_code == 200
    assert len(_names(response.content.decode())) == 15  # a page beyond the end shows the last one
    assert len(_names(_get(coordinator_client, big_cohort, page="abc").content.decode())) == 50


def test_viewer_may_look_and_filter_but_not_change(client, viewer, big_cohort):
    client.force_login(viewer)
    page = _get(client, big_cohort, progress="complete").content.decode()
    assert "Learner 06" in page
    assert 'name="enrolment"' not in page and "Re-send every pending" not in page and "Reinstate" not in page


def test_another_organisation_gets_404(client, other_coordinator, big_cohort):
    client.force_login(other_coordinator)
    assert _get(client, big_cohort, q="Learner").status_code == 404


def test_a_search_with_control_characters_is_not_an_error(coordinator_client, cohort, enrolment):
    response = _get(coordinator_client, cohort, q="Zo\x00ë\u202e")
    assert response.status_code == 200
    assert _names(response.content.decode()) == ["Zoë Ó'Brien-Łukasz"]
