"""The enrolment preview tells a coordinator only what their own organisation may know (issue 14,
item 7): not whether an address has an account (staff or anyone), nothing about other
organisations' enrolments; and confirming stays all or nothing."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from academy.models import User
from academy.tests.factories import UserFactory
from partners.tests.factories import PartnerOrganisationFactory
from portal.models import EnrolmentUpload
from programmes.models import Enrolment
from programmes.tests.factories import CohortFactory, EnrolmentFactory, ProgrammeFactory

from .helpers import csv_file

HEADER = ["Email address", "Full name"]


def _upload(client, cohort, rows) -> EnrolmentUpload:
    response = client.post(reverse("partners:enrol_upload", args=[cohort.pk]), {"file": csv_file([HEADER, *rows])})
    assert response.status_code == 302, response.content.decode()[:2000]
    return EnrolmentUpload.objects.get()


def _preview(client, cohort, pending) -> str:
    response = client.get(reverse("partners:enrol_preview", args=[cohort.pk, pending.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _rows_html(page: str) -> list[str]:
    """Each learner's row of the preview (both tables), as the coordinator's browser gets it."""
    return re.findall(r"<tr[^>]*>\s*<th scope=\"row\">.*?</tr>", page, flags=re.S)


def _anonymised(text: str, rows) -> str:
    """``text`` with each row's email, name and number replaced by the same placeholders."""
    for number, (email, name) in rows:
        text = text.replace(email, "EMAIL").replace(name, "NAME").replace(f">{number}<", ">N<")
    return text


@pytest.fixture
def known_people(staff_user, programme, other_partner):
    """An Academy staff member, a learner of another programme run by another organisation, and
    a person with an account who was never enrolled anywhere."""
    elsewhere = ProgrammeFactory(title="Housing Futures", partners=[other_partner])
    other_cohort = CohortFactory(programme=elsewhere, partner=other_partner, name="Newham autumn")
    learner = EnrolmentFactory(
        learner__email="known.learner@example.org", learner__full_name="Kim Known", cohort=other_cohort
    ).learner
    account = UserFactory(email="has.account@example.org", full_name="Abe Account")
    return {"staff": staff_user, "learner": learner, "account": account}


def test_known_addresses_look_exactly_like_new_ones_in_the_preview(coordinator_client, cohort, known_people):
    known = [
        ("staff@example.org", "Sam Typed"),
        ("known.learner@example.org", "Kim Typed"),
        ("has.account@example.org", "Abe Typed"),
    ]
    new = [("new.one@example.org", "New One"), ("new.two@example.org", "New Two"), ("new.three@example.org", "Nu")]
    rows = [list(person) for person in known + new]
    pending = _upload(coordinator_client, cohort, rows)
    page = _preview(coordinator_client, cohort, pending)

    numbered = list(enumerate(known + new, start=2))
    rendered = [_anonymised(row, [n]) for row, n in zip(_rows_html(page), numbered, strict=True)]
    assert len(set(rendered)) == 1, rendered  # one row looks like every other
    assert "6 learners are ready to enrol." in page
    for fact in ("account", "Account", "staff", "Staff", "Newham", "Housing Futures", "Kim Known", "Abe Account"):
        assert fact not in _anonymised(page.split('id="rows-ready"')[1], numbered)
    # What is kept for the confirm says no more than what is shown.
    assert {tuple(sorted(r)) for r in pending.rows} == {("email", "errors", "full_name", "row")}
    assert all(r["errors"] == [] for r in pending.rows)


