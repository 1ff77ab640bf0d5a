"""The learner's dashboard at / and their enrolment page: content at 0 %, part way and complete,
certificate states, and nobody else's enrolment."""

import pytest
from django.urls import reverse

from academy.tests.factories import UserFactory
from certificates.models import Certificate
from programmes.models import Enrolment
from programmes.services import achievement_record
from programmes.tests.factories import EnrolmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


def _record(enrolment, competencies, by):
    for c in competencies:
        achievement_record(enrolment=enrolment, competency=c, recorded_by=by)


def test_anonymous_visitor_gets_the_front_page(client):
    body = client.get("/").content.decode()
    assert "Community-based research training" in body
    assert reverse("account_login") in body


def test_dashboard_at_zero(learner_client, enrolment, framework):
    body = learner_client.get("/").content.decode()
    assert "Lived Experience of Poverty" in body
    assert "Hackney spring cohort" in body
    assert "Hackney Community Voices" in body
    assert "Community Centre, High Street" in body
    assert "Taking part" in body
    assert "0 of 6 competencies shown" in body
    assert "0 of 2 competencies" in body  # each domain
    assert '<progress class="academy-progress' in body and 'max="6" value="0"' in body
    assert "Core skills" in body and "Skills for this programme" in body
    assert "6 competencies left to show." in body
    assert "Not yet." in body


def test_dashboard_part_way(learner_client, enrolment, framework, facilitator):
    _record(enrolment, framework["competencies"][:4], facilitator)
    body = learner_client.get("/").content.decode()
    assert "4 of 6 competencies shown" in body
    assert 'max="6" value="4"' in body
    assert "2 of 2 competencies" in body and "0 of 2 competencies" in body
    assert "2 competencies left to show." in body


def test_dashboard_complete_then_certificate_states(learner_client, enrolment, framework, facilitator):
    _record(enrolment, framework["competencies"], facilitator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    body = learner_client.get("/").content.decode()
    assert "6 of 6 competencies shown" in body
    assert "You have shown every competency" in body
    assert "Completed" in body
    assert "Being prepared" in body  # the pending certificate made on completion
    certificate = Certificate.objects.get(enrolment=enrolment)
    Certificate.objects.filter(pk=certificate.pk).update(
        status=Certificate.Status.ISSUED, issued_at="2026-01-05T10:00Z", sha256="a" * 64
    )
    body = learner_client.get("/").content.decode()
    assert "Ready." in body
    assert certificate.verification_code in body
    Certificate.objects.filter(pk=certificate.pk).update(
        status=Certificate.Status.REVOKED, revoked_at="2026-02-01T10:00Z"
    )
    body = learner_client.get("/").content.decode()
    assert "has been revoked" in body


def test_enrolment_page_lists_done_and_left(learner_client, enrolment, framework, facilitator):
    done, left = framework["competencies"][0], framework["competencies"][1]
    _record(enrolment, [done], facilitator)
    body = learner_client.get(reverse("enrolment_detail", args=[enrolment.pk])).content.decode()
    assert "Fay Facilitator" in body  # recorded by
    done_part, left_part = body.split('<h4 class="h6">Still to do</h4>', 1)
    assert done.statement in done_part
    assert left.statement in left_part.split("</ul>")[0]
    assert "1 of 6 competencies shown" in body


@pytest.mark.parametrize(
    "who", ["other_learner", "coordinator", "viewer", "facilitator", "staff_user", "other_coordinator"]
)
def test_nobody_else_sees_a_learners_enrolment(client, request, enrolment, framework, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("enrolment_detail", args=[enrolment.pk])).status_code == 404
    body = client.get("/").content.decode()
    assert enrolment.learner.full_name not in body


def test_anonymous_is_sent_to_sign_in(client, enrolment):
    response = client.get(reverse("enrolment_detail", args=[enrolment.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_and_facilitator_get_their_tools(client, staff_user, facilitator, cohort):
    client.force_login(facilitator)
    body = client.get("/").content.decode()
    assert reverse("programmes:cohort_progress", args=[cohort.pk]) in body
    client.force_login(staff_user)
    body = client.get("/").content.decode()
    assert reverse("admin:index") in body


def test_learner_without_enrolment_is_told_so(client):
    client.force_login(UserFactory())
    assert "not enrolled in a programme yet" in client.get("/").content.decode()


def _many_enrolments(learner, n):
    """n enrolments of ``learner`` in n programmes, each with its own course domain."""
    from programmes.models import Competency, CompetencyDomain
    from programmes.tests.factories import CohortFactory

    for _ in range(n):
        cohort = CohortFactory()
        domain = CompetencyDomain.objects.create(name="Course", programme=cohort.programme)
        Competency.objects.bulk_create([Competency(domain=domain, statement=f"S{i}") for i in range(3)])
        EnrolmentFactory(learner=learner, cohort=cohort)


def _competencies(programme, n):
    from programmes.models import Competency, CompetencyDomain

    domain = CompetencyDomain.objects.create(name=f"Many {n}", programme=programme)
    Competency.objects.bulk_create([Competency(domain=domain, statement=f"Statement {i}") for i in range(n)])


@pytest.mark.parametrize("n_competencies", [10, 150])
def test_dashboard_queries_do_not_grow_with_competencies(
    learner_client, enrolment, programme, n_competencies, django_assert_max_num_queries
):
    _competencies(programme, n_competencies)
    with django_assert_max_num_queries(9):
        response = learner_client.get("/")
    assert f"0 of {n_competencies} competencies shown" in response.content.decode()
    with django_assert_max_num_queries(8):
        learner_client.get(reverse("enrolment_detail", args=[enrolment.pk]))


@pytest.mark.parametrize("n_enrolments", [1, 8])
def test_dashboard_queries_do_not_grow_with_enrolments(
    learner_client, learner, n_enrolments, django_assert_max_num_queries
):
    _many_enrolments(learner, n_enrolments)
    with django_assert_max_num_queries(9):
        response = learner_client.get("/")
    assert response.content.decode().count("enrolment-card") == n_enrolments
