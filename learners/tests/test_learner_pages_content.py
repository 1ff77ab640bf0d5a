"""The learner's own pages (issue 16, item 8): completion date, what is left with what it means and
what to do next, the facilitator's evidence notes, headings in order, the "Invited" help."""

import re

import pytest
from django.urls import reverse

from programmes.models import Enrolment
from programmes.services import achievement_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


def _headings_in_order(body: str) -> None:
    main = body[body.index('<main id="main"') : body.index("</main>")]
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", main)]
    assert levels and levels[0] == 1 and levels.count(1) == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}: {levels}"


def test_enrolment_page_next_steps_descriptions_and_evidence(learner_client, enrolment, framework, facilitator):
    ethics = framework["core"][0]
    ethics.description = "Doing research in a way that respects the people who take part."
    ethics.save()
    first, second = framework["competencies"][:2]
    achievement_record(
        enrolment=enrolment, competency=first, recorded_by=facilitator, evidence="Explained consent in a role play."
    )
    body = learner_client.get(reverse("enrolment_detail", args=[enrolment.pk])).content.decode()
    assert "What to do next" in body
    assert "You have 5 competencies left to show" in body
    assert "Doing research in a way that respects the people who take part." in body
    assert "Your facilitator&#x27;s note:" in body or "Your facilitator's note:" in body
    assert "Explained consent in a role play." in body
    still_to_do = body[body.index(">Still to do</h4>") :]
    assert second.statement in still_to_do
    assert "Next: show this in one of your sessions" in still_to_do
    _headings_in_order(body)


def test_completed_enrolment_shows_the_date(learner_client, enrolment, framework, facilitator):
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    when = enrolment.completed_at.strftime("%-d %B %Y")
    dashboard = learner_client.get("/").content.decode()
    assert f"Completed on {when}" in dashboard
    detail = learner_client.get(reverse("enrolment_detail", args=[enrolment.pk])).content.decode()
    assert re.search(rf"<dt[^>]*>Completed</dt><dd[^>]*>{when}</dd>", detail)
    assert "What to do next" not in detail
    _headings_in_order(detail)
    _headings_in_order(dashboard)


def test_invited_badge_says_what_to_do(learner_client, learner, enrolment, framework):
    Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.INVITED)
    body = learner_client.get("/").content.decode()
    assert "accept your invitation from the email we sent to learner@example.org" in body
    assert f'href="{reverse("invitation_request")}"' in body
    _headings_in_order(body)


def test_active_enrolment_has_no_invitation_help(learner_client, enrolment, framework):
    Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.ACTIVE)
    assert "accept your invitation" not in learner_client.get("/").content.decode()
