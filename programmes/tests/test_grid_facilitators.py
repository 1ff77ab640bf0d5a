"""The grid for facilitators: the confirmation before undoing achievements, a whole row or column
ticked without JavaScript, the domain filter, one learner's checklist, locked achievements (an
issued certificate, here a lock registered through the registry), the save message, and
bounded queries for render and save."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from academy.tests.factories import UserFactory
from programmes import achievement_locks
from programmes.models import Achievement, Competency, CompetencyDomain, Enrolment
from programmes.services import achievement_record, achievement_remove, cohort_progress_save
from programmes.tests.factories import CohortFactory, EnrolmentFactory

pytestmark = pytest.mark.django_db


def _url(cohort, **query):
    url = reverse("programmes:cohort_progress", args=[cohort.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _checklist(cohort, enrolment):
    return reverse("programmes:learner_checklist", args=[cohort.pk, enrolment.pk])


def _data(ticks, before, **extra):
    data = {"tick": [f"{e.pk}-{c.pk}" for e, c in ticks], "evidence": "", **extra}
    for enrolment, achieved in before.items():
        data[f"before-{enrolment.pk}"] = ",".join(str(c.pk) for c in achieved)
    return data


@pytest.fixture
def facilitator_client(client, facilitator):
    client.force_login(facilitator)
    return client


@pytest.fixture
def other(cohort, other_learner):
    return Enrolment.objects.select_related("learner").get(learner=other_learner, cohort=cohort)


@pytest.fixture
def lock(request):
    """Lock the achievements of the enrolments put in the returned set (the registry's public API,
    as the certificates app uses it for issued certificates)."""
    locked: set[int] = set()
    achievement_locks.lock_register("test", lambda ids: locked & set(ids))
    yield locked
    achievement_locks.lock_unregister("test")


def _record(enrolment, competencies, who):
    for competency in competencies:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=who)


# --- The confirmation before undoing -------------------------------------------------------------


def test_unticking_asks_first_listing_learner_and_competency(
    facilitator_client, facilitator, cohort, enrolment, other, framework
):
    c = framework["competencies"]
    _record(enrolment, c[:2], facilitator)
    _record(other, c[:1], facilitator)
    data = _data(ticks=[(enrolment, c[1]), (enrolment, c[3])], before={enrolment: c[:2], other: c[:1]})
    response = facilitator_client.post(_url(cohort), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Undo 2 achievements?" in body and 'role="alert"' in body and "data-focus-on-load" in body
    # By learner, then competency: the learner's name, then each statement under it.
    for who, statement in [(enrolment.learner.full_name, c[0].statement), (other.learner.full_name, c[0].statement)]:
        assert escape(who) in body and escape(statement) in body
    assert body.index(escape(enrolment.learner.full_name)) < body.rindex(escape(c[0].statement))
    # Nothing is saved yet, not even the new tick.
    assert Achievement.objects.count() == 3
    # The confirmation carries everything needed to save it.
    assert f'name="tick" value="{enrolment.pk}-{c[3].pk}"' in body
    assert f'name="before-{enrolment.pk}" value="{c[0].pk},{c[1].pk}"' in body
    response = facilitator_client.post(_url(cohort), {**data, "confirm": "yes"})
    assert response.status_code == 302
    assert set(Achievement.objects.values_list("enrolment_id", "competency_id")) == {
        (enrolment.pk, c[1].pk),
        (enrolment.pk, c[3].pk),
    }
    page = facilitator_client.get(response["Location"]).content.decode()
    first, second = sorted(
        [
            (enrolment.learner.full_name, "1 achievement recorded and 1 removed"),
            (other.learner.full_name, "1 achievement removed"),
        ]
    )
    assert escape(f"Saved: {first[1]} for {first[0]}, {second[1]} for {second[0]}.") in page


def test_going_back_from_the_confirmation_keeps_the_ticks_unsaved(
    facilitator_client, facilitator, cohort, enrolment, framework
):
    c = framework["competencies"]
    _record(enrolment, c[:1], facilitator)
    data = _data(ticks=[(enrolment, c[4])], before={enrolment: c[:1]}, back="yes")
    response = facilitator_client.post(_url(cohort), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'value="{enrolment.pk}-{c[4].pk}" id="t{enrolment.pk}-{c[4].pk}" checked' in body
    assert f'value="{enrolment.pk}-{c[0].pk}" id="t{enrolment.pk}-{c[0].pk}">' in body  # still unticked
    assert "data-unsaved" in body  # the page warns before leaving
    assert list(Achievement.objects.values_list("competency_id", flat=True)) == [c[0].pk]


def test_ticking_only_saves_without_asking(facilitator_client, cohort, enrolment, framework):
    c = framework["competencies"]
    response = facilitator_client.post(_url(cohort), _data(ticks=[(enrolment, c[0])], before={enrolment: []}))
    assert response.status_code == 302 and Achievement.objects.count() == 1


# --- A whole row or column without JavaScript ------------------------------------------------


def test_tick_row_without_javascript_ticks_the_row_and_saves_nothing(
    facilitator_client, cohort, enrolment, other, framework
):
    data = _data(ticks=[], before={enrolment: [], other: []}, tick_row=str(enrolment.pk))
    body = facilitator_client.post(_url(cohort), data).content.decode()
    assert body.count(f'name="tick" value="{enrolment.pk}-') == 6
    assert body.count(" checked") == 6
    assert "Nothing is saved until you press" in body
    assert not Achievement.objects.exists()


def test_tick_column_without_javascript(facilitator_client, cohort, enrolment, other, framework):
    c = framework["competencies"][2]
    data = _data(ticks=[], before={enrolment: [], other: []}, tick_column=str(c.pk))
    body = facilitator_client.post(_url(cohort), data).content.decode()
    assert f'value="{enrolment.pk}-{c.pk}" id="t{enrolment.pk}-{c.pk}" checked' in body
    assert f'value="{other.pk}-{c.pk}" id="t{other.pk}-{c.pk}" checked' in body
    assert body.count(" checked") == 2
    assert not Achievement.objects.exists()


@pytest.mark.parametrize("field,value", [("tick_row", "999999"), ("tick_column", "x"), ("tick_row", "9" * 40)])
def test_tick_all_with_nonsense_is_a_message(facilitator_client, cohort, enrolment, framework, field, value):
    response = facilitator_client.post(_url(cohort), _data(ticks=[], before={enrolment: []}, **{field: value}))
    assert response.status_code == 200 and "Reload the page" in response.content.decode()


def test_keyboard_and_save_before_the_grid(facilitator_client, cohort, enrolment, framework):
    body = facilitator_client.get(_url(cohort)).content.decode()
    # "Save progress" comes before the first box (reachable without tabbing through the grid).
    assert body.index("Save progress") < body.index('type="checkbox"')
    assert "js/grid.js" in body and "css/grid.css" in body
    assert "arrow keys" in body


# --- Filter by domain -------------------------------------------------------------------------


def test_filter_by_domain(facilitator_client, facilitator, cohort, enrolment, framework):
    ethics = framework["core"][0]
    c = framework["competencies"]
    body = facilitator_client.get(_url(cohort, domain=ethics.pk)).content.decode()
    assert body.count('type="checkbox"') == 2
    assert escape(c[0].statement) in body and escape(c[4].statement) not in body
    assert f'<option value="{ethics.pk}" selected>' in body
    # Saving the filtered grid leaves the other domains' achievements alone.
    _record(enrolment, [c[4]], facilitator)
    response = facilitator_client.post(
        _url(cohort, domain=ethics.pk), _data(ticks=[(enrolment, c[0])], before={enrolment: []})
    )
    assert response.status_code == 302 and response["Location"] == _url(cohort, domain=ethics.pk)
    assert set(Achievement.objects.values_list("competency_id", flat=True)) == {c[0].pk, c[4].pk}


@pytest.mark.parametrize("value", ["nonsense", "999999", "9" * 30, ""])
def test_unknown_domain_shows_every_domain(facilitator_client, cohort, enrolment, framework, value):
    response = facilitator_client.get(_url(cohort, domain=value))
    assert response.status_code == 200 and response.content.decode().count('type="checkbox"') == 6


# --- One learner's checklist -------------------------------------------------------------------


def test_checklist_groups_by_domain_and_saves(facilitator_client, facilitator, cohort, enrolment, framework):
    c = framework["competencies"]
    body = facilitator_client.get(_checklist(cohort, enrolment)).content.decode()
    assert body.count("<legend") == 3 and body.count('type="checkbox"') == 6
    assert body.index("Ethics") < body.index("Research methods") < body.index("Peer interviewing")
    assert f'<label for="t{enrolment.pk}-{c[0].pk}">' in body  # a visible label: a big target
    response = facilitator_client.post(
        _checklist(cohort, enrolment), _data(ticks=[(enrolment, x) for x in c[:2]], before={enrolment: []})
    )
    assert response.status_code == 302 and response["Location"] == _checklist(cohort, enrolment)
    assert Achievement.objects.filter(enrolment=enrolment, recorded_by=facilitator).count() == 2
    # Unticking asks first here too.
    response = facilitator_client.post(
        _checklist(cohort, enrolment), _data(ticks=[(enrolment, c[1])], before={enrolment: c[:2]})
    )
    assert "Undo 1 achievement?" in response.content.decode()


def test_checklist_of_someone_not_in_the_cohort_is_404(facilitator_client, cohort, enrolment, framework):
    elsewhere = EnrolmentFactory()
    assert facilitator_client.get(_checklist(cohort, elsewhere)).status_code == 404
    Enrolment.objects.filter(pk=enrolment.pk).update(
        status=Enrolment.Status.WITHDRAWN, withdrawn_at="2026-01-01T00:00Z"
    )
    assert facilitator_client.get(_checklist(cohort, enrolment)).status_code == 404


@pytest.mark.parametrize("who", ["learner", "other_learner", "coordinator", "viewer", "other_coordinator"])
def test_checklist_others_get_404(client, request, cohort, enrolment, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_checklist(cohort, enrolment)).status_code == 404
    assert client.post(_checklist(cohort, enrolment), {}).status_code == 404


def test_checklist_for_a_facilitator_of_another_cohort_is_404(client, cohort, enrolment):
    other_cohort = CohortFactory()
    someone = UserFactory()
    other_cohort.facilitators.add(someone)
    client.force_login(someone)
    assert client.get(_checklist(cohort, enrolment)).status_code == 404


def test_checklist_posting_another_learners_box_changes_nothing(
    facilitator_client, cohort, enrolment, other, framework
):
    c = framework["competencies"]
    data = _data(ticks=[(other, c[0])], before={enrolment: []})
    data[f"before-{other.pk}"] = ""
    response = facilitator_client.post(_checklist(cohort, enrolment), data)
    assert response.status_code == 200 and "Reload the page" in response.content.decode()
    assert not Achievement.objects.exists()


# --- Locked achievements ---------------------------------------------------------------------


def test_locked_achievements_cannot_be_removed_by_the_service(facilitator, enrolment, framework, lock):
    c = framework["competencies"]
    _record(enrolment, c, facilitator)
    lock.add(enrolment.pk)
    with pytest.raises(ValidationError, match="revoke the certificate first"):
        achievement_remove(enrolment=enrolment, competency=c[0], removed_by=facilitator)
    with pytest.raises(ValidationError, match="revoke the certificate first"):
        cohort_progress_save(
            cohort=enrolment.cohort, ticks=set(), unticks={(enrolment.pk, c[0].pk)}, recorded_by=facilitator
        )
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED and Achievement.objects.count() == 6
    lock.clear()
    assert achievement_remove(enrolment=enrolment, competency=c[0], removed_by=facilitator) is True


def test_locked_row_is_shown_locked_and_still_takes_new_ticks(
    facilitator_client, facilitator, cohort, enrolment, other, framework, lock
):
    c = framework["competencies"]
    _record(enrolment, c[:3], facilitator)
    lock.add(enrolment.pk)
    body = facilitator_client.get(_url(cohort)).content.decode()
    assert body.count(" disabled") == 3  # the three achieved boxes
    assert "Certificate issued: locked" in body and "must first revoke the certificate" in body
    assert body.count('class="grid-lock" aria-hidden="true">locked') == 3
    # A locked box is sent as a hidden tick: saving the page never undoes it by omission.
    assert f'<input type="hidden" name="tick" value="{enrolment.pk}-{c[0].pk}">' in body
    data = _data(ticks=[(enrolment, x) for x in c[:4]], before={enrolment: c[:3], other: []})
    assert facilitator_client.post(_url(cohort), data).status_code == 302
    assert Achievement.objects.filter(enrolment=enrolment).count() == 4
    checklist = facilitator_client.get(_checklist(cohort, enrolment)).content.decode()
    assert checklist.count(" disabled") == 4 and "Certificate issued: locked." in checklist


def test_a_forged_untick_of_a_locked_box_is_refused_through_the_grid(
    facilitator_client, facilitator, cohort, enrolment, framework, lock
):
    c = framework["competencies"]
    _record(enrolment, c, facilitator)
    lock.add(enrolment.pk)
    data = _data(ticks=[(enrolment, x) for x in c[1:]], before={enrolment: c}, confirm="yes")
    response = facilitator_client.post(_url(cohort), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "revoke the certificate first" in body and "There is a problem" in body
    assert Achievement.objects.count() == 6
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED


# --- Bounded queries ---------------------------------------------------------------------------


def _cohort_of(cohort, programme, n_learners, n_competencies):
    from academy.models import User

    domain = CompetencyDomain.objects.create(name=f"Bulk {n_learners}x{n_competencies}", programme=programme)
    competencies = Competency.objects.bulk_create(
        [Competency(domain=domain, statement=f"Bulk statement {i}") for i in range(n_competencies)]
    )
    users = User.objects.bulk_create(
        [User(email=f"bulk{i}@example.org", full_name=f"Bulk learner {i:03d}", password="!") for i in range(n_learners)]
    )
    enrolments = Enrolment.objects.bulk_create(
        [Enrolment(learner=u, cohort=cohort, programme_id=cohort.programme_id, status="active") for u in users]
    )
    return enrolments, competencies


@pytest.mark.parametrize("size", [(2, 3), (40, 30)])
def test_saving_many_boxes_runs_a_bounded_number_of_queries(
    facilitator_client, cohort, programme, size, django_assert_max_num_queries, lock
):
    enrolments, competencies = _cohort_of(cohort, programme, *size)
    # Half of each row ticked (nobody completes: completion is per learner, by design).
    ticks = [(e, c) for e in enrolments for c in competencies[: len(competencies) // 2 + 1]]
    data = _data(ticks=ticks, before={e: [] for e in enrolments}, evidence="Session 3")
    with django_assert_max_num_queries(30):
        response = facilitator_client.post(_url(cohort), data)
    assert response.status_code == 302
    assert Achievement.objects.count() == len(ticks)
    assert Achievement.history.filter(history_type="+").count() == len(ticks)  # audited, in bulk
    assert set(Achievement.objects.values_list("evidence", flat=True)) == {"Session 3"}


@pytest.mark.parametrize("size", [(2, 3), (60, 40)])
def test_grid_and_checklist_render_in_a_bounded_number_of_queries(
    facilitator_client, cohort, programme, size, django_assert_max_num_queries, lock
):
    enrolments, competencies = _cohort_of(cohort, programme, *size)
    lock.add(enrolments[0].pk)
    with django_assert_max_num_queries(9):
        response = facilitator_client.get(_url(cohort))
    assert response.content.decode().count('type="checkbox"') == size[0] * size[1]
    with django_assert_max_num_queries(9):
        assert facilitator_client.get(_checklist(cohort, enrolments[-1])).status_code == 200
