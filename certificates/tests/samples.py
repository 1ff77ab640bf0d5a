"""A certificate's template context without the database (what ``services.certificate_context``
builds from a certificate row), for rendering tests and ``bench/certificates.py``."""

from types import SimpleNamespace

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
