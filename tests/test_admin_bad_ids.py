"""Crafted ids in the staff admin get a page with a message, never a 500 (``academy.admin_base``).

Three places took an id straight to a query: django-simple-history's history pages (the id in the
URL), the actions on every changelist (the selected ids in the POST) and the autocomplete fields
of a form shown again with its errors (the raw value in the POST).
"""

from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site
from django.test import Client
from django.urls import reverse

from academy.admin_base import SafeAdminMixin
from academy.models import User
from academy.tests.factories import UserFactory
from partners.models import PartnerOrganisation
from partners.tests.factories import PartnerOrganisationFactory
from programmes.models import Cohort, CompetencyDomain, Programme
from programmes.tests.factories import CohortFactory, ProgrammeFactory

BAD_IDS = ["abc", "\x00", "x" * 3000, "Zoë-名前-🙂-\u202e"]


@pytest.fixture
def staff_client(db):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(email="root@example.org", full_name="Rita Root", staff=True))
    return client


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- History pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=["abc", "nul", "long", "unicode"])
def test_history_of_an_id_that_is_not_one_goes_back_to_the_list_with_a_message(staff_client, bad_id):
    response = staff_client.get(f"/admin/programmes/cohort/{quote(bad_id, safe='')}/history/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [(url(Cohort, "changelist"), 302)]
    assert any("There is no cohort with the ID" in message for message in messages_of(response))


def test_history_of_a_real_and_of_a_deleted_object_still_shows(staff_client):
    cohort = CohortFactory(name="Spring moths")
    assert staff_client.get(url(Cohort, "history", cohort.pk)).status_code == 200

    partner = PartnerOrganisationFactory(name="Gone Trust")
    partner_id = partner.pk
    partner.delete()
    response = staff_client.get(url(PartnerOrganisation, "history", partner_id))
    assert response.status_code == 200
    assert "Gone Trust" in response.content.decode()


def test_one_historical_version_with_a_crafted_version_id_goes_back_to_the_list(staff_client):
    cohort = CohortFactory()
    response = staff_client.get(f"/admin/programmes/cohort/{cohort.pk}/history/abc/", follow=True)

    assert response.redirect_chain == [(url(Cohort, "changelist"), 302)]
    assert any("There is no cohort with the ID" in message for message in messages_of(response))


# --- Actions ------------------------------------------------------------------------------------

ACTION_MODELS = [User, Group, Site, EmailAddress, PartnerOrganisation, Programme, Cohort, CompetencyDomain]


@pytest.mark.parametrize("model", ACTION_MODELS, ids=[m._meta.label for m in ACTION_MODELS])
def test_an_action_on_ids_that_are_not_ids_changes_nothing_and_says_so(staff_client, model):
    count = model._default_manager.count()
    changelist = url(model, "changelist")

    response = staff_client.post(
        changelist, {"action": "delete_selected", "index": "0", "_selected_action": ["abc", "\x00"]}, follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain == [(changelist, 302)]
    assert any("Some of the selected items could not be found" in m for m in messages_of(response))
    assert model._default_manager.count() == count


def test_a_confirmed_delete_with_a_crafted_id_among_real_ones_deletes_nothing(staff_client):
    programmes = [ProgrammeFactory(), ProgrammeFactory()]
    changelist = url(Programme, "changelist")

    response = staff_client.post(
        changelist,
        {"action": "delete_selected", "post": "yes", "_selected_action": [programmes[0].pk, "abc", programmes[1].pk]},
        follow=True,
    )

    assert response.redirect_chain == [(changelist, 302)]
    assert any("No items have been changed" in m for m in messages_of(response))
    assert Programme.objects.filter(pk__in=[p.pk for p in programmes]).count() == 2


def test_a_normal_delete_with_real_ids_still_works(staff_client):
    keep, remove = PartnerOrganisationFactory(), PartnerOrganisationFactory()
    changelist = url(PartnerOrganisation, "changelist")

    confirm = staff_client.post(
        changelist, {"action": "delete_selected", "index": "0", "_selected_action": [remove.pk]}
    )
    assert confirm.status_code == 200  # Django's "are you sure?" page
    assert "Are you sure" in confirm.content.decode()

    response = staff_client.post(
        changelist, {"action": "delete_selected", "post": "yes", "_selected_action": [remove.pk]}, follow=True
    )
    assert response.redirect_chain == [(changelist, 302)]
    assert any("Successfully deleted 1" in m for m in messages_of(response))
    assert list(PartnerOrganisation.objects.values_list("pk", flat=True)) == [keep.pk]


# --- Autocomplete fields ------------------------------------------------------------------------


@pytest.mark.parametrize("model", [Cohort, CompetencyDomain], ids=["cohort", "competencydomain"])
@pytest.mark.parametrize(
    ("bad_value", "error"),
    [
        ("abc", "Select a valid choice"),
        ("\x00", "Null characters are not allowed"),
        ("99999999999999999999", "Select a valid choice"),
    ],
    ids=["abc", "nul", "huge"],
)
def test_a_form_with_a_crafted_autocomplete_value_is_shown_again_with_its_error(staff_client, model, bad_value, error):
    count = model.objects.count()

    response = staff_client.post(url(model, "add"), {"name": "Night walks", "programme": bad_value})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert error in " ".join(errors["programme"])
    assert model.objects.count() == count


def test_a_form_shown_again_keeps_a_real_autocomplete_choice(staff_client):
    programme = ProgrammeFactory(title="Moths of the Downs")

    response = staff_client.post(url(Cohort, "add"), {"name": "", "programme": programme.pk})

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    page = response.content.decode()
    assert f'<option value="{programme.pk}" selected>Moths of the Downs' in page


def test_every_admin_of_the_site_refuses_crafted_ids():
    """A new admin class (or a library's) left without the mixin would bring the 500s back."""
    registered = [model for model in apps.get_models() if admin.site.is_registered(model)]

    assert len(registered) > 10
    for model in registered:
        assert isinstance(admin.site.get_model_admin(model), SafeAdminMixin), model._meta.label
