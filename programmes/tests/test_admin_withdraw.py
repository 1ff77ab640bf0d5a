"""The enrolments admin asks before withdrawing or reinstating learners: an intermediate page
names each learner and their cohort ("Yes" / "No, go back", no JavaScript needed), and only the
"Yes" changes anything, through ``enrolments_withdraw`` / ``enrolment_reinstate`` (history kept)."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academy.tests.factories import UserFactory
from programmes.models import Enrolment
from programmes.services import achievement_record, enrolment_withdraw
from programmes.tests.factories import CohortFactory, EnrolmentFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:programmes_enrolment_changelist")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _action(client, action, enrolments, *, confirm=False, url=CHANGELIST, follow=False):
    data = {"action": action, "_selected_action": [str(e.pk) for e in enrolments]}
    if confirm:
        data["post"] = "yes"
    return client.post(url, data, follow=follow)


def _texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _statuses(*enrolments):
    return [Enrolment.objects.get(pk=e.pk).status for e in enrolments]


def _posted_ids(html):
    return sorted(int(v) for v in re.findall(r'name="_selected_action" value="(\d+)"', html))


# --- Withdraw -----------------------------------------------------------------------------------


def test_the_withdraw_action_asks_first_naming_each_learner_and_cohort(staff_client, enrolment, other_learner, cohort):
    other = Enrolment.objects.get(learner=other_learner)
    history_before = enrolment.history.count()
    response = _action(staff_client, "withdraw_selected", [enrolment, other])
    assert response.status_code == 200
    assert response.templates[0].name == "admin/programmes/enrolment/withdraw_confirmation.html"
    html = response.content.decode()
    # The question is the page's heading, focusable (the script moves the focus to it).
    assert '<h1 id="confirm-heading" tabindex="-1">Withdraw 2 learners?</h1>' in html
    assert "js/portal-confirm.js" in html
    assert "<bdi>Zoë Ó&#x27;Brien-Łukasz</bdi>" in html and other_learner.full_name in html
    assert html.count("<bdi>Hackney spring cohort</bdi>") == 2
    assert 'value="Yes, withdraw 2 learners"' in html
    assert f'<a href="{CHANGELIST}" class="button cancel-link">No, go back</a>' in html
    # The "Yes" form posts the same action again, confirmed, for exactly these learners.
    assert 'name="action" value="withdraw_selected"' in html and 'name="post" value="yes"' in html
    assert _posted_ids(html) == sorted([enrolment.pk, other.pk])
    # Asking changed nothing.
    assert _statuses(enrolment, other) == ["active", "active"]
    assert enrolment.history.count() == history_before


def test_one_learner_is_named_in_the_question_and_the_button(staff_client, enrolment):
    html = _action(staff_client, "withdraw_selected", [enrolment]).content.decode()
    assert "Withdraw Zoë Ó&#x27;Brien-Łukasz from “Hackney spring cohort”?</h1>" in html
    assert 'value="Yes, withdraw Zoë Ó&#x27;Brien-Łukasz"' in html


def test_yes_withdraws_them_with_history_and_says_how_to_undo(staff_client, staff_user, enrolment, other_learner):
    other = Enrolment.objects.get(learner=other_learner)
    response = _action(staff_client, "withdraw_selected", [enrolment, other], confirm=True)
    assert response.status_code == 302 and response.url == CHANGELIST
    assert _statuses(enrolment, other) == ["withdrawn", "withdrawn"]
    for withdrawn in (enrolment, other):
        latest = withdrawn.history.first()
        assert (latest.status, latest.history_user, latest.history_change_reason) == (
            "withdrawn",
            staff_user,
            "withdrawn",
        )
    (message,) = _texts(response)
    assert message.startswith("Withdrew 2 learners: ")
    assert "Zoë Ó'Brien-Łukasz" in message and other_learner.full_name in message
    assert "“Reinstate the selected learners” undoes this" in message


def test_no_go_back_returns_to_the_list_as_it_was_and_changes_nothing(staff_client, enrolment):
    filtered = f"{CHANGELIST}?status__exact=active"
    html = _action(staff_client, "withdraw_selected", [enrolment], url=filtered).content.decode()
    back = re.search(r'<a href="([^"]+)" class="button cancel-link">No, go back</a>', html).group(1)
    assert back.replace("&amp;", "&") == filtered
    assert f'<form method="post" action="{filtered}">' in html
    page = staff_client.get(back.replace("&amp;", "&"))
    assert page.status_code == 200 and "Zoë Ó&#x27;Brien-Łukasz" in page.content.decode()
    assert _statuses(enrolment) == ["active"]
    assert enrolment.history.first().history_change_reason != "withdrawn"


def test_completed_and_already_withdrawn_learners_are_shown_apart_and_left_alone(
    staff_client, framework, enrolment, other_learner, cohort
):
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=None)
    other = Enrolment.objects.get(learner=other_learner)
    gone = EnrolmentFactory(cohort=cohort, learner__full_name="Gil Gone")
    enrolment_withdraw(enrolment=gone)
    html = _action(staff_client, "withdraw_selected", [enrolment, other, gone]).content.decode()
    assert f"Withdraw {other_learner.full_name} from “Hackney spring cohort”?" in html
    assert "Not withdrawn: they have completed the programme" in html
    assert "Already withdrawn: nothing to do" in html and "Gil Gone" in html
    assert gone.pk not in _posted_ids(html)
    response = _action(staff_client, "withdraw_selected", [enrolment, other, gone], confirm=True)
    messages = _texts(response)
    assert "Zoë Ó'Brien-Łukasz has already completed this programme and cannot be withdrawn." in messages
    assert f"Withdrew 1 learner: {other_learner.full_name}." in messages[-1]
    assert _statuses(enrolment, other, gone) == ["completed", "withdrawn", "withdrawn"]


def test_when_nobody_can_be_withdrawn_the_page_offers_only_going_back(staff_client, enrolment):
    enrolment_withdraw(enrolment=enrolment)
    html = _action(staff_client, "withdraw_selected", [enrolment]).content.decode()
    assert "Nobody here can be withdrawn</h1>" in html
    assert "Yes, withdraw" not in html and "No, go back" in html


def test_learners_of_several_cohorts_are_withdrawn_cohort_by_cohort(staff_client, enrolment, programme, partner):
    elsewhere = EnrolmentFactory(cohort=CohortFactory(programme=programme, partner=partner, name="Leyton cohort"))
    html = _action(staff_client, "withdraw_selected", [enrolment, elsewhere]).content.decode()
    assert "<bdi>Leyton cohort</bdi>" in html and "<bdi>Hackney spring cohort</bdi>" in html
    _action(staff_client, "withdraw_selected", [enrolment, elsewhere], confirm=True)
    assert _statuses(enrolment, elsewhere) == ["withdrawn", "withdrawn"]


# --- Reinstate ----------------------------------------------------------------------------------


def test_the_reinstate_action_asks_first_then_reinstates_with_history(staff_client, staff_user, enrolment):
    enrolment_withdraw(enrolment=enrolment)
    page = _action(staff_client, "reinstate_selected", [enrolment])
    html = page.content.decode()
    assert page.templates[0].name == "admin/programmes/enrolment/reinstate_confirmation.html"
    assert (
        '<h1 id="confirm-heading" tabindex="-1">Reinstate Zoë Ó&#x27;Brien-Łukasz in “Hackney spring cohort”?' in html
    )
    assert 'value="Yes, reinstate Zoë Ó&#x27;Brien-Łukasz"' in html and "No, go back" in html
    assert _statuses(enrolment) == ["withdrawn"]
    response = _action(staff_client, "reinstate_selected", [enrolment], confirm=True)
    assert response.status_code == 302
    assert _statuses(enrolment) == ["active"]
    latest = enrolment.history.first()
    assert (latest.history_user, latest.history_change_reason) == (staff_user, "reinstated")
    assert _texts(response) == ["Zoë Ó'Brien-Łukasz is back in “Hackney spring cohort” (taking part)."]


def test_each_refusal_is_reported_with_its_reason_and_the_others_are_reinstated(
    staff_client, enrolment, other_learner, programme, partner
):
    # Two withdrawn learners in a cohort of one place, plus one who was never withdrawn.
    small = CohortFactory(programme=programme, partner=partner, name="Small cohort", capacity=1)
    first = EnrolmentFactory(cohort=small, learner__full_name="Ada First")
    second = EnrolmentFactory(cohort=small, learner__full_name="Bea Second")
    enrolment_withdraw(enrolment=first)
    enrolment_withdraw(enrolment=second)
    staying = Enrolment.objects.get(learner=other_learner)
    html = _action(staff_client, "reinstate_selected", [first, second, staying]).content.decode()
    assert "Reinstate 2 learners?</h1>" in html
    assert "Not withdrawn: nothing to undo" in html and other_learner.full_name in html
    response = _action(staff_client, "reinstate_selected", [first, second, staying], confirm=True)
    messages = _texts(response)
    assert "Ada First is back in “Small cohort” (taking part)." in messages
    assert (
        "Bea Second cannot be reinstated: all 1 places of “Small cohort” are taken. "
        "Give the cohort more places first, or withdraw someone else." in messages
    )
    assert f"{other_learner.full_name} has not been withdrawn, so there is nothing to undo." in messages
    assert _statuses(first, second, staying) == ["active", "withdrawn", "active"]
    assert second.history.first().history_change_reason == "withdrawn"  # nothing written for her


# --- Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["withdraw_selected", "reinstate_selected"])
def test_people_who_are_not_staff_cannot_reach_the_actions(client, enrolment, coordinator, action):
    if action == "reinstate_selected":
        enrolment_withdraw(enrolment=enrolment)
    before = _statuses(enrolment)
    for user in (None, enrolment.learner, coordinator):
        if user is not None:
            client.force_login(user)
        for confirm in (False, True):
            response = _action(client, action, [enrolment], confirm=confirm)
            assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert _statuses(enrolment) == before


@pytest.mark.parametrize("action", ["withdraw_selected", "reinstate_selected"])
def test_staff_who_may_only_view_enrolments_cannot_run_them(client, enrolment, action):
    if action == "reinstate_selected":
        enrolment_withdraw(enrolment=enrolment)
    before = _statuses(enrolment)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_enrolment"))
    client.force_login(viewer)
    assert action not in client.get(CHANGELIST).content.decode()
    for confirm in (False, True):
        response = _action(client, action, [enrolment], confirm=confirm)
        assert response.status_code == 302 and response.url == CHANGELIST  # "No action selected."
    assert _statuses(enrolment) == before


# --- Queries ------------------------------------------------------------------------------------


def _count(callable_):
    with CaptureQueriesContext(connection) as queries:
        callable_()
    return len(queries)


def test_withdrawing_30_learners_costs_what_withdrawing_3_does(staff_client, programme, partner):
    cohorts = [CohortFactory(programme=programme, partner=partner, capacity=40) for _ in range(2)]
    few = [EnrolmentFactory(cohort=cohorts[0]) for _ in range(3)]
    many = [EnrolmentFactory(cohort=cohorts[1]) for _ in range(30)]
    asks = [_count(lambda group=group: _action(staff_client, "withdraw_selected", group)) for group in (few, many)]
    assert asks[0] == asks[1] <= 12
    does = [
        _count(lambda group=group: _action(staff_client, "withdraw_selected", group, confirm=True))
        for group in (few, many)
    ]
    assert does[0] == does[1] <= 20
    assert {e.status for e in Enrolment.objects.filter(pk__in=[e.pk for e in few + many])} == {"withdrawn"}


def test_30_learners_of_three_cohorts_add_queries_per_cohort_not_per_learner(staff_client, programme, partner):
    cohorts = [CohortFactory(programme=programme, partner=partner, capacity=40) for _ in range(3)]
    one = [EnrolmentFactory(cohort=cohorts[0]) for _ in range(30)]
    three = [EnrolmentFactory(cohort=cohorts[i % 3]) for i in range(30)]
    single = _count(lambda: _action(staff_client, "withdraw_selected", one, confirm=True))
    spread = _count(lambda: _action(staff_client, "withdraw_selected", three, confirm=True))
    assert spread - single <= 2 * 8  # two more cohorts, a handful of queries each


def test_the_reinstate_question_for_30_is_one_page_of_bounded_queries(
    staff_client, programme, partner, django_assert_max_num_queries
):
    cohort = CohortFactory(programme=programme, partner=partner, capacity=40)
    enrolments = [EnrolmentFactory(cohort=cohort) for _ in range(30)]
    for enrolment in enrolments:
        enrolment_withdraw(enrolment=enrolment)
    with django_assert_max_num_queries(12):
        page = _action(staff_client, "reinstate_selected", enrolments)
    assert "Reinstate 30 learners?" in page.content.decode()
    # Reinstating is the service's work for each learner (it locks the cohort, counts its places and
    # applies the completion rule: 12 queries today); the admin adds nothing per learner on top.
    one = _count(lambda: _action(staff_client, "reinstate_selected", enrolments[:1], confirm=True))
    the_rest = _count(lambda: _action(staff_client, "reinstate_selected", enrolments[1:], confirm=True))
    assert the_rest - one <= 28 * 13
    assert {e.status for e in Enrolment.objects.filter(pk__in=[e.pk for e in enrolments])} == {"active"}
