"""The profile refuses names that would not print honestly, and keeps real ones (issue 14, item 6)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

HOSTILE = ["\u202e\u200b", "\u202eevil", "Zoë\u200b", "\u3164", "\u2800", "\u200d", "Zoë\u200c", "123"]


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_refused_and_the_name_kept(learner_client, learner, name):
    response = learner_client.post(reverse("profile"), {"full_name": name})
    assert response.status_code == 200
    assert response.context["form"].errors["full_name"]
    learner.refresh_from_db()
    assert learner.full_name == "Zoë Ó'Brien-Łukasz"


def test_the_message_says_what_is_wrong(learner_client):
    response = learner_client.post(reverse("profile"), {"full_name": "\u202eevil"})
    (message,) = response.context["form"].errors["full_name"]
    assert "changes the direction of text (U+202E RIGHT-TO-LEFT OVERRIDE)" in message


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("فرزانه\u200cی رضایی", "فرزانه\u200cی رضایی"),  # Persian: ZWNJ between letters
        ("র\u200d্যাব হোসেন", "র\u200d্যাব হোসেন"),  # Bengali: ZWJ before the virama
        ("Rene\u0301e  Dupont", "Renée Dupont"),  # decomposed accent stored composed
    ],
)
def test_real_names_are_saved_normalised(learner_client, learner, typed, stored):
    response = learner_client.post(reverse("profile"), {"full_name": typed})
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.full_name == stored
