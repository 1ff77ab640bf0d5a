"""The backends load the signed-in person with one plain query and still refuse unknown ids,
nonsense ids and inactive accounts."""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY

from academy.auth_backends import AcademyAuthenticationBackend, AcademyModelBackend
from academy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("backend", [AcademyModelBackend, AcademyAuthenticationBackend])
def test_get_user_loads_the_whole_account_in_one_query(backend, django_assert_num_queries):
    person = UserFactory(email="zoe@example.org", full_name="Zoë Ó'Brien-Łukasz", staff=True)
    with django_assert_num_queries(1):
        loaded = backend().get_user(str(person.pk))
        assert (loaded.pk, loaded.email, loaded.full_name, loaded.is_staff) == (
            person.pk,
            "zoe@example.org",
            "Zoë Ó'Brien-Łukasz",
            True,
        )
        assert loaded.get_session_auth_hash() == person.get_session_auth_hash()


def test_get_user_brings_the_organisations_the_person_belongs_to(coordinator, partner, other_partner):
    from django.db import connection

    from partners.models import PartnerMembership

    if connection.vendor != "postgresql":  # CI always has PostgreSQL; SQLite reads the account only
        pytest.skip("the organisations are read with the account on PostgreSQL")
    loaded = AcademyModelBackend().get_user(coordinator.pk)
    assert loaded.partner_organisation_ids == [partner.pk]
    PartnerMembership.objects.create(user=coordinator, organisation=other_partner)
    assert sorted(AcademyModelBackend().get_user(coordinator.pk).partner_organisation_ids) == sorted(
        [partner.pk, other_partner.pk]
    )
    PartnerMembership.objects.filter(user=coordinator).delete()
    assert AcademyModelBackend().get_user(coordinator.pk).partner_organisation_ids == []


@pytest.mark.parametrize("backend", [AcademyModelBackend, AcademyAuthenticationBackend])
def test_get_user_refuses_unknown_nonsense_and_inactive(backend):
    inactive = UserFactory(email="gone@example.org", is_active=False)
    assert backend().get_user(str(inactive.pk)) is None
    assert backend().get_user(str(inactive.pk + 1000)) is None
    assert backend().get_user("1 OR 1=1") is None


def test_a_signed_in_request_uses_the_fast_backend(client):
    person = UserFactory(email="zoe@example.org")
    client.force_login(person)
    assert client.session[BACKEND_SESSION_KEY] == settings.AUTHENTICATION_BACKENDS[0]
    assert client.get("/").context["user"] == person
