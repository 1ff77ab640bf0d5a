"""The completion rule: core + course-specific competencies, retirements, re-opening, refusals."""

import pytest
from django.core.exceptions import ValidationError

from programmes import services
from programmes.models import Achievement, Enrolment
from programmes.selectors import enrolment_missing_competencies
from programmes.signals import enrolment_completed
from programmes.tests.factories import CompetencyFactory, CourseDomainFactory, EnrolmentFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def completions():
    """Collects every enrolment announced through the completion hook."""
    seen = []

    def receiver(sender, enrolment, **kwargs):
        seen.append(enrolment.pk)

    enrolment_completed.connect(receiver, dispatch_uid="test-completions")
    yield seen
    enrolment_completed.disconnect(dispatch_uid="test-completions")


def record_all(enrolment, competencies, by):
    for competency in competencies:
        services.achievement_record(enrolment=enrolment, competency=competency, recorded_by=by)


def test_missing_lists_core_and_course_specific(framework, enrolment):
    missing = set(enrolment_missing_competencies(enrolment=enrolment))
    assert missing == set(framework["competencies"])


def test_other_programmes_course_domains_are_not_required(framework, enrolment):
    other_domain = CourseDomainFactory(programme=ProgrammeFactory())
    foreign = CompetencyFactory(domain=other_domain)
    assert foreign not in set(enrolment_missing_competencies(enrolment=enrolment))


