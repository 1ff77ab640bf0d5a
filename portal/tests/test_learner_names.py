"""The partner portal refuses names that would not print honestly, in every way of enrolling: one
learner, several, an upload (its preview and its confirm) (issue 14, item 6)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from academy.models import User
from portal.models import EnrolmentUpload
from programmes.models import Enrolment
from programmes.selectors import enrolment_rows_check
from programmes.services import learners_enrol

from .helpers import csv_file

HOSTILE = ["\u202e\u200b", "\u202eevil", "Ann\u200b", "\u3164", "\u2800", "\u200d", "Ann\u200c", "123"]
PERSIAN = "فرزانه\u200cی رضایی"
BENGALI = "র\u200d্যাব হোসেন"


@pytest.mark.parametrize("name", HOSTILE)
def test_one_learner_form_refuses_a_hostile_name(coordinator_client, cohort, name):
    response = coordinator_client.post(
        reverse("partners:enrol_one", args=[cohort.pk]), {"email": "ann@example.org", "full_name": name}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["full_name"]
    assert not User.objects.filter(email="ann@example.org").exists()


def test_several_learners_form_refuses_a_hostile_name(coordinator_client, cohort):
    data = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "50"}
    data |= {"form-0-email": "ann@example.org", "form-0-full_name": "Ann Example"}
    data |= {"form-1-email": "bob@example.org", "form-1-full_name": "\u202eevil"}
    response = coordinator_client.post(reverse("partners:enrol_several", args=[cohort.pk]), data)
    assert response.status_code == 200
    assert response.context["formset"].forms[1].errors["full_name"]
    assert not Enrolment.objects.exists()


def test_an_upload_lists_each_hostile_name_with_its_row(coordinator_client, cohort):
    rows = [["Email address", "Full name"], *[[f"l{i}@example.org", n] for i, n in enumerate(HOSTILE)]]
    rows += [["persian@example.org", PERSIAN], ["bengali@example.org", BENGALI], ["nfc@example.org", "Rene\u0301e"]]
    response = coordinator_client.post(reverse("partners:enrol_upload", args=[cohort.pk]), {"file": csv_file(rows)})
    assert response.status_code == 302
    pending = EnrolmentUpload.objects.get()
    refused = {r["email"]: r["errors"] for r in pending.rows if r["errors"]}
    assert set(refused) == {f"l{i}@example.org" for i in range(len(HOSTILE))}
    assert all(e[0]["field"] == "full_name" for e in refused.values())
    assert {r["email"]: r["full_name"] for r in pending.valid_rows} == {
        "persian@example.org": PERSIAN,
        "bengali@example.org": BENGALI,
        "nfc@example.org": "Renée",
    }
    page = coordinator_client.get(reverse("partners:enrol_preview", args=[cohort.pk, pending.pk])).content.decode()
    assert "<bdi>" in page  # names shown isolated, so a stored control cannot reorder the page
    coordinator_client.post(reverse("partners:enrol_confirm", args=[cohort.pk, pending.pk]))
    assert User.objects.get(email="nfc@example.org").full_name == "Renée"
    assert User.objects.get(email="persian@example.org").full_name == PERSIAN


def test_the_rows_check_and_the_service_apply_the_same_rule(db, cohort, coordinator):
    checked = enrolment_rows_check(
        cohort=cohort, rows=[{"row": 1, "email": "a@example.org", "full_name": "\u202eevil"}]
    )
    assert "changes the direction of text" in checked[0]["errors"][0]["message"]
    with pytest.raises(ValidationError, match="changes the direction of text"):
        learners_enrol(cohort=cohort, learners=[("a@example.org", "\u202eevil")], enrolled_by=coordinator)
    assert not User.objects.filter(email="a@example.org").exists()
