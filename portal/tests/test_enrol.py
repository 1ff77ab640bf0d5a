"""Enrolling learners: upload → preview → confirm, each refusal by row, all or nothing, one
learner and several by form, and query counts that do not grow with the number of rows."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academy.models import User
from academy.tests.factories import UserFactory
from portal.models import EnrolmentUpload
from programmes.models import Enrolment, Programme
from programmes.services import learners_enrol
from programmes.tests.factories import CohortFactory, EnrolmentFactory

from .helpers import csv_file, learners, xlsx_file

HEADER = ["Email address", "Full name"]


def upload(client, cohort, uploaded):
    return client.post(reverse("partners:enrol_upload", args=[cohort.pk]), {"file": uploaded})


def upload_rows(client, cohort, rows) -> EnrolmentUpload:
    response = upload(client, cohort, csv_file([HEADER, *rows]))
    assert response.status_code == 302, response.content.decode()[:2000]
    return EnrolmentUpload.objects.get()


def errors_by_row(pending: EnrolmentUpload) -> dict[int, list[str]]:
    return {r["row"]: [e["message"] for e in r["errors"]] for r in pending.rows if r["errors"]}


def confirm(client, cohort, pending):
    return client.post(reverse("partners:enrol_confirm", args=[cohort.pk, pending.pk]))


# --- The preview and its refusals, one test per refusal ----------------------------------------


def test_upload_shows_a_preview_and_writes_nothing(coordinator_client, cohort):
    pending = upload_rows(coordinator_client, cohort, [["ann@example.org", "Ann Example"]])
    response = coordinator_client.get(reverse("partners:enrol_preview", args=[cohort.pk, pending.pk]))
    assert response.status_code == 200
    assert "1 learner is ready to enrol." in response.content.decode()
    assert not User.objects.filter(email="ann@example.org").exists()
    assert not Enrolment.objects.exists()


def test_missing_name_is_listed_with_its_row(coordinator_client, cohort):
    pending = upload_rows(coordinator_client, cohort, [["ann@example.org", "Ann"], ["bob@example.org", ""]])
    assert errors_by_row(pending) == {
        3: ["The full name is missing. Add the learner’s name as it should appear on their certificate."]
    }


def test_missing_email_is_listed_with_its_row(coordinator_client, cohort):
    pending = upload_rows(coordinator_client, cohort, [["", "Ann Example"]])
    assert errors_by_row(pending) == {2: ["The email address is missing. Add it, or delete this row."]}


def test_malformed_email_is_listed_with_its_row(coordinator_client, cohort):
    pending = upload_rows(coordinator_client, cohort, [["ann@example.org", "Ann"], ["bob@example", "Bob"]])
    assert errors_by_row(pending) == {
        3: [
            "“bob@example” is not a valid email address. Check it for typing mistakes, such as a missing “@” "
            "or “.”, or a space."
        ]
    }


def test_duplicate_within_the_file_names_the_first_row(coordinator_client, cohort):
    rows = [["ann@example.org", "Ann"], ["bob@example.org", "Bob"], ["ANN@example.org ", "Ann again"]]
    pending = upload_rows(coordinator_client, cohort, rows)
    assert errors_by_row(pending) == {
        4: ["This email address is also on row 2. Each learner can be listed only once: delete one of the two rows."]
    }


def test_already_enrolled_in_this_cohort(coordinator_client, cohort, enrolment):
    pending = upload_rows(coordinator_client, cohort, [["bob@example.org", "Bob"], ["Learner@Example.org", "Zoë"]])
    assert errors_by_row(pending) == {3: ["learner@example.org is already in this cohort. Delete this row."]}


def test_already_enrolled_in_this_programme_with_another_organisation(
    coordinator_client, cohort, programme, other_partner
):
    other_cohort = CohortFactory(programme=programme, partner=other_partner, name="Newham autumn")
    EnrolmentFactory(learner__email="taken@example.org", cohort=other_cohort)
    pending = upload_rows(coordinator_client, cohort, [["taken@example.org", "Tam"]])
    message = errors_by_row(pending)[2][0]
    # Nothing about the other organisation, its cohort or the enrolment (issue 14, item 7).
    assert message == (
        "taken@example.org cannot be enrolled in this cohort at the moment. We cannot say why here, because "
        "it concerns the learner’s own record: ask them to contact the Academy, and delete this row to enrol "
        "the others."
    )


def test_withdrawn_learner_can_be_enrolled_again(coordinator_client, cohort, enrolment):
    enrolment.status = Enrolment.Status.WITHDRAWN
    enrolment.save()
    pending = upload_rows(coordinator_client, cohort, [["learner@example.org", "Zoë"]])
    assert errors_by_row(pending) == {}


def test_over_capacity_rows_are_listed(coordinator_client, cohort, enrolment):
    cohort.capacity = 3
    cohort.save()
    pending = upload_rows(coordinator_client, cohort, learners(4))
    message = (
        "No place is left for this learner: the cohort has 3 places, 1 already taken, so only the first 2 "
        "learners in this list fit. Raise the number of places on the cohort, or delete rows."
    )
    assert errors_by_row(pending) == {4: [message], 5: [message]}


def test_rows_with_errors_do_not_take_places(coordinator_client, cohort):
    cohort.capacity = 1
    cohort.save()
    pending = upload_rows(coordinator_client, cohort, [["bad", "Bad"], ["ann@example.org", "Ann"]])
    assert list(errors_by_row(pending)) == [2]


def test_preview_page_lists_rows_to_fix(coordinator_client, cohort):
    pending = upload_rows(coordinator_client, cohort, [["bob@example", "Bob"]])
    page = coordinator_client.get(reverse("partners:enrol_preview", args=[cohort.pk, pending.pk])).content.decode()
    assert "1 row needs attention and will not be enrolled." in page
    assert "“bob@example” is not a valid email address." in page


# --- Whole-file refusals through the page ---------------------------------------------------------


def test_refused_file_shows_the_message_and_stores_nothing(coordinator_client, cohort):
    response = upload(coordinator_client, cohort, csv_file([["Name"], ["Ann"]]))
    assert response.status_code == 200
    assert "We could not find the email address column." in response.content.decode()
    assert not EnrolmentUpload.objects.exists()


def test_too_big_file_refused_through_the_page(coordinator_client, cohort, settings):
    settings.PARTNER_UPLOAD_MAX_BYTES = 100
    response = upload(coordinator_client, cohort, csv_file([HEADER, *learners(10)]))
    assert "the largest we accept is 100\xa0bytes" in response.content.decode()
    assert not EnrolmentUpload.objects.exists()


def test_upload_refused_when_programme_is_not_open(coordinator_client, cohort, programme):
    programme.status = Programme.Status.CLOSED
    programme.save()
    response = upload(coordinator_client, cohort, csv_file([HEADER, *learners(1)]))
    assert response.status_code == 302
    assert not EnrolmentUpload.objects.exists()


# --- Confirming ---------------------------------------------------------------------------------


def test_confirm_enrols_valid_rows_creates_accounts_and_queues_one_invitation_task(
    coordinator_client, cohort, coordinator, captured_invitations
):
    existing = UserFactory(email="known@example.org", full_name="Known Name")
    rows = [["ann@example.org", "Ann Example"], ["KNOWN@example.org", "Other Name"], ["bad", "Bad"]]
    pending = upload_rows(coordinator_client, cohort, rows)
    response = confirm(coordinator_client, cohort, pending)
    assert response.status_code == 302
    enrolments = Enrolment.objects.filter(cohort=cohort).select_related("learner")
    assert {e.learner.email for e in enrolments} == {"ann@example.org", "known@example.org"}
    assert all(e.status == Enrolment.Status.INVITED and e.enrolled_by == coordinator for e in enrolments)
    ann = User.objects.get(email="ann@example.org")
    assert ann.full_name == "Ann Example" and not ann.has_usable_password()
    existing.refresh_from_db()
    assert existing.full_name == "Known Name" and existing.has_usable_password()
    assert Enrolment.history.filter(history_type="+").count() == 2
    assert len(captured_invitations) == 1 and sorted(captured_invitations[0]) == sorted([ann.pk, existing.pk])
    assert not EnrolmentUpload.objects.exists()


def test_invitations_are_recorded_with_the_enrolments_and_queued_after_commit(
    coordinator, cohort, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    from academy import tasks
    from academy.models import Invitation

    queued = []
    monkeypatch.setattr(tasks.invitations_send_task, "apply_async", lambda *a, **k: queued.append(k["args"][0]))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrolments = learners_enrol(cohort=cohort, learners=learners(3), enrolled_by=coordinator)
    assert queued == [] and mailoutbox == []  # nothing is queued or sent inside the transaction
    invitations = list(Invitation.objects.order_by("pk"))
    assert [i.user_id for i in invitations] == [e.learner_id for e in enrolments]
    assert all(i.status == Invitation.Status.PENDING and i.invited_by == coordinator for i in invitations)
    for callback in callbacks:
        callback()
    assert queued == [[i.pk for i in invitations]]  # one chunk (at most INVITATION_CHUNK_SIZE)


def test_confirm_is_all_or_nothing_when_a_row_became_invalid(coordinator_client, cohort, programme, other_partner):
    pending = upload_rows(coordinator_client, cohort, learners(5))
    # Meanwhile another organisation enrols the learner on row 4.
    other_cohort = CohortFactory(programme=programme, partner=other_partner)
    EnrolmentFactory(learner__email="learner2@example.org", learner__full_name="L2", cohort=other_cohort)
    response = confirm(coordinator_client, cohort, pending)
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:enrol_preview", args=[cohort.pk, pending.pk])
    assert not Enrolment.objects.filter(cohort=cohort).exists()
    assert not User.objects.filter(email="learner0@example.org").exists()
    # The preview now shows the row that changed, with its number.
    pending.refresh_from_db()
    assert list(errors_by_row(pending)) == [4]
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Nothing was saved." in page
    assert "learner2@example.org cannot be enrolled in this cohort" in page


def test_confirm_is_all_or_nothing_when_places_were_taken(coordinator_client, cohort):
    cohort.capacity = 3
    cohort.save()
    pending = upload_rows(coordinator_client, cohort, learners(3))
    EnrolmentFactory(cohort=cohort)
    confirm(coordinator_client, cohort, pending)
    assert Enrolment.objects.filter(cohort=cohort).count() == 1


def test_confirm_twice_enrols_once(coordinator_client, cohort):
    pending = upload_rows(coordinator_client, cohort, learners(2))
    confirm(coordinator_client, cohort, pending)
    assert confirm(coordinator_client, cohort, pending).status_code == 404
    assert Enrolment.objects.filter(cohort=cohort).count() == 2


def test_expired_preview_cannot_be_confirmed(coordinator_client, cohort):
    import datetime

    from django.utils import timezone

    pending = upload_rows(coordinator_client, cohort, learners(2))
    EnrolmentUpload.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = coordinator_client.get(reverse("partners:enrol_preview", args=[cohort.pk, pending.pk]))
    assert response["Location"] == reverse("partners:enrol_upload", args=[cohort.pk])
    confirm(coordinator_client, cohort, pending)
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize("make_file", [xlsx_file, lambda rows: csv_file(rows, encoding="cp1252", delimiter=";")])
def test_xlsx_and_excel_csv_go_all_the_way(coordinator_client, cohort, make_file):
    response = upload(coordinator_client, cohort, make_file([["Name", "E-mail"], ["Zoë Ó'Brien", "zoe@example.org"]]))
    assert response.status_code == 302
    confirm(coordinator_client, cohort, EnrolmentUpload.objects.get())
    assert Enrolment.objects.get(cohort=cohort).learner.full_name == "Zoë Ó'Brien"


# --- The service on its own ---------------------------------------------------------------------


def test_learners_enrol_refuses_everything_when_one_is_invalid(coordinator, cohort, enrolment):
    with pytest.raises(ValidationError) as info:
        learners_enrol(
            cohort=cohort,
            learners=[("new@example.org", "New Person"), ("learner@example.org", "Zoë")],
            enrolled_by=coordinator,
        )
    assert info.value.messages == [
        "learner@example.org: learner@example.org is already in this cohort. Delete this row."
    ]
    assert not User.objects.filter(email="new@example.org").exists()


def test_learners_enrol_refuses_a_closed_programme(coordinator, cohort, programme):
    programme.status = Programme.Status.DRAFT
    programme.save()
    with pytest.raises(ValidationError, match="is not open for enrolment"):
        learners_enrol(cohort=cohort, learners=[("new@example.org", "New")], enrolled_by=coordinator)


# --- Query counts do not grow with the number of rows ----------------------------------------


def _count(func):
    with CaptureQueriesContext(connection) as context:
        func()
    return len(context.captured_queries)


def test_preview_and_confirm_queries_do_not_grow_with_rows(client, coordinator, cohort, captured_invitations):
    cohort.capacity = 1000
    cohort.save()
    client.force_login(coordinator)
    counts = {}
    for n, start in ((10, 0), (200, 1000)):
        file = csv_file([HEADER, *learners(n, start=start)])
        upload_count = _count(lambda file=file: upload(client, cohort, file))
        pending = EnrolmentUpload.objects.get()
        preview_url = reverse("partners:enrol_preview", args=[cohort.pk, pending.pk])
        preview_count = _count(lambda url=preview_url: client.get(url))
        confirm_count = _count(lambda p=pending: confirm(client, cohort, p))
        counts[n] = (upload_count, preview_count, confirm_count)
    assert Enrolment.objects.filter(cohort=cohort).count() == 210
    assert counts[10] == counts[200], counts


def test_learners_enrol_queries_do_not_grow(coordinator, cohort, captured_invitations):
    cohort.capacity = 1000
    cohort.save()
    small = _count(lambda: learners_enrol(cohort=cohort, learners=learners(10), enrolled_by=coordinator))
    large = _count(lambda: learners_enrol(cohort=cohort, learners=learners(200, 100), enrolled_by=coordinator))
    # Constant in the number of learners. The rows are checked for the preview's messages, then
    # enrolments_create applies the same rules again, as a whole, under the cohort's lock.
    assert small == large <= 17


# --- One learner, several learners by form -----------------------------------------------------


def test_enrol_one_learner(coordinator_client, cohort, captured_invitations):
    response = coordinator_client.post(
        reverse("partners:enrol_one", args=[cohort.pk]), {"email": "Ann@Example.org", "full_name": "Ann Example"}
    )
    assert response.status_code == 302
    assert Enrolment.objects.get(cohort=cohort).learner.email == "ann@example.org"
    assert len(captured_invitations) == 1


def test_enrol_one_already_enrolled_shows_the_reason(coordinator_client, cohort, enrolment):
    response = coordinator_client.post(
        reverse("partners:enrol_one", args=[cohort.pk]), {"email": "learner@example.org", "full_name": "Zoë"}
    )
    assert response.status_code == 200
    assert "learner@example.org is already in this cohort." in response.content.decode()


def _formset_data(rows, total=5):
    data = {"form-TOTAL_FORMS": str(total), "form-INITIAL_FORMS": "0", "form-MIN_NUM_FORMS": "0"}
    data["form-MAX_NUM_FORMS"] = "50"
    for i, (email, name) in enumerate(rows):
        data[f"form-{i}-email"] = email
        data[f"form-{i}-full_name"] = name
    return data


def test_enrol_several_learners(coordinator_client, cohort, captured_invitations):
    data = _formset_data([("a@example.org", "A Person"), ("b@example.org", "B Person")])
    response = coordinator_client.post(reverse("partners:enrol_several", args=[cohort.pk]), data)
    assert response.status_code == 302
    assert Enrolment.objects.filter(cohort=cohort).count() == 2


def test_enrol_several_duplicate_marks_the_row_and_enrols_nobody(coordinator_client, cohort):
    data = _formset_data([("a@example.org", "A Person"), ("b@example.org", "B"), ("A@example.org", "A again")])
    response = coordinator_client.post(reverse("partners:enrol_several", args=[cohort.pk]), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.forms[2].errors["email"] == [
        "This email address is also on row 1. Each learner can be listed only once: delete one of the two rows."
    ]
    assert not Enrolment.objects.exists()


def test_enrol_several_empty_is_refused(coordinator_client, cohort):
    response = coordinator_client.post(reverse("partners:enrol_several", args=[cohort.pk]), _formset_data([]))
    assert "Fill in at least one learner." in response.content.decode()


def test_template_download(coordinator_client):
    response = coordinator_client.get(reverse("partners:enrol_template"))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").splitlines()[0] == "Email address,Full name"
