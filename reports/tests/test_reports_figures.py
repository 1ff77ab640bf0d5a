"""Each figure of the staff and partner reports against a small world counted by hand.

Period: 1 January to 30 June 2026. Hackney (the partner) runs cohort C1 of "Lived Experience";
Newham runs C2 of "Air quality".

| enrolment | cohort | enrolled | status    | certificate                              | achievements (date, domain)          |
| --------- | ------ | -------- | --------- | ---------------------------------------- | ------------------------------------ |
| e1        | C1     | 10 Jan   | completed | issued 9 Feb (30 days)                   | 15 Jan Methods; 15 Dec 2025 Ethics   |
| e2        | C1     | 20 Jan   | completed | issued 1 Mar (40 days)                   |                                      |
| e3        | C1     | 1 Feb    | completed | issued 13 Mar (40 days), revoked 2 Apr   |                                      |
| e4        | C1     | 1 Mar    | active    |                                          | 20 Feb Ethics, 5 Mar Ethics          |
| e5        | C1     | 2 Mar    | invited   |                                          |                                      |
| e6        | C1     | 1 Apr    | withdrawn |                                          |                                      |
| e7        | C1     | 1 Dec 25 | active    | (before the period: not in the funnel)   |                                      |
| e9        | C1     | 1 Apr    | active    |                                          |                                      |
| e10       | C1     | 15 Feb   | active    |                                          | 1 Apr Peer interviewing              |
| e8        | C2     | 1 Feb    | completed | issued 21 Feb (20 days)                  | 10 Feb Methods                       |

Staff, everything: invited 9, taking part 7 (e1 e2 e3 e4 e10 e9 e8), completed 4, certified 3 (e3's is
revoked), withdrawn 1; completion 4/9; median days of 20, 30, 40, 40 = 35.0.
Hackney only: invited 8, taking part 6, completed 3, certified 2, withdrawn 1; median of 30, 40, 40 = 40.
On 10 April the stalled are e7 (nothing since 1 Dec: 130 days) then e4 (5 Mar: 36 days); e9 enrolled
too recently, e10 showed one on 1 April.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from certificates.models import Certificate
from partners.tests.factories import PartnerOrganisationFactory
from programmes.models import Achievement, Enrolment
from programmes.tests.factories import (
    CohortFactory,
    CompetencyFactory,
    CoreDomainFactory,
    CourseDomainFactory,
    EnrolmentFactory,
    ProgrammeFactory,
)
from reports import selectors
from reports.selectors import ReportScope

LONDON = zoneinfo.ZoneInfo("Europe/London")
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)


def at(year, month, day):
    return datetime.datetime(year, month, day, 12, 0, tzinfo=LONDON)


@pytest.fixture
def world(db):
    hackney = PartnerOrganisationFactory(name="Hackney Community Voices", slug="hackney")
    newham = PartnerOrganisationFactory(name="Newham Borough Council", slug="newham")
    lived = ProgrammeFactory(title="Lived Experience", slug="lived", partners=[hackney])
    air = ProgrammeFactory(title="Air quality", slug="air", partners=[newham])
    ethics = CoreDomainFactory(name="Ethics", order=1)
    methods = CoreDomainFactory(name="Research methods", order=2)
    peer = CourseDomainFactory(name="Peer interviewing", programme=lived)
    c_ethics = [CompetencyFactory(domain=ethics), CompetencyFactory(domain=ethics)]
    c_methods = CompetencyFactory(domain=methods)
    c_peer = CompetencyFactory(domain=peer)
    c1 = CohortFactory(programme=lived, partner=hackney, name="C1")
    c2 = CohortFactory(programme=air, partner=newham, name="C2")
    S = Enrolment.Status
    plan = {
        "e1": (c1, at(2026, 1, 10), S.COMPLETED),
        "e2": (c1, at(2026, 1, 20), S.COMPLETED),
        "e3": (c1, at(2026, 2, 1), S.COMPLETED),
        "e4": (c1, at(2026, 3, 1), S.ACTIVE),
        "e5": (c1, at(2026, 3, 2), S.INVITED),
        "e6": (c1, at(2026, 4, 1), S.WITHDRAWN),
        "e7": (c1, at(2025, 12, 1), S.ACTIVE),
        "e9": (c1, at(2026, 4, 1), S.ACTIVE),
        "e10": (c1, at(2026, 2, 15), S.ACTIVE),
        "e8": (c2, at(2026, 2, 1), S.COMPLETED),
    }
    enrolments = {}
    for key, (cohort, enrolled_at, status) in plan.items():
        enrolment = EnrolmentFactory(
            cohort=cohort,
            status=status,
            learner__full_name=f"Learner {key}",
            completed_at=enrolled_at + datetime.timedelta(days=20) if status == S.COMPLETED else None,
        )
        Enrolment.objects.filter(pk=enrolment.pk).update(enrolled_at=enrolled_at)
        enrolments[key] = enrolment

    def certificate(key, issued, revoked=None):
        Certificate.objects.create(
            enrolment=enrolments[key],
            verification_code=f"CODE-{key}",
            status=Certificate.Status.REVOKED if revoked else Certificate.Status.ISSUED,
            sha256="0" * 64,
            issued_at=issued,
            revoked_at=revoked,
        )

    certificate("e1", at(2026, 2, 9))
    certificate("e2", at(2026, 3, 1))
    certificate("e3", at(2026, 3, 13), revoked=at(2026, 4, 2))
    certificate("e8", at(2026, 2, 21))
    for key, competency, day in [
        ("e1", c_methods, datetime.date(2026, 1, 15)),
        ("e1", c_ethics[0], datetime.date(2025, 12, 15)),
        ("e4", c_ethics[0], datetime.date(2026, 2, 20)),
        ("e4", c_ethics[1], datetime.date(2026, 3, 5)),
        ("e10", c_peer, datetime.date(2026, 4, 1)),
        ("e8", c_methods, datetime.date(2026, 2, 10)),
    ]:
        Achievement.objects.create(enrolment=enrolments[key], competency=competency, achieved_on=day)
    return {"hackney": hackney, "newham": newham, "lived": lived, "air": air, "c1": c1, "c2": c2, **enrolments}


def staff_scope(**choices):
    return ReportScope(start=START, end=END, **choices)


def test_funnel_for_staff(world):
    funnel = selectors.funnel(staff_scope())
    assert (funnel.invited, funnel.taking_part, funnel.completed, funnel.certified, funnel.withdrawn) == (9, 7, 4, 3, 1)
    assert funnel.completion_rate == pytest.approx(4 / 9)
    assert funnel.median_days_to_certificate == 35.0


def test_funnel_for_one_partner_counts_nothing_of_another(world):
    for scope in (staff_scope(partner=world["hackney"]), staff_scope(organisation=world["hackney"])):
        funnel = selectors.funnel(scope)
        assert (funnel.invited, funnel.taking_part, funnel.completed, funnel.certified, funnel.withdrawn) == (
            8,
            6,
            3,
            2,
            1,
        )
        assert funnel.median_days_to_certificate == 40.0
    newham = selectors.funnel(staff_scope(programme=world["air"]))
    assert (newham.invited, newham.completed, newham.certified, newham.median_days_to_certificate) == (1, 1, 1, 20.0)


def test_a_partner_report_ignores_a_partner_filter_for_another_organisation(world):
    """A partner's report is its organisation's, whatever else is asked for: both conditions hold."""
    funnel = selectors.funnel(staff_scope(organisation=world["hackney"], partner=world["newham"]))
    assert funnel.invited == 0


def test_the_period_bounds_the_funnel(world):
    funnel = selectors.funnel(ReportScope(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31)))
    assert (funnel.invited, funnel.taking_part, funnel.completed, funnel.certified) == (2, 1, 0, 0)
    assert funnel.median_days_to_certificate is None
    assert funnel.completion_rate == 0


def test_nobody_enrolled_gives_no_rate(world):
    funnel = selectors.funnel(ReportScope(start=datetime.date(2020, 1, 1), end=datetime.date(2020, 1, 31)))
    assert funnel.invited == 0 and funnel.completion_rate is None and funnel.median_days_to_certificate is None


def test_competencies_per_domain(world):
    rows = [(r.domain, r.is_core, r.achievements) for r in selectors.competencies_by_domain(staff_scope())]
    assert rows == [("Ethics", True, 2), ("Research methods", True, 2), ("Peer interviewing", False, 1)]
    hackney = selectors.competencies_by_domain(staff_scope(organisation=world["hackney"]))
    assert [(r.domain, r.achievements) for r in hackney] == [
        ("Ethics", 2),
        ("Research methods", 1),
        ("Peer interviewing", 1),
    ]


def test_certificates_per_month(world):
    rows = [(r.month.month, r.issued, r.revoked) for r in selectors.certificates_by_month(staff_scope())]
    assert rows == [(1, 0, 0), (2, 2, 0), (3, 2, 0), (4, 0, 1), (5, 0, 0), (6, 0, 0)]
    newham = selectors.certificates_by_month(staff_scope(partner=world["newham"]))
    assert [(r.month.month, r.issued, r.revoked) for r in newham if r.issued or r.revoked] == [(2, 1, 0)]


def test_stalled_learners_longest_first(world):
    learners, total = selectors.stalled_learners(staff_scope(), today=datetime.date(2026, 4, 10))
    assert total == 2
    assert [(s.learner_name, s.last_achieved_on, s.days_since) for s in learners] == [
        ("Learner e7", None, 130),
        ("Learner e4", datetime.date(2026, 3, 5), 36),
    ]
    first, total = selectors.stalled_learners(staff_scope(), limit=1, today=datetime.date(2026, 4, 10))
    assert [s.learner_name for s in first] == ["Learner e7"] and total == 2
    nobody, total = selectors.stalled_learners(staff_scope(partner=world["newham"]), today=datetime.date(2026, 4, 10))
    assert nobody == [] and total == 0


def test_months_of_a_period():
    scope = ReportScope(start=datetime.date(2025, 11, 30), end=datetime.date(2026, 2, 1))
    assert scope.months() == [
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
    ]


def test_verification_per_week_every_week_with_zeros(db):
    from certificates.models import VerificationLookupCount

    Kind = VerificationLookupCount.Kind
    VerificationLookupCount.objects.bulk_create(
        [
            VerificationLookupCount(week_starting=datetime.date(2026, 3, 2), kind=Kind.VERIFY_PAGE, count=7),
            VerificationLookupCount(week_starting=datetime.date(2026, 3, 2), kind=Kind.FILE_CHECK, count=2),
            VerificationLookupCount(week_starting=datetime.date(2026, 3, 16), kind=Kind.CREDENTIAL_JSON, count=3),
            VerificationLookupCount(week_starting=datetime.date(2026, 4, 6), kind=Kind.VERIFY_PAGE, count=99),
        ]
    )
    # 4 March (a Wednesday) to 22 March: the weeks of 2, 9 and 16 March.
    weeks = selectors.verification_by_week(ReportScope(start=datetime.date(2026, 3, 4), end=datetime.date(2026, 3, 22)))
    assert [(w.week.day, w.lookups, w.credential_lookups, w.file_checks) for w in weeks] == [
        (2, 7, 0, 2),
        (9, 0, 0, 0),
        (16, 0, 3, 0),
    ]


def test_reach_counts_the_cohorts_learners_whenever_enrolled(world):
    """Reach is of whole cohorts, never of a movable period: e7 (enrolled before the period) counts.
    Six of Hackney's learners answered (all "prefer not to say"), and one of Newham's, who is not
    counted; the tables come suppressed from reports.selectors_reach."""
    from django.utils import timezone

    from reports.models import EqualityMonitoringAnswers

    for key in ("e1", "e2", "e3", "e4", "e5", "e7", "e8"):
        EqualityMonitoringAnswers.objects.create(
            learner=world[key].learner, consented_at=timezone.now(), answered_at=timezone.now()
        )
    tables = selectors.reach(staff_scope(organisation=world["hackney"]))
    assert {table.question for table in tables} >= {"age_band", "gender", "postcode_district"}
    assert all(table.total_display == "6" for table in tables)


def test_stalled_total_is_counted_in_the_same_query_as_the_list(world, django_assert_num_queries):
    """The list and its total are one query (a window count), the details a second; the total is
    of every stalled learner, not of those listed."""
    with django_assert_num_queries(2):
        first, total = selectors.stalled_learners(staff_scope(), limit=1, today=datetime.date(2026, 4, 10))
    assert [s.learner_name for s in first] == ["Learner e7"] and total == 2
    with django_assert_num_queries(1):
        nobody_listed, total = selectors.stalled_learners(staff_scope(), limit=0, today=datetime.date(2026, 4, 10))
    assert nobody_listed == [] and total == 2


def test_reach_in_one_query_gives_the_same_tables_as_one_query_per_kind(world, django_assert_num_queries):
    """``reach_everything`` adds up the per-district answer counts: the same counts, so the same
    cells hidden, as ``reach_tables`` and ``reach_by_postcode_district`` each give alone."""
    from django.utils import timezone

    from reports.models import EqualityMonitoringAnswers
    from reports.selectors_reach import reach_by_postcode_district, reach_everything, reach_tables

    answers = {
        "e1": {"age_band": "25_34", "gender": "man", "postcode_district": "E8"},
        "e2": {"age_band": "25_34", "gender": "woman", "postcode_district": "E8"},
        "e3": {"age_band": "16_24", "ethnic_group": "white_irish", "postcode_district": "E8"},
        "e4": {"age_band": "25_34", "ethnic_group": "black_african", "postcode_district": "N16"},
        "e5": {"gender": "woman", "postcode_district": "E8"},
        "e7": {"age_band": "25_34", "postcode_district": "E8"},
        "e8": {"gender": "man"},
    }
    for key, given in answers.items():
        EqualityMonitoringAnswers.objects.create(
            learner=world[key].learner, consented_at=timezone.now(), answered_at=timezone.now(), **given
        )
    enrolments = staff_scope().enrolments()
    with django_assert_num_queries(1):
        together = reach_everything(enrolments=enrolments)
    apart = [*reach_tables(enrolments=enrolments), reach_by_postcode_district(enrolments=enrolments)]
    assert [(t.question, t.table.total_display, t.table.displays) for t in together] == [
        (t.question, t.table.total_display, t.table.displays) for t in apart
    ]
    districts = together[-1]
    assert [row.key for row in districts.rows] == ["E8", "other_districts", "not_given"]
    assert districts.table.total == 7
