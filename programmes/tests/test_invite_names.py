"""Staff's invitation form and the programme admin's signatory refuse names that would not print
honestly (issue 14, item 6)."""

import pytest
from django.urls import reverse

from academy.models import User
from programmes.admin import ProgrammeAdminForm
from programmes.models import Enrolment

pytestmark = pytest.mark.django_db

HOSTILE = ["\u202e\u200b", "\u202eevil", "Ann\u200b", "\u3164", "\u2800", "\u200d", "Ann\u200c", "123"]


@pytest.mark.parametrize("name", HOSTILE)
def test_cohort_invite_refuses_a_hostile_name(client, staff_user, cohort, name):
    client.force_login(staff_user)
    people = f"Ngozi Adé, ngozi@example.org\n{name}, ann@example.org\n"
    response = client.post(reverse("programmes:cohort_invite", args=[cohort.pk]), {"people": people})
    assert response.status_code == 200
    (message,) = response.context["form"].errors["people"]
    assert message.startswith("Line 2: ")
    assert not User.objects.filter(email__in=["ngozi@example.org", "ann@example.org"]).exists()
    assert not Enrolment.objects.exists()


def test_cohort_invite_keeps_a_persian_name_and_composes_accents(
    client, staff_user, cohort, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    people = "فرزانه\u200cی رضایی, farzaneh@example.org\nRene\u0301e Dupont, renee@example.org"
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("programmes:cohort_invite", args=[cohort.pk]), {"people": people})
    assert response.status_code == 302
    assert User.objects.get(email="farzaneh@example.org").full_name == "فرزانه\u200cی رضایی"
    assert User.objects.get(email="renee@example.org").full_name == "Renée Dupont"


def test_cohort_invite_refuses_a_name_too_long(client, staff_user, cohort):
    client.force_login(staff_user)
    response = client.post(reverse("programmes:cohort_invite", args=[cohort.pk]), {"people": f"{'a' * 201}, a@b.org"})
    assert response.status_code == 200
    assert "longer than 200 characters" in response.context["form"].errors["people"][0]


def test_the_signatory_name_follows_the_rule_and_may_be_blank(programme):
    form = ProgrammeAdminForm(instance=programme, data={"signatory_name": "\u202eevil"})
    assert "signatory_name" in form.errors
    for typed, stored in (("", ""), ("Professor Ada Example", "Professor Ada Example")):
        form = ProgrammeAdminForm(instance=programme, data={"signatory_name": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["signatory_name"] == stored
