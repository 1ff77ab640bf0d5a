"""A partner organisation's logo (issue 15, item 8): uploaded by staff in the admin, checked by its
content and size (PNG or JPEG only, at most 1 MB and 2000 x 2000 pixels; SVG refused), and printed
on the organisation's certificates beside the Academy's crest (tested in
certificates/tests/test_certificate_design.py)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from partners.models import partner_logo_validate

pytestmark = pytest.mark.django_db

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><image href="file:///etc/passwd"/></svg>'
)


def image_bytes(size=(400, 160), kind="PNG", colour=(11, 93, 81)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def upload(data, name="logo.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_a_png_or_jpeg_logo_is_accepted(kind):
    partner_logo_validate(upload(image_bytes(kind=kind)))


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20, "logo.png", "could not be read as a PNG or JPEG"),
        (SVG, "logo.png", "SVG logos are not accepted"),
        (SVG, "logo.svg", "SVG logos are not accepted"),
        (image_bytes(kind="GIF"), "logo.png", "must be a PNG or JPEG image; this file is GIF"),
        (image_bytes(size=(2400, 300)), "logo.png", "2400 × 300 pixels; it may be at most 2000 × 2000"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 1_000_001, "logo.png", "larger than 1 MB"),
        (image_bytes(size=(200, 200))[:60], "logo.png", "could not be read as a PNG or JPEG"),
    ],
    ids=["fake-png", "svg-named-png", "svg", "gif", "too-many-pixels", "too-large", "truncated"],
)
def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused_with_a_message(data, name, message):
    with pytest.raises(ValidationError) as caught:
        partner_logo_validate(upload(data, name))
    assert message in " ".join(caught.value.messages)


def _change(client, partner, logo, *, clear=False):
    data = {
        "name": partner.name,
        "slug": partner.slug,
        "kind": partner.kind,
        "contact_email": partner.contact_email,
        "logo": logo,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **({"logo-clear": "on"} if clear else {}),
    }
    return client.post(reverse("admin:partners_partnerorganisation_change", args=[partner.pk]), data)


def test_staff_upload_a_logo_in_the_admin_and_an_svg_is_refused_there_with_the_message(client, staff_user, partner):
    client.force_login(staff_user)
    response = _change(client, partner, upload(SVG, "logo.svg", "image/svg+xml"))
    assert response.status_code == 200
    assert "SVG logos are not accepted" in response.text
    partner.refresh_from_db()
    assert not partner.logo

    response = _change(client, partner, upload(image_bytes(), "logo.png"))
    assert response.status_code == 302, response.text[:2000]
    partner.refresh_from_db()
    assert partner.logo.name.startswith("partners/logos/hackney-community-voices-")
    with partner.logo.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "PNG"


# That the logo is printed on the partner's certificates (pdfimages counts it): tested where the
# certificates are, in certificates/tests/test_certificate_design.py (this app is below that one).


def test_a_partner_whose_stored_logo_went_missing_is_told_so_and_can_clear_it(client, staff_user, partner):
    from django.core.files.storage import default_storage

    partner.logo.save("logo.png", io.BytesIO(image_bytes()))
    default_storage.delete(partner.logo.name)
    client.force_login(staff_user)
    response = _change(client, partner, "")  # the logo left as it is: it cannot be read any more
    assert response.status_code == 200
    assert "could not be read as a PNG or JPEG image" in response.text

    response = _change(client, partner, "", clear=True)
    assert response.status_code == 302
    partner.refresh_from_db()
    assert not partner.logo