def test_an_enrolment_with_another_organisation_is_not_described(coordinator_client, cohort, programme):
    """The programme allows one live enrolment per learner, so the row cannot be enrolled; the
    message is the same whichever organisation and cohort it is, and whatever the enrolment's status."""
    for slug, status, email in (
        ("newham", Enrolment.Status.INVITED, "invited.elsewhere@example.org"),
        ("tower-hamlets", Enrolment.Status.COMPLETED, "completed.elsewhere@example.org"),
    ):
        organisation = PartnerOrganisationFactory(name=f"Org {slug}", slug=slug)
        programme.partner_organisations.add(organisation)
        other = CohortFactory(programme=programme, partner=organisation, name=f"Cohort of {slug}")
        EnrolmentFactory(
            learner__email=email,
            learner__full_name=f"Person {slug}",
            cohort=other,
            status=status,
            completed_at=timezone.now() if status == Enrolment.Status.COMPLETED else None,
        )
    rows = [["invited.elsewhere@example.org", "Ina"], ["completed.elsewhere@example.org", "Coe"]]
    pending = _upload(coordinator_client, cohort, rows)
    page = _preview(coordinator_client, cohort, pending)

    messages = [r["errors"][0]["message"] for r in pending.rows]
    neutral = messages[0].replace("invited.elsewhere", "X")
    assert neutral == messages[1].replace("completed.elsewhere", "X")
    for fact in ("Org ", "Cohort of", "Person ", "organisation", "complet", "invited", str(programme), "account"):
        assert fact not in neutral
    fix_table = page.split('id="rows-with-errors"')[1].split("</table>")[0]
    assert "Org " not in fix_table and "Cohort of" not in fix_table and "Person " not in fix_table
    assert "cannot be enrolled in this cohort" in messages[0]


def test_confirm_enrols_known_and_new_addresses_all_together(coordinator_client, cohort, known_people, mailoutbox):
    rows = [
        ["staff@example.org", "Sam Typed"],
        ["known.learner@example.org", "Kim Typed"],
        ["has.account@example.org", "Abe Typed"],
        ["new.one@example.org", "New One"],
    ]
    pending = _upload(coordinator_client, cohort, rows)
    response = coordinator_client.post(reverse("partners:enrol_confirm", args=[cohort.pk, pending.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:cohort_detail", args=[cohort.pk])
    enrolled = set(Enrolment.objects.filter(cohort=cohort).values_list("learner__email", flat=True))
    assert enrolled == {r[0] for r in rows}
    # Accounts that existed keep their name and their role.
    assert User.objects.get(email="staff@example.org").is_staff
    assert User.objects.get(email="known.learner@example.org").full_name == "Kim Known"
    assert User.objects.get(email="new.one@example.org").full_name == "New One"


def test_confirm_enrols_the_other_rows_and_leaves_the_other_organisations_enrolment(
    coordinator_client, cohort, programme, other_partner
):
    other = CohortFactory(programme=programme, partner=other_partner, name="Newham autumn")
    theirs = EnrolmentFactory(learner__email="taken@example.org", cohort=other)
    status = theirs.status
    pending = _upload(coordinator_client, cohort, [["taken@example.org", "Tam"], ["new.one@example.org", "New One"]])
    response = coordinator_client.post(reverse("partners:enrol_confirm", args=[cohort.pk, pending.pk]))
    assert response.status_code == 302
    assert list(Enrolment.objects.filter(cohort=cohort).values_list("learner__email", flat=True)) == [
        "new.one@example.org"
    ]
    theirs.refresh_from_db()
    assert theirs.cohort_id == other.pk and theirs.status == status


def test_a_change_before_confirming_saves_nothing_and_names_no_other_organisation(
    coordinator_client, cohort, programme, other_partner
):
    pending = _upload(coordinator_client, cohort, [["new.one@example.org", "New One"], ["late@example.org", "Lee"]])
    other = CohortFactory(programme=programme, partner=other_partner, name="Newham autumn")
    EnrolmentFactory(learner__email="late@example.org", learner__full_name="Lee Late", cohort=other)
    response = coordinator_client.post(reverse("partners:enrol_confirm", args=[cohort.pk, pending.pk]), follow=True)
    page = response.content.decode()
    assert "Nothing was saved." in page
    assert not Enrolment.objects.filter(cohort=cohort).exists()
    assert not User.objects.filter(email="new.one@example.org").exists()
    alert = page.split("Nothing was saved.")[1].split("</div>")[0]
    assert "late@example.org cannot be enrolled in this cohort" in alert
    for fact in ("Newham", "Lee Late", "another organisation", str(programme)):
        assert fact not in alert


def test_one_learner_by_form_gets_the_same_answer_for_a_staff_address(coordinator_client, cohort, staff_user):
    url = reverse("partners:enrol_one", args=[cohort.pk])
    answers = []
    for email in ("staff@example.org", "brand.new@example.org"):
        response = coordinator_client.post(url, {"email": email, "full_name": "Typed Name"}, follow=True)
        page = response.content.decode()
        answers.append(re.sub(r"\s+", " ", page.split('class="alert')[1].split("</div>")[0]))
    assert answers[0] == answers[1]
