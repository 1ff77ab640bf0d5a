"""Reach tables: counts of consenting learners per answer, in a fixed number of queries, suppressed."""

from django.utils import timezone

from programmes.models import Enrolment
from programmes.tests.factories import CohortFactory, EnrolmentFactory
from reports.models import QUESTIONS, EqualityMonitoringAnswers
from reports.selectors_reach import reach_by_postcode_district, reach_tables

HIDDEN = "fewer than 5 or hidden"


def answers_for(enrolment, **answers):
    now = timezone.now()
    return EqualityMonitoringAnswers.objects.create(
        learner=enrolment.learner, consented_at=now, answered_at=now, **answers
    )


def test_counts_by_answer_grouped_and_suppressed(cohort, django_assert_num_queries):
    for _ in range(7):
        answers_for(
            EnrolmentFactory(cohort=cohort), ethnic_group="white_british", age_band="25_34", postcode_district="E8"
        )
    for _ in range(4):
        answers_for(
            EnrolmentFactory(cohort=cohort), ethnic_group="white_irish", age_band="25_34", postcode_district="E8"
        )
    for group in ("black_african", "black_caribbean", "black_other", "black_african", "black_african", "black_other"):
        answers_for(EnrolmentFactory(cohort=cohort), ethnic_group=group, age_band="16_24", postcode_district="N16")
    answers_for(EnrolmentFactory(cohort=cohort), ethnic_group="asian_chinese", postcode_district="SW1A")
    EnrolmentFactory(cohort=cohort)  # a learner who did not answer: not counted
    other = EnrolmentFactory(cohort=CohortFactory())  # another population: not counted
    answers_for(other, ethnic_group="asian_indian")
    enrolments = Enrolment.objects.filter(cohort=cohort)

    with django_assert_num_queries(1):
        tables = reach_tables(enrolments=enrolments)
    by_question = {t.question: t for t in tables}
    assert list(by_question) == list(QUESTIONS)
    ethnic = by_question["ethnic_group"]
    assert ethnic.table.total == 18
    # White 11, Black 6, Asian 1 (hidden, with the next smallest: Black), others 0.
    assert ethnic.table.displays == {
        "asian": HIDDEN,
        "black": HIDDEN,
        "mixed": "0",
        "white": "11",
        "other": "0",
        "prefer_not_to_say": "0",
    }
    assert [row.label for row in ethnic.rows][0] == "Asian, Asian British or Asian Welsh"
    age = by_question["age_band"].table
    # The one who gave no age (1) is hidden, and with it the next smallest (16 to 24: 6).
    assert age["25_34"].display == "11" and age["16_24"].suppressed and age["prefer_not_to_say"].suppressed

    with django_assert_num_queries(1):
        districts = reach_by_postcode_district(enrolments=enrolments)
    # E8 11 and N16 6 named; SW1A (1) goes into "Other districts", hidden with the next smallest.
    assert [row.key for row in districts.rows] == ["E8", "N16", "other_districts", "not_given"]
    assert districts.table.displays == {"E8": "11", "N16": HIDDEN, "other_districts": HIDDEN, "not_given": "0"}
    assert "SW1A" not in str(districts)


def test_each_learner_counts_once_and_withdrawn_answers_are_gone(cohort, programme):
    enrolment = EnrolmentFactory(cohort=cohort)
    answers_for(enrolment, gender="man")
    second = CohortFactory(programme=programme, partner=cohort.partner)
    Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.WITHDRAWN)
    EnrolmentFactory(cohort=second, learner=enrolment.learner)
    for _ in range(5):
        answers_for(EnrolmentFactory(cohort=cohort), gender="woman")
    enrolments = Enrolment.objects.filter(cohort__programme=programme)
    gender = {t.question: t for t in reach_tables(enrolments=enrolments)}["gender"].table
    assert gender.total == 6
    EqualityMonitoringAnswers.objects.filter(learner=enrolment.learner).delete()
    gender = {t.question: t for t in reach_tables(enrolments=enrolments)}["gender"].table
    assert gender.total == 5 and gender["woman"].display == "5" and gender["man"].display == "0"


def test_nobody_answered(cohort):
    tables = reach_tables(enrolments=Enrolment.objects.filter(cohort=cohort))
    assert all(t.table.total == 0 and not t.table.any_suppressed for t in tables)
