"""Signatories and signature images on certificates: the programme's own, or the Academy's default."""

import base64
import io
import logging
import subprocess

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from certificates import rendering
from certificates.models import Certificate
from certificates.services import certificate_signatory
from certificates.tests.conftest import complete_and_issue

INK = (20, 30, 90)


def signature_png(size=(2000, 600)) -> bytes:
    """A transparent PNG with a blue stroke across it, like a scanned signature."""
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(0, size[1] // 2), (size[0], size[1] // 2)], fill=(*INK, 255), width=size[1] // 10)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def decoded(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_a_transparent_signature_is_flattened_onto_white_and_scaled_down(programme):
    programme.signatory_signature.save("ada.png", ContentFile(signature_png()), save=True)
    image = decoded(rendering.signature_data_uri(programme.signatory_signature))
    assert image.mode == "RGB"  # no alpha channel: WeasyPrint embeds it without a mask
    assert image.size == (900, 270)  # 2000 x 600 scaled to fit SIGNATURE_MAX_SIZE (900 x 300)
    assert image.getpixel((5, 5)) == (255, 255, 255)  # transparent became white
    assert image.getpixel((image.width // 2, image.height // 2)) == INK


def test_the_programmes_signature_is_printed_on_its_certificates(
    programme, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    programme.signatory_signature.save("ada.png", ContentFile(signature_png()), save=True)
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    listing = subprocess.run(
        ["pdfimages", "-list", certificate.pdf.path], capture_output=True, text=True, check=True
    ).stdout
    sizes = {tuple(line.split()[3:5]) for line in listing.splitlines()[2:]}
    assert ("900", "270") in sizes  # the signature, next to the QR code
    assert not any(" smask " in line for line in listing.splitlines())


def test_a_programme_without_a_signatory_uses_the_academys_default(
    settings, tmp_path, programme, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    path = tmp_path / "director.png"
    path.write_bytes(signature_png((600, 200)))
    settings.CERTIFICATE_SIGNATORY_NAME = "Dr Dee Fault"
    settings.CERTIFICATE_SIGNATORY_TITLE = "Director, Citizen Science Academy"
    settings.CERTIFICATE_SIGNATORY_SIGNATURE = str(path)
    programme.signatory_name = programme.signatory_title = ""
    programme.save()
    signatory = certificate_signatory(programme)
    assert signatory["signatory_name"] == "Dr Dee Fault"
    assert signatory["signatory_title"] == "Director, Citizen Science Academy"
    assert decoded(signatory["signature_uri"]).size == (600, 200)
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    text = subprocess.run(["pdftotext", certificate.pdf.path, "-"], capture_output=True, text=True).stdout
    assert "Dr Dee Fault" in text


def test_a_programmes_own_signatory_never_gets_the_default_signature(settings, tmp_path, programme):
    path = tmp_path / "director.png"
    path.write_bytes(signature_png((600, 200)))
    settings.CERTIFICATE_SIGNATORY_NAME = "Dr Dee Fault"
    settings.CERTIFICATE_SIGNATORY_SIGNATURE = str(path)
    signatory = certificate_signatory(programme)  # the programme names Professor Ada Example
    assert signatory["signatory_name"] == "Professor Ada Example"
    assert signatory["signature_uri"] == ""


def test_without_any_signatory_the_academy_signs_by_name_only(settings, programme):
    settings.CERTIFICATE_SIGNATORY_NAME = ""
    settings.CERTIFICATE_SIGNATORY_SIGNATURE = "/nonexistent.png"
    programme.signatory_name = ""
    assert certificate_signatory(programme) == {
        "signatory_name": "Citizen Science Academy",
        "signatory_title": "",
        "signature_uri": "",
    }


def test_a_signature_that_is_not_an_image_is_left_out_with_a_warning(programme, caplog):
    programme.signatory_signature.save("broken.png", ContentFile(b"not an image at all"), save=True)
    with caplog.at_level(logging.WARNING, logger="certificates.rendering"):
        assert rendering.signature_data_uri(programme.signatory_signature) == ""
    assert "could not be read as an image" in caplog.text
