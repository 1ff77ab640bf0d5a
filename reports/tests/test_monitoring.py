"""Equality monitoring: asked once, always skippable, consent explicit, answers visible only to the
learner, withdrawal deletes them, included in the data export."""

import pytest
from django.contrib import admin
from django.urls import reverse

from academy import personal_data
from reports import services
from reports.models import (
    PREFER_NOT_TO_SAY,
    EqualityMonitoringAnswers,
    EqualityMonitoringInvitation,
    postcode_district_normalise,
)
from reports.selectors_monitoring import should_ask

QUESTIONS_URL = "reports:equality_questions"
ANSWERS = {
    "age_band": "25_34",
    "gender": "woman",
    "ethnic_group": "black_caribbean",
    "disability": "no",
    "been_to_university": "yes",
    "employment_status": "employed_part_time",
    "postcode_district": "e8 1ab",
}


def answer(client, **changes):
    return client.post(reverse(QUESTIONS_URL), {**ANSWERS, "consent": "on", **changes})


@pytest.fixture
def signed_in(client, enrolment):
    client.force_login(enrolment.learner)
    return client


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("e8 1ab", "E8"), ("E81AB", "E8"), (" sw1a ", "SW1A"), ("SW1A 2AA", "SW1A"), ("m1", "M1"), ("", "")],
)
def test_postcodes_are_cut_to_their_district(typed, stored):
    assert postcode_district_normalise(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "E", "hackney", "E8 1A", "<script>"])
def test_a_postcode_that_is_not_one_is_refused(typed):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        postcode_district_normalise(typed)


def test_the_questions_explain_why_and_consent_is_not_ticked(signed_in):
    html = signed_in.get(reverse(QUESTIONS_URL)).content.decode()
    assert "Why we ask, and who sees what" in html
    assert "Prefer not to say" in html and "Skip these questions" in html
    consent = html[html.index('name="consent"') - 200 : html.index('name="consent"') + 200]
    assert "checked" not in consent


def test_answering_with_consent_stores_the_answers_apart(signed_in, enrolment):
    response = answer(signed_in)
    assert response.status_code == 302
    row = EqualityMonitoringAnswers.objects.get(learner=enrolment.learner)
    assert (row.gender, row.ethnic_group, row.postcode_district) == ("woman", "black_caribbean", "E8")
    assert row.consented_at and row.answered_at
    assert EqualityMonitoringInvitation.objects.get(learner=enrolment.learner).outcome == "answered"
    assert not should_ask(enrolment.learner)


def test_without_consent_nothing_is_stored(signed_in, enrolment):
    response = signed_in.post(reverse(QUESTIONS_URL), ANSWERS)
    assert response.status_code == 200
    assert "Tick the box to agree" in response.content.decode()
    assert not EqualityMonitoringAnswers.objects.exists()
    with pytest.raises(ValueError):
        services.equality_answers_save(learner=enrolment.learner, answers={}, consent=False)


def test_unanswered_questions_are_prefer_not_to_say(signed_in, enrolment):
    answer(signed_in, gender="", ethnic_group="", postcode_district="")
    row = EqualityMonitoringAnswers.objects.get()
    assert row.gender == row.ethnic_group == row.postcode_district == PREFER_NOT_TO_SAY


def test_a_bad_answer_is_refused_and_loses_nothing(signed_in):
    response = answer(signed_in, postcode_district="not a postcode", age_band="200")
    assert response.status_code == 200
    html = response.content.decode()
    assert "first part of your postcode" in html
    assert not EqualityMonitoringAnswers.objects.exists()


def test_skipping_is_recorded_and_the_prompt_goes(signed_in, enrolment):
    home = signed_in.get(reverse("home")).content.decode()
    assert "Help us see who our programmes reach" in home
    response = signed_in.post(reverse(QUESTIONS_URL), {"skip": "1"})
    assert response.status_code == 302
    assert EqualityMonitoringInvitation.objects.get(learner=enrolment.learner).outcome == "skipped"
    assert not EqualityMonitoringAnswers.objects.exists()
    home = signed_in.get(reverse("home")).content.decode()
    assert "Help us see who our programmes reach" not in home
    assert reverse("reports:equality_answers") in home  # they can still answer later


def test_withdrawing_deletes_the_answers_and_is_not_asked_again(signed_in, enrolment):
    answer(signed_in)
    page = signed_in.get(reverse("reports:equality_answers")).content.decode()
    assert "Caribbean" in page and "E8" in page
    response = signed_in.post(reverse("reports:equality_withdraw"))
    assert response.status_code == 302
    assert not EqualityMonitoringAnswers.objects.exists()
    assert EqualityMonitoringInvitation.objects.get(learner=enrolment.learner).outcome == "withdrawn"
    assert not should_ask(enrolment.learner)
    page = signed_in.get(reverse("reports:equality_answers")).content.decode()
    assert "Caribbean" not in page and "withdrew your consent" in page
    answer(signed_in)  # they may choose to answer again
    assert EqualityMonitoringAnswers.objects.filter(learner=enrolment.learner).exists()


def test_withdrawal_is_one_transaction(enrolment, monkeypatch):
    services.equality_answers_save(learner=enrolment.learner, answers={"gender": "man"}, consent=True)

    def broken(**kwargs):
        raise RuntimeError("the outcome could not be written")

    monkeypatch.setattr(services, "_outcome_record", broken)
    with pytest.raises(RuntimeError):
        services.equality_consent_withdraw(learner=enrolment.learner)
    assert EqualityMonitoringAnswers.objects.filter(learner=enrolment.learner).exists()  # rolled back


def test_nobody_else_sees_a_learners_answers(client, enrolment, other_learner, staff_user, coordinator):
    services.equality_answers_save(
        learner=enrolment.learner, answers={"ethnic_group": "white_roma", "postcode_district": "N16"}, consent=True
    )
    for person in (other_learner, staff_user, coordinator):
        client.force_login(person)
        answers_page = client.get(reverse("reports:equality_answers")).content.decode()
        assert "Roma" not in answers_page and "N16" not in answers_page
        questions_page = client.get(reverse(QUESTIONS_URL)).content.decode()
        assert "N16" not in questions_page and 'value="white_roma" selected' not in questions_page
        assert client.get(reverse("personal_data")).json()["equality_monitoring"]["answers"] is None
        client.post(reverse("reports:equality_withdraw"))  # withdraws their own, never hers
    assert EqualityMonitoringAnswers.objects.filter(learner=enrolment.learner).exists()


def test_the_answers_have_no_admin_page():
    assert EqualityMonitoringAnswers not in admin.site._registry
    assert EqualityMonitoringInvitation not in admin.site._registry


def test_the_data_export_includes_the_answers(signed_in, enrolment):
    answer(signed_in)
    section = signed_in.get(reverse("personal_data")).json()["equality_monitoring"]
    assert section["answers"]["ethnic_group"] == "black_caribbean"
    assert section["answers"]["postcode_district"] == "E8"
    assert section["asked"]["outcome"] == "answered"
    assert "equality_monitoring" in personal_data.collect(enrolment.learner)
    csv_text = signed_in.get(reverse("personal_data_csv")).content.decode()
    assert "black_caribbean" in csv_text
    assert signed_in.get(reverse("personal_data_pdf")).status_code == 200


def test_should_ask_costs_one_query(enrolment, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert should_ask(enrolment.learner)
