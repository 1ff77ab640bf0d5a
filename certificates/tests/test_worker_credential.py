"""The whole credential path with a REAL Celery worker: a completion yields a PDF that pdfsig
validates, from which pdfdetach extracts a credential that an independent verifier (Digital
Bazaar's, tests/support/verifier.py) accepts, resolving the DID document and the status list from
the live test server; after staff revoke the certificate, the verifier reports it revoked."""

import json
import subprocess

import pytest

from certificates.models import Certificate
from certificates.services import certificate_revoke
from certificates.tests.test_worker import wait_for_status
from programmes.services import achievements_record
from tests.support.verifier import require_verifier, verify_credential

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_issued_certificate_carries_a_credential_the_independent_verifier_accepts_then_sees_revoked(
    celery_worker, live_server, settings, tmp_path, enrolment, framework, facilitator, staff_user
):
    require_verifier()
    settings.SITE_URL = live_server.url  # the worker writes did:web and the status list URL from it
    with celery_worker():
        achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
        certificate = wait_for_status(enrolment, Certificate.Status.ISSUED)
    pdf = certificate.pdf.path
    assert "Signature is Valid." in subprocess.run(["pdfsig", pdf], capture_output=True, text=True).stdout
    extracted = tmp_path / "credential.json"
    subprocess.run(["pdfdetach", "-save", "1", "-o", extracted, pdf], check=True, capture_output=True)
    credential = json.loads(extracted.read_bytes())
    assert credential == certificate.credential

    issued = verify_credential(credential, base_url=live_server.url)
    assert issued["verified"] is True, issued["errors"]
    assert issued["status"]["checked"] is True and issued["status"]["revoked"] is False

    certificate_revoke(certificate=certificate, revoked_by=staff_user, reason="Issued in error.")
    revoked = verify_credential(credential, base_url=live_server.url)
    assert revoked["verified"] is False and revoked["status"]["revoked"] is True
