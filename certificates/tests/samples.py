"""A certificate's template context without the database (what ``services.certificate_context``
builds from a certificate row), for rendering tests and ``bench/certificates.py``."""

import io
from types import SimpleNamespace

from PIL import Image

from certificates import rendering

SAMPLE_CODE = "7K3QM-2XWPA-9D4FT-HB6RC"
SAMPLE_URL = f"https://academy.example.org/verify/{SAMPLE_CODE}/"


def certificate_context_sample(wording="has shown the competencies of a citizen social scientist", **certificate):
    """The context of a sample certificate; keyword arguments replace the certificate's fields
    (``learner_name``, ``programme_title``, ``competencies`` ...)."""
    fields = {
        "learner_name": "Zoë Ó'Brien-Łukasz",
        "programme_title": "Lived Experience of Poverty",
        "cohort_name": "Hackney spring cohort",
        "partner_name": "Hackney Community Voices",
        "verification_code": SAMPLE_CODE,
        "version": 1,
        "competencies": [{"domain": name} for name in ("Research methods", "Ethics", "Fieldwork", "Communication")],
    }
    return {
        "certificate": SimpleNamespace(**{**fields, **certificate}),
        "wording": wording,
        "signatory_name": "Professor Ada Example",
        "signatory_title": "Director, Citizen Science Academy",
        "signature_uri": "",
        "issued_on": "25 November 2026",
        "verification_url": SAMPLE_URL,
        "qr_uri": rendering.qr_data_uri(SAMPLE_URL),
    }


def learner_certificate_context(learner_name, **certificate):
    """The sample certificate for another learner, with a verification code, address and QR code
    of its own, as each certificate of a cohort has."""
    from certificates.services import verification_code_new

    code = verification_code_new()
    url = f"https://academy.example.org/verify/{code}/"
    context = certificate_context_sample(learner_name=learner_name, verification_code=code, **certificate)
    return {**context, "verification_url": url, "qr_uri": rendering.qr_data_uri(url)}


def signature_uri_sample() -> str:
    """A signature image (a transparent PNG stroke) as the worker prints it."""
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    image.paste((20, 20, 90, 255), (20, 40, 280, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return rendering.signature_uri_cached(("sample",), "signature.png", lambda: io.BytesIO(buffer.getvalue()))


STAND_IN_PDF = b"%PDF-1.7\n% a stand-in for the signed certificate\n"


def issued_certificate_saved(
    enrolment, *, code: str, pdf: bytes = STAND_IN_PDF, file_name: str = "certificate.pdf", **fields
):
    """An issued certificate of ``enrolment`` saved straight to the database with ``pdf`` as its
    file (no rendering or signing): for tests that need one to exist. Needs a database and a
    MEDIA_ROOT; ``fields`` set any other field (e.g. ``credential``)."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from certificates.models import Certificate

    certificate = Certificate(
        enrolment=enrolment,
        verification_code=code,
        status=Certificate.Status.ISSUED,
        learner_name=enrolment.learner.full_name,
        programme_title=enrolment.cohort.programme.title,
        cohort_name=enrolment.cohort.name,
        partner_name=enrolment.cohort.partner.name,
        sha256=hashlib.sha256(pdf).hexdigest(),
        issued_at=timezone.now(),
        **fields,
    )
    certificate.pdf.save(file_name, ContentFile(pdf), save=False)
    certificate.save()
    return certificate
