"""The personal data export beside the JSON (issue 16, item 8): a formula-safe CSV and a readable
PDF with the bundled fonts; only the person's own data."""

import csv
import io
import subprocess

import pytest
from django.urls import reverse

from programmes.services import achievement_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def recorded(enrolment, framework, facilitator, other_learner):
    achievement_record(
        enrolment=enrolment,
        competency=framework["competencies"][0],
        recorded_by=facilitator,
        evidence='=HYPERLINK("http://evil") role play, Ζωή',
    )
    return enrolment


def test_csv_has_every_section_and_is_formula_safe(learner_client, learner, recorded):
    response = learner_client.get(reverse("personal_data_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Section", "Item", "Field", "Value"]
    values = {(r[0], r[2]): r[3] for r in rows[1:]}
    assert values[("Your account", "Full name")] == "Zoë Ó'Brien-Łukasz"
    assert values[("Your account", "Email")] == "learner@example.org"
    assert values[("Your programmes", "Programme")] == "Lived Experience of Poverty"
    evidence = [r[3] for r in rows if r[2].endswith("evidence")]
    assert evidence == ['\'=HYPERLINK("http://evil") role play, Ζωή']  # never a formula
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert "other.learner@example.org" not in response.content.decode("utf-8-sig")


def test_pdf_is_readable_text_with_the_learners_data(learner_client, learner, recorded, tmp_path):
    response = learner_client.get(reverse("personal_data_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    path = tmp_path / "data.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Your data at the Citizen Science Academy" in text
    assert "Zoë Ó'Brien-Łukasz" in text
    assert "Lived Experience of Poverty" in text
    assert "role play, Ζωή" in text  # Greek from the bundled Greek and Cyrillic font
    assert "other.learner@example.org" not in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    listed = fonts.splitlines()[2:]
    assert listed and all("Noto" in line and " yes " in line for line in listed)  # bundled, embedded


def test_profile_offers_all_three(learner_client):
    body = learner_client.get(reverse("profile")).content.decode()
    for name in ("personal_data", "personal_data_csv", "personal_data_pdf"):
        assert f'href="{reverse(name)}"' in body


@pytest.mark.parametrize("name", ["personal_data_csv", "personal_data_pdf"])
def test_anonymous_is_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
