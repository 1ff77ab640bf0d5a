"""Creating and editing cohorts: only the organisation's open programmes, clear messages."""

import datetime

import pytest
from django.urls import reverse

from partners.tests.factories import PartnerOrganisationFactory
from programmes.models import Cohort, Programme
from programmes.tests.factories import EnrolmentFactory, ProgrammeFactory


def data(programme, **overrides):
    values = {
        "programme": programme.pk,
        "name": "Hackney autumn 2026",
        "starts_on": "2026-09-01",
        "ends_on": "2026-11-30",
        "venue": "Bethnal Green Library",
        "capacity": "20",
    }
    values.update(overrides)
    return values


def create(client, partner, **kwargs):
    return client.post(reverse("partners:cohort_create", args=[partner.slug]), data(**kwargs))


def test_coordinator_creates_a_cohort(coordinator_client, partner, programme, coordinator):
    response = create(coordinator_client, partner, programme=programme)
    cohort = Cohort.objects.get(name="Hackney autumn 2026")
    assert response["Location"] == reverse("partners:cohort_detail", args=[cohort.pk])
    assert (cohort.partner, cohort.programme, cohort.capacity, cohort.created_by) == (
        partner,
        programme,
        20,
        coordinator,
    )
    assert cohort.history.first().history_user == coordinator


def test_only_linked_open_programmes_are_offered(coordinator_client, partner, programme, other_partner):
    closed = ProgrammeFactory(title="Closed one", partners=[partner], status=Programme.Status.CLOSED)
    draft = ProgrammeFactory(title="Draft one", partners=[partner], status=Programme.Status.DRAFT)
    unlinked = ProgrammeFactory(title="Someone else's", partners=[other_partner])
    response = coordinator_client.get(reverse("partners:cohort_create", args=[partner.slug]))
    offered = set(response.context["form"].fields["programme"].queryset)
    assert offered == {programme}
    for refused in (closed, draft, unlinked):
        response = create(coordinator_client, partner, programme=refused)
        assert response.status_code == 200
        assert response.context["form"].errors["programme"] == [
            "Select a valid choice. That choice is not one of the available choices."
        ]
    assert not Cohort.objects.exists()


def test_end_before_start_is_refused_with_both_dates(coordinator_client, partner, programme):
    response = create(coordinator_client, partner, programme=programme, starts_on="2026-09-10", ends_on="2026-09-01")
    assert response.context["form"].errors["ends_on"] == [
        "The end date (1 September 2026) is before the start date (10 September 2026). "
        "Choose a date on or after the start."
    ]
    assert not Cohort.objects.exists()


@pytest.mark.parametrize(
    ("capacity", "message"),
    [("0", "A cohort needs at least one place."), ("many", "Enter a whole number, like 20.")],
)
def test_bad_capacity_is_refused(coordinator_client, partner, programme, capacity, message):
    response = create(coordinator_client, partner, programme=programme, capacity=capacity)
    assert response.context["form"].errors["capacity"] == [message]


def test_missing_fields_say_what_to_enter(coordinator_client, partner):
    response = coordinator_client.post(reverse("partners:cohort_create", args=[partner.slug]), {})
    errors = response.context["form"].errors
    assert errors["name"] == ["Give the cohort a name."]
    assert errors["starts_on"] == ["Enter the date of the first session."]


def test_capacity_below_live_enrolments_is_refused(coordinator_client, cohort, programme):
    for _ in range(3):
        EnrolmentFactory(cohort=cohort)
    EnrolmentFactory(cohort=cohort, status="withdrawn")
    url = reverse("partners:cohort_edit", args=[cohort.pk])
    response = coordinator_client.post(url, data(programme, capacity="2"))
    assert response.context["form"].errors["capacity"] == [
        "3 learners are already enrolled, so the cohort needs at least 3 places. "
        "Choose 3 or more, or withdraw learners first."
    ]
    assert coordinator_client.post(url, data(programme, capacity="3")).status_code == 302
    cohort.refresh_from_db()
    assert cohort.capacity == 3


def test_programme_cannot_change_once_learners_are_enrolled(coordinator_client, cohort, partner, enrolment):
    other = ProgrammeFactory(partners=[partner])
    response = coordinator_client.post(reverse("partners:cohort_edit", args=[cohort.pk]), data(other))
    assert response.status_code == 302  # the disabled field keeps the current programme
    cohort.refresh_from_db()
    assert cohort.programme_id != other.pk


def test_edit_keeps_a_programme_that_has_closed(coordinator_client, cohort, programme):
    programme.status = Programme.Status.CLOSED
    programme.save()
    response = coordinator_client.post(
        reverse("partners:cohort_edit", args=[cohort.pk]), data(programme, name="Renamed")
    )
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert cohort.name == "Renamed"


def test_service_rechecks_capacity(coordinator, cohort, programme):
    from django.core.exceptions import ValidationError

    from programmes.services import cohort_update

    EnrolmentFactory(cohort=cohort)
    EnrolmentFactory(cohort=cohort)
    with pytest.raises(ValidationError) as info:
        cohort_update(
            cohort=cohort,
            programme=programme,
            name="x",
            starts_on=datetime.date(2026, 1, 1),
            ends_on=datetime.date(2026, 2, 1),
            venue="",
            capacity=1,
            changed_by=coordinator,
        )
    assert info.value.message_dict["capacity"] == [
        "2 learners are already enrolled, so the cohort needs at least 2 places."
    ]


def test_coordinator_cannot_create_for_another_organisation(coordinator_client, programme):
    stranger = PartnerOrganisationFactory()
    programme.partner_organisations.add(stranger)
    assert create(coordinator_client, stranger, programme=programme).status_code == 404
