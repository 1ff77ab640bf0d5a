"""Staff preview a programme's certificate from its admin page (issue 15, item 8): a PDF or a PNG
with sample data (a sample learner; the programme's own title, wording, domains and signatory; a
partner's logo), marked as a sample, drawn without issuing or saving anything. Only staff who may
view the programme see it.

(The certificates app, which draws it, is above this one: certificates are counted through the app
registry, and the PDF read with poppler's tools, so this test imports nothing from it.)"""

import io
import subprocess

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from academy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def preview_url(programme, image_format="pdf"):
    return reverse("admin:programmes_programme_preview", args=[programme.pk, image_format])


def pdf_text(content, tmp_path, *args, tool="pdftotext"):
    path = tmp_path / "preview.pdf"
    path.write_bytes(content)
    command = [tool, *args, str(path)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout


def logo_png(size=(600, 240)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer


@pytest.fixture
def certificates_count():
    certificate = apps.get_model("certificates", "Certificate")
    return certificate.objects.count


def test_staff_preview_the_certificate_as_a_pdf_with_sample_data_and_nothing_is_written(
    client, staff_user, programme, framework, settings, tmp_path, certificates_count, django_assert_max_num_queries
):
    settings.SITE_URL = "https://academy.example.org"
    programme.certificate_wording = "has shown the competencies of a citizen social scientist"
    programme.signatory_name = "Professor Ada Example"
    programme.signatory_title = "Director, Citizen Science Academy"
    programme.save()
    client.force_login(staff_user)
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as queries:
        response = client.get(preview_url(programme))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    # The only write is the session's last-activity bookkeeping, if any; no certificate, no history.
    assert not [sql for sql in writes if "certificates_" in sql or "programmes_" in sql], writes
    assert certificates_count() == 0

    text = " ".join(pdf_text(response.content, tmp_path).split())
    for expected in (
        "Sample Learner",
        "Lived Experience of Poverty",
        "has shown the competencies of a citizen social scientist",
        "Ethics",
        "Research methods",
        "Peer interviewing",
        "Professor Ada Example",
        "Hackney Community Voices",
        "SAMPLE – NOT A CERTIFICATE",
    ):
        assert expected in text, expected
    assert "Pages: 1" in " ".join(pdf_text(response.content, tmp_path, tool="pdfinfo").split())


def test_staff_preview_the_certificate_as_a_png(client, staff_user, programme, framework, certificates_count):
    client.force_login(staff_user)
    response = client.get(preview_url(programme, "png"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "PNG"
        assert image.width > image.height > 700  # A4 landscape at 100 dpi: 1169 x 827
    assert certificates_count() == 0


def test_the_preview_shows_the_partners_logo(client, staff_user, programme, partner, framework, tmp_path):
    client.force_login(staff_user)
    without = pdf_text(client.get(preview_url(programme)).content, tmp_path, "-list", tool="pdfimages").splitlines()
    partner.logo.save("logo.png", logo_png())
    with_logo = pdf_text(client.get(preview_url(programme)).content, tmp_path, "-list", tool="pdfimages").splitlines()
    assert len(with_logo) == len(without) + 1
    assert any(line.split()[3:5] == ["600", "240"] for line in with_logo[2:])


def test_the_change_page_links_to_the_previews(client, staff_user, programme):
    client.force_login(staff_user)
    response = client.get(reverse("admin:programmes_programme_change", args=[programme.pk]))
    assert response.status_code == 200
    assert preview_url(programme, "pdf") in response.text and preview_url(programme, "png") in response.text


def test_only_staff_who_may_view_the_programme_see_the_preview(client, programme):
    response = client.get(preview_url(programme))
    assert response.status_code == 302 and "/login/" in response["Location"]  # signed out

    learner = UserFactory(email="learner@example.org")
    client.force_login(learner)
    response = client.get(preview_url(programme))
    assert response.status_code == 302 and "/login/" in response["Location"]  # not staff

    staff_without = UserFactory(email="helpdesk@example.org", is_staff=True)
    client.force_login(staff_without)
    assert client.get(preview_url(programme)).status_code == 404  # staff, but not for programmes

    staff_without.user_permissions.add(Permission.objects.get(codename="view_programme"))
    client.force_login(staff_without)
    assert client.get(preview_url(programme)).status_code == 200


def test_an_unknown_programme_or_format_is_not_found(client, staff_user, programme):
    client.force_login(staff_user)
    assert (
        client.get(reverse("admin:programmes_programme_preview", args=[programme.pk + 999, "pdf"])).status_code == 404
    )
    assert client.get(reverse("admin:programmes_programme_preview", args=[programme.pk, "svg"])).status_code == 404


def test_wording_too_long_for_the_page_is_explained_not_a_500(client, staff_user, programme, framework):
    programme.certificate_wording = "has shown the competencies of a citizen social scientist " * 80
    programme.save()
    client.force_login(staff_user)
    response = client.get(preview_url(programme), follow=True)
    assert response.redirect_chain[0][0] == reverse("admin:programmes_programme_change", args=[programme.pk])
    assert "could not be previewed" in response.text and "does not fit on one page" in response.text
