"""The database itself refuses data that breaks the Academy's invariants."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from programmes.models import Achievement, CompetencyDomain, Enrolment
from programmes.tests.factories import AchievementFactory, CohortFactory, EnrolmentFactory

pytestmark = pytest.mark.django_db


def assert_refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_one_achievement_per_enrolment_and_competency(framework, enrolment):
    competency = framework["competencies"][0]
    AchievementFactory(enrolment=enrolment, competency=competency)
    assert_refused(lambda: AchievementFactory(enrolment=enrolment, competency=competency))
    assert Achievement.objects.count() == 1


def test_one_live_enrolment_per_learner_per_programme(enrolment):
    other_cohort = CohortFactory(programme=enrolment.programme)
    assert_refused(lambda: EnrolmentFactory(learner=enrolment.learner, cohort=other_cohort))
    # A withdrawn enrolment does not count: the learner can join another cohort.
    Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.WITHDRAWN)
    EnrolmentFactory(learner=enrolment.learner, cohort=other_cohort)


def test_core_domain_belongs_to_no_programme(programme):
    assert_refused(lambda: CompetencyDomain.objects.create(name="Ethics", is_core=True, programme=programme))


def test_course_domain_belongs_to_a_programme(db):
    assert_refused(lambda: CompetencyDomain.objects.create(name="Air sensors", is_core=False, programme=None))


def test_cohort_ends_after_it_starts(programme, partner):
    today = datetime.date(2026, 3, 1)
    assert_refused(
        lambda: CohortFactory(
            programme=programme, partner=partner, starts_on=today, ends_on=today - datetime.timedelta(days=1)
        )
    )


def test_completed_enrolment_needs_timestamp(cohort):
    assert_refused(lambda: EnrolmentFactory(cohort=cohort, status=Enrolment.Status.COMPLETED, completed_at=None))


def test_programme_is_copied_from_cohort(cohort, learner):
    enrolment = Enrolment.objects.create(learner=learner, cohort=cohort)
    assert enrolment.programme_id == cohort.programme_id
