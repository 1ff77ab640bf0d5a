"""The facilitator's progress grid: who may see it, saving many ticks at once, undo, completion,
keyboard-usable labels, and a bounded number of queries."""

import pytest
from django.urls import reverse

from academy.tests.factories import UserFactory
from programmes.models import Achievement, Competency, CompetencyDomain, Enrolment
from programmes.services import achievement_record
from programmes.tests.factories import CohortFactory, EnrolmentFactory

pytestmark = pytest.mark.django_db


def _url(cohort):
    return reverse("programmes:cohort_progress", args=[cohort.pk])


def _post(client, cohort, ticks, before, evidence=""):
    """Send the grid as a browser would: every ticked box, and each row's state when drawn."""
    data = {"tick": [f"{e.pk}-{c.pk}" for e, c in ticks], "evidence": evidence}
    for enrolment, achieved in before.items():
        data[f"before-{enrolment.pk}"] = ",".join(str(c.pk) for c in achieved)
    return client.post(_url(cohort), data)


@pytest.fixture
def facilitator_client(client, facilitator):
    client.force_login(facilitator)
    return client


def test_facilitator_sees_learners_by_competencies_with_labels(facilitator_client, cohort, enrolment, framework):
    response = facilitator_client.get(_url(cohort))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<caption" in body
    ethics, methods = framework["core"]
    course = framework["course"][0]
    # Core domains first, then the programme's own.
    assert body.index("Ethics") < body.index("Research methods") < body.index("Peer interviewing")
    first = framework["competencies"][0]
    assert f'for="t{enrolment.pk}-{first.pk}"' in body
    assert f"Zoë Ó&#x27;Brien-Łukasz: {first.statement}" in body
    assert body.count('type="checkbox"') == 6
    assert course.name in body and ethics.name in body and methods.name in body


def test_staff_can_see_any_grid(client, staff_user, cohort, enrolment):
    client.force_login(staff_user)
    assert client.get(_url(cohort)).status_code == 200


@pytest.mark.parametrize("who", ["learner", "other_learner", "coordinator", "viewer", "other_coordinator"])
def test_others_get_404(client, request, cohort, enrolment, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url(cohort)).status_code == 404
    assert client.post(_url(cohort), {"tick": []}).status_code == 404


def test_facilitator_of_another_cohort_gets_404(client, cohort, enrolment):
    other = CohortFactory()
    other_facilitator = UserFactory()
    other.facilitators.add(other_facilitator)
    client.force_login(other_facilitator)
    assert client.get(_url(cohort)).status_code == 404
    assert client.get(_url(other)).status_code == 200


def test_anonymous_is_sent_to_sign_in(client, cohort):
    response = client.get(_url(cohort))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_tick_many_at_once_with_evidence(facilitator_client, facilitator, cohort, enrolment, other_learner, framework):
    other = Enrolment.objects.get(learner=other_learner)
    c = framework["competencies"]
    response = _post(
        facilitator_client,
        cohort,
        ticks=[(enrolment, c[0]), (enrolment, c[1]), (other, c[0])],
        before={enrolment: [], other: []},
        evidence="Role-play interview, session 4",
    )
    assert response.status_code == 302
    achievements = Achievement.objects.filter(enrolment__cohort=cohort)
    assert achievements.count() == 3
    assert {a.recorded_by_id for a in achievements} == {facilitator.pk}
    assert {a.evidence for a in achievements} == {"Role-play interview, session 4"}
    body = facilitator_client.get(_url(cohort)).content.decode()
    # The message names what changed, learner by learner (in the grid's order, by name).
    from django.utils.html import escape

    parts = sorted(
        [(enrolment.learner.full_name, "2 achievements recorded"), (other_learner.full_name, "1 achievement recorded")]
    )
    assert escape("Saved: " + ", ".join(f"{what} for {who}" for who, what in parts) + ".") in body
    assert "Recorded by Fay Facilitator" in body  # who recorded each tick (title and hidden text)
    assert body.count(" checked") == 3