def test_last_competency_completes_once_through_hook(framework, enrolment, facilitator, completions):
    *first, last = framework["competencies"]
    record_all(enrolment, first, facilitator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert completions == []

    services.achievement_record(
        enrolment=enrolment, competency=last, recorded_by=facilitator, evidence="Ran a focus group"
    )
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert enrolment.completed_at is not None
    assert completions == [enrolment.pk]

    # Recording again changes nothing and announces nothing new.
    services.achievement_record(enrolment=enrolment, competency=last, recorded_by=facilitator)
    assert completions == [enrolment.pk]
    assert Achievement.objects.filter(enrolment=enrolment).count() == 6


def test_core_alone_does_not_complete(framework, enrolment, facilitator):
    core = [c for c in framework["competencies"] if c.domain.is_core]
    record_all(enrolment, core, facilitator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_retired_competency_is_no_longer_required_and_completes(framework, enrolment, facilitator, completions):
    *first, last = framework["competencies"]
    record_all(enrolment, first, facilitator)
    result = services.competency_retire(competency=last)
    enrolment.refresh_from_db()
    assert last.retired_at is not None
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert completions == [enrolment.pk]
    assert result.is_active is False


def test_recording_a_retired_competency_is_refused(framework, enrolment, facilitator):
    competency = framework["competencies"][0]
    services.competency_retire(competency=competency)
    with pytest.raises(ValidationError, match="retired"):
        services.achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)


def test_new_competency_reopens_completed_enrolment(framework, enrolment, facilitator):
    record_all(enrolment, framework["competencies"], facilitator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED

    new = CompetencyFactory.build(domain=framework["core"][0], statement="Explains how data will be stored safely")
    services.competency_save(competency=new)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.completed_at is None
    assert list(enrolment_missing_competencies(enrolment=enrolment)) == [new]


def test_core_change_reaches_every_programme(framework, enrolment, facilitator):
    record_all(enrolment, framework["competencies"], facilitator)
    other_enrolment = EnrolmentFactory()  # another programme, which has no course domains
    core = [c for c in framework["competencies"] if c.domain.is_core]
    record_all(other_enrolment, core, facilitator)
    other_enrolment.refresh_from_db()
    assert other_enrolment.status == Enrolment.Status.COMPLETED

    services.competency_save(competency=CompetencyFactory.build(domain=framework["core"][1]))
    for e in (enrolment, other_enrolment):
        e.refresh_from_db()
        assert e.status == Enrolment.Status.ACTIVE


def test_course_specific_change_leaves_other_programmes(framework, enrolment, facilitator):
    other_enrolment = EnrolmentFactory()
    core = [c for c in framework["competencies"] if c.domain.is_core]
    record_all(other_enrolment, core, facilitator)
    services.competency_save(competency=CompetencyFactory.build(domain=framework["course"][0]))
    other_enrolment.refresh_from_db()
    assert other_enrolment.status == Enrolment.Status.COMPLETED


def test_withdrawn_enrolment_is_refused(framework, enrolment, facilitator):
    services.enrolment_withdraw(enrolment=enrolment, withdrawn_by=facilitator)
    with pytest.raises(ValidationError, match="withdrawn"):
        services.achievement_record(
            enrolment=enrolment, competency=framework["competencies"][0], recorded_by=facilitator
        )
    assert not Achievement.objects.filter(enrolment=enrolment).exists()


def test_competency_of_another_programme_is_refused(framework, enrolment, facilitator):
    foreign = CompetencyFactory(domain=CourseDomainFactory(programme=ProgrammeFactory()))
    with pytest.raises(ValidationError, match="not part of the programme"):
        services.achievement_record(enrolment=enrolment, competency=foreign, recorded_by=facilitator)


def test_removing_an_achievement_reopens_and_keeps_history(framework, enrolment, facilitator):
    record_all(enrolment, framework["competencies"], facilitator)
    competency = framework["competencies"][0]
    assert services.achievement_remove(enrolment=enrolment, competency=competency, removed_by=facilitator) is True
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    deleted = Achievement.history.filter(competency_id=competency.pk, history_type="-").get()
    assert deleted.history_user == facilitator
    assert services.achievement_remove(enrolment=enrolment, competency=competency, removed_by=facilitator) is False


def test_completed_enrolment_cannot_be_withdrawn(framework, enrolment, facilitator):
    record_all(enrolment, framework["competencies"], facilitator)
    with pytest.raises(ValidationError, match="already completed"):
        services.enrolment_withdraw(enrolment=enrolment, withdrawn_by=facilitator)


def test_second_live_enrolment_in_programme_is_refused(enrolment, facilitator):
    from programmes.tests.factories import CohortFactory

    second_cohort = CohortFactory(programme=enrolment.programme)
    with pytest.raises(ValidationError, match="already enrolled"):
        services.enrolment_create(learner=enrolment.learner, cohort=second_cohort, enrolled_by=facilitator)
    services.enrolment_withdraw(enrolment=enrolment, withdrawn_by=facilitator)
    again = services.enrolment_create(learner=enrolment.learner, cohort=second_cohort, enrolled_by=facilitator)
    assert again.programme_id == enrolment.programme_id


def test_enrolment_refused_when_the_cohort_is_full_until_someone_withdraws(enrolment, facilitator):
    from academy.tests.factories import UserFactory
    from programmes.tests.factories import EnrolmentFactory

    cohort = enrolment.cohort
    cohort.capacity = 2
    cohort.save()
    second = EnrolmentFactory(cohort=cohort)
    newcomer = UserFactory(email="newcomer@example.org")
    with pytest.raises(ValidationError, match="is full: all 2 places are taken"):
        services.enrolment_create(learner=newcomer, cohort=cohort, enrolled_by=facilitator)
    assert not cohort.enrolments.filter(learner=newcomer).exists()
    services.enrolment_withdraw(enrolment=second, withdrawn_by=facilitator)
    assert services.enrolment_create(learner=newcomer, cohort=cohort, enrolled_by=facilitator).cohort_id == cohort.pk


def test_enrolment_refused_when_the_programme_is_not_open(cohort, facilitator):
    from academy.tests.factories import UserFactory
    from programmes.models import Programme

    cohort.programme.status = Programme.Status.CLOSED
    cohort.programme.save()
    with pytest.raises(ValidationError, match="is not open for enrolment"):
        services.enrolment_create(learner=UserFactory(), cohort=cohort, enrolled_by=facilitator)
    assert not cohort.enrolments.exists()
