"""The portal's front page and cohort page: organisations, cohorts and their counts."""

import datetime

from django.urls import reverse

from certificates.models import Certificate
from partners.models import PartnerMembership
from partners.tests.factories import PartnerMembershipFactory, PartnerOrganisationFactory
from programmes.models import Enrolment
from programmes.tests.factories import CohortFactory, EnrolmentFactory


def _certificate(enrolment, status):
    from django.utils import timezone

    return Certificate.objects.create(
        enrolment=enrolment,
        verification_code=f"code-{enrolment.pk}",
        status=status,
        issued_at=timezone.now() if status == "issued" else None,
        sha256="a" * 64 if status == "issued" else "",
    )


def _completed(cohort):
    from django.utils import timezone

    return EnrolmentFactory(cohort=cohort, status=Enrolment.Status.COMPLETED, completed_at=timezone.now())


def test_portal_lists_current_and_past_cohorts_with_counts(client, coordinator, cohort, programme, partner):
    past = CohortFactory(
        programme=programme,
        partner=partner,
        name="Old cohort",
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2020, 3, 1),
    )
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.INVITED)
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.ACTIVE)
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)
    _certificate(_completed(cohort), "issued")
    _certificate(_completed(cohort), "pending")
    client.force_login(coordinator)
    response = client.get(reverse("partners:portal"))
    [entry] = response.context["organisations"]
    assert entry.organisation == partner and entry.role == "coordinator"
    assert entry.current == [cohort] and entry.past == [past]
    counted = entry.current[0]
    assert (counted.n_enrolled, counted.n_active, counted.n_completed, counted.n_certified) == (4, 2, 2, 1)
    assert "Start a new cohort" in response.content.decode()


def test_portal_queries_are_bounded(client, coordinator, partner, programme, django_assert_max_num_queries):
    second = PartnerOrganisationFactory()
    PartnerMembershipFactory(user=coordinator, organisation=second, role=PartnerMembership.Role.VIEWER)
    for org in (partner, second):
        for _ in range(5):
            cohort = CohortFactory(programme=programme, partner=org)
            for _ in range(3):
                EnrolmentFactory(cohort=cohort)
    client.force_login(coordinator)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("partners:portal"))
    roles = {e.organisation: e.role for e in response.context["organisations"]}
    assert roles == {partner: "coordinator", second: "viewer"}
    assert response.content.decode().count("Start a new cohort") == 1


def test_viewer_sees_no_action_buttons(client, viewer, cohort, enrolment):
    client.force_login(viewer)
    page = client.get(reverse("partners:cohort_detail", args=[cohort.pk])).content.decode()
    assert "Zoë Ó&#x27;Brien-Łukasz" in page
    assert "/withdraw/" not in page and "Reinstate" not in page and "Enrol learners" not in page
    assert 'type="checkbox"' not in page


def test_staff_see_every_organisation(client, staff_user, partner, other_partner):
    client.force_login(staff_user)
    response = client.get(reverse("partners:portal"))
    assert {e.organisation for e in response.context["organisations"]} == {partner, other_partner}
    assert all(e.role == "staff" for e in response.context["organisations"])


def test_cohort_page_queries_are_bounded(client, coordinator, cohort, django_assert_max_num_queries):
    for _ in range(20):
        EnrolmentFactory(cohort=cohort, status=Enrolment.Status.INVITED)
    client.force_login(coordinator)
    with django_assert_max_num_queries(7):  # the session, the account, then the page's 5
        client.get(reverse("partners:cohort_detail", args=[cohort.pk]))