def test_untick_undoes_and_reopens(facilitator_client, facilitator, cohort, enrolment, framework):
    c = framework["competencies"]
    for competency in c:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    # The facilitator unticks the first box: the other five stay ticked. They are asked first.
    response = _post(facilitator_client, cohort, ticks=[(enrolment, x) for x in c[1:]], before={enrolment: c})
    assert response.status_code == 200
    assert "Undo 1 achievement?" in response.content.decode()
    assert Achievement.objects.filter(enrolment=enrolment).count() == 6
    response = facilitator_client.post(
        _url(cohort),
        {
            "tick": [f"{enrolment.pk}-{x.pk}" for x in c[1:]],
            f"before-{enrolment.pk}": ",".join(str(x.pk) for x in c),
            "confirm": "yes",
        },
    )
    assert response.status_code == 302
    assert not Achievement.objects.filter(enrolment=enrolment, competency=c[0]).exists()
    assert Achievement.objects.filter(enrolment=enrolment).count() == 5
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert "no longer complete" in facilitator_client.get(_url(cohort)).content.decode()


def test_last_tick_completes_and_is_shown(facilitator_client, facilitator, cohort, enrolment, framework):
    c = framework["competencies"]
    for competency in c[:5]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)
    response = _post(facilitator_client, cohort, ticks=[(enrolment, x) for x in c], before={enrolment: c[:5]})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    body = facilitator_client.get(_url(cohort)).content.decode()
    assert "has now completed the programme" in body
    assert "Complete</span>" in body
    assert enrolment.certificate.status == "pending"


def test_a_colleagues_tick_made_meanwhile_is_not_undone(facilitator_client, cohort, enrolment, framework):
    c = framework["competencies"]
    colleague = UserFactory()
    # Page drawn with nothing ticked; meanwhile a colleague records c[2].
    achievement_record(enrolment=enrolment, competency=c[2], recorded_by=colleague)
    _post(facilitator_client, cohort, ticks=[(enrolment, c[0])], before={enrolment: []})
    assert set(Achievement.objects.filter(enrolment=enrolment).values_list("competency_id", flat=True)) == {
        c[0].pk,
        c[2].pk,
    }


def test_bad_input_changes_nothing(facilitator_client, cohort, enrolment, framework):
    foreign = EnrolmentFactory()  # someone in another cohort
    c = framework["competencies"]
    data = {"tick": [f"{enrolment.pk}-{c[0].pk}", f"{foreign.pk}-{c[0].pk}"], f"before-{enrolment.pk}": ""}
    response = facilitator_client.post(_url(cohort), data)
    assert response.status_code == 200
    assert "Reload the page" in response.content.decode()
    assert not Achievement.objects.exists()


def test_withdrawn_learner_is_not_in_the_grid(facilitator_client, cohort, enrolment, framework):
    Enrolment.objects.filter(pk=enrolment.pk).update(
        status=Enrolment.Status.WITHDRAWN, withdrawn_at="2026-01-01T00:00Z"
    )
    body = facilitator_client.get(_url(cohort)).content.decode()
    assert "Zoë" not in body


def _learners(cohort, n):
    from academy.models import User

    users = User.objects.bulk_create(
        [User(email=f"grid{n}-{i}@example.org", full_name=f"Learner {i:03d}", password="!") for i in range(n)]
    )
    Enrolment.objects.bulk_create(
        [Enrolment(learner=u, cohort=cohort, programme_id=cohort.programme_id, status="active") for u in users]
    )


def _competencies(programme, n):
    domain = CompetencyDomain.objects.create(name=f"Grid domain {n}", programme=programme)
    return Competency.objects.bulk_create(
        [Competency(domain=domain, statement=f"Grid statement {i}") for i in range(n)]
    )


@pytest.mark.parametrize("n_learners", [5, 300])
def test_grid_queries_do_not_grow_with_learners(
    facilitator_client, cohort, programme, n_learners, django_assert_max_num_queries
):
    _competencies(programme, 10)
    _learners(cohort, n_learners)
    first = Enrolment.objects.filter(cohort=cohort).first()
    Achievement.objects.create(
        enrolment=first, competency=Competency.objects.first(), achieved_on="2026-01-01", recorded_by=UserFactory()
    )
    with django_assert_max_num_queries(8):
        response = facilitator_client.get(_url(cohort))
    assert response.content.decode().count('type="checkbox"') == n_learners * 10


@pytest.mark.parametrize("n_competencies", [10, 150])
def test_grid_queries_do_not_grow_with_competencies(
    facilitator_client, cohort, programme, n_competencies, django_assert_max_num_queries
):
    _competencies(programme, n_competencies)
    _learners(cohort, 5)
    with django_assert_max_num_queries(8):
        response = facilitator_client.get(_url(cohort))
    assert response.content.decode().count('type="checkbox"') == 5 * n_competencies
