"""Signatures that outlive their certificate: with a timestamp authority configured, certificates
are signed PAdES B-LTA and still validate in pyHanko twelve years on, long after the signing
certificate (two years) and the first TSA certificate (ten years) expired, once the daily task
has renewed the archival timestamp chain; a B-B certificate does not.

The PKI (root, intermediate with OCSP, CRLs, a TSA and its successor) is built in-process with
certomancer and served over HTTP from this process (``tests.support.test_pki``); freezegun moves
the clock, and the PKI answers at the frozen time.
"""

import asyncio
import datetime
import hashlib
import io
import time

import pytest
from django.utils import timezone
from freezegun import freeze_time

from certificates import signing
from certificates.models import Certificate
from certificates.rendering import certificate_pdf_render
from certificates.selectors import certificate_by_sha256
from certificates.tasks import archival_timestamps_renew_task
from certificates.tests.samples import certificate_context_sample
from tests.support.test_pki import pki_served

# pyHanko's own long-term tests validate this way: revocation information required, judged
# against the moment of validation (ETSI EN 319 102-1).


def lta_validate(pdf: bytes, trust_root):
    """pyHanko's AdES long-term validation of the certificate's signature, offline (nothing
    fetched: only what the file carries), at the current (possibly frozen) time."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import ades
    from pyhanko.sign.validation.policy_decl import PdfSignatureValidationSpec, SignatureValidationSpec
    from pyhanko_certvalidator import policy_decl
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.registry import SimpleTrustManager

    spec = PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build([trust_root]),
                revinfo_policy=policy_decl.CertRevTrustPolicy(
                    revocation_checking_policy=policy_decl.REQUIRE_REVINFO,
                    freshness_req_type=policy_decl.FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
                ),
            )
        )
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    signature = reader.embedded_regular_signatures[0]
    return asyncio.run(ades.ades_lta_validation(signature, pdf_validation_spec=spec))


def years_later(years: int) -> datetime.datetime:
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(year=now.year + years)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    with pki_served(tmp_path_factory.mktemp("test-pki")) as served:
        yield served


@pytest.fixture(scope="module")
def unsigned_pdf():
    return certificate_pdf_render(certificate_context_sample())


@pytest.fixture
def pki_keys(settings, pki):
    """Sign with the test PKI's signing certificate; no timestamp authority (B-B)."""
    pki.signing_settings(settings)
    settings.CERTIFICATE_TSA_URL = ""
    return pki


@pytest.fixture
def with_tsa(settings, pki_keys):
    settings.CERTIFICATE_TSA_URL = pki_keys.tsa_url
    return pki_keys


def test_without_a_timestamp_authority_certificates_are_b_b_as_before(settings, pki_keys, unsigned_pdf):
    from pyhanko.pdf_utils.reader import PdfFileReader

    assert settings.CERTIFICATE_TSA_URL == ""
    assert signing.signature_level() == "B-B"
    signed = signing.pdf_sign(unsigned_pdf)
    reader = PdfFileReader(io.BytesIO(signed))
    assert len(reader.embedded_signatures) == 1
    assert not reader.embedded_timestamp_signatures
    assert "/DSS" not in reader.root  # no revocation information embedded
    assert "signature_time_stamp_token" not in str(reader.embedded_signatures[0].signer_info["unsigned_attrs"].native)
    check = signing.pdf_signature_check(signed)
    assert check.intact and check.valid and check.trusted and check.whole_file
    assert signing.pdf_signature_level(signed) == "B-B"


def test_the_default_setting_is_no_timestamp_authority():
    from django.conf import settings as default_settings

    assert default_settings.CERTIFICATE_TSA_URL == ""
    assert default_settings.CERTIFICATE_TIMESTAMP_RENEW_DAYS == 365
    schedule = default_settings.CELERY_BEAT_SCHEDULE["certificates-archival-timestamps-renew"]
    assert schedule["task"] == "certificates.tasks.archival_timestamps_renew_task"


def test_with_a_timestamp_authority_certificates_are_b_lta(settings, with_tsa, unsigned_pdf):
    from pyhanko.pdf_utils.reader import PdfFileReader

    assert signing.signature_level() == "B-LTA"
    signed = signing.pdf_sign(unsigned_pdf)
    reader = PdfFileReader(io.BytesIO(signed))
    signature = reader.embedded_regular_signatures[0]
    # B-T: an RFC 3161 signature timestamp from the TSA in the CMS signature.
    unsigned_attributes = [a["type"].native for a in signature.signer_info["unsigned_attrs"]]
    assert "signature_time_stamp_token" in unsigned_attributes
    # B-LT: the document security store carries certificates, OCSP responses and CRLs.
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 3
    assert len(dss["/OCSPs"]) >= 1
    assert len(dss["/CRLs"]) >= 1
    # B-LTA: a document timestamp over everything, by the test TSA.
    (document_timestamp,) = reader.embedded_timestamp_signatures
    assert document_timestamp.signer_cert.subject.native["common_name"] == "Test Timestamp Authority"
    # The site's own check still reads it as one whole, intact, trusted signed file.
    check = signing.pdf_signature_check(signed)
    assert check.intact and check.valid and check.trusted and check.whole_file
    assert signing.pdf_signature_level(signed) == "B-LTA"
    assert signing.pdf_signature_level(unsigned_pdf) == ""
    assert signing.pdf_signature_level(b"%PDF-1.7 nothing") == ""


def test_signing_time_b_b_and_b_lta(settings, with_tsa, unsigned_pdf):
    """Figures only (printed): one signature each way, after a warm-up, the TSA, OCSP responder
    and CRLs served in-process."""
    figures = {}
    for level, url in (("B-B", ""), ("B-LTA", with_tsa.tsa_url)):
        settings.CERTIFICATE_TSA_URL = url
        signing.pdf_sign(unsigned_pdf)
        started = time.perf_counter()
        signed = signing.pdf_sign(unsigned_pdf)
        figures[level] = (time.perf_counter() - started, len(signed))
        assert signing.signature_level() == level
    print(
        "\nsigning one certificate (in-process TSA, OCSP, CRL): "
        + ", ".join(f"{level} {seconds * 1000:.0f} ms, {size // 1024} KB" for level, (seconds, size) in figures.items())
    )
    assert figures["B-LTA"][1] > figures["B-B"][1]  # the timestamps and validation data are in the file


def test_an_appended_change_to_a_b_lta_file_is_not_the_whole_file(with_tsa, unsigned_pdf):
    """Long-term material appended after the signature is accepted as whole; anything else is not."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = signing.pdf_sign(unsigned_pdf)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    info = writer.root
    info["/Lang"] = generic.TextStringObject("fr-FR")
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    check = signing.pdf_signature_check(output.getvalue())
    assert check.intact and check.valid
    assert not check.whole_file


def test_b_lta_validates_twelve_years_on_after_renewal_and_b_b_does_not(settings, with_tsa, unsigned_pdf):
    lta = signing.pdf_sign(unsigned_pdf)
    settings.CERTIFICATE_TSA_URL = ""
    bb = signing.pdf_sign(unsigned_pdf)
    assert with_tsa.expiry("signer") < years_later(3)  # the signing certificate lasts two years
    assert with_tsa.expiry("tsa") < years_later(11)  # the first TSA certificate, ten

    from pyhanko.sign.ades.report import AdESIndeterminate, AdESPassed

    # Today both validate.
    assert lta_validate(lta, with_tsa.root).ades_subindic == AdESPassed.OK

    # A year later nothing is due: the TSA certificate has nine years left.
    settings.CERTIFICATE_TSA_URL = with_tsa.tsa_url
    with freeze_time(years_later(1)):
        assert signing.pdf_archival_timestamp_renew(lta) is None

    # Nine and a half years on the TSA has a new certificate (the operator points CERTIFICATE_TSA_URL at it):
    # the first timestamp's certificate expires within a year, so the chain is renewed.
    settings.CERTIFICATE_TSA_URL = with_tsa.next_tsa_url
    with freeze_time(years_later(9) + datetime.timedelta(days=180)):
        renewed = signing.pdf_archival_timestamp_renew(lta)
    assert renewed is not None
    assert renewed.startswith(lta)  # an incremental update: every byte issued is kept

    # Twelve years on: the signing certificate expired ten years ago, the first TSA's two.
    with freeze_time(years_later(12)):
        result = lta_validate(renewed, with_tsa.root)
        assert result.ades_subindic == AdESPassed.OK, result.ades_subindic
        signed_at = result.best_signature_time
        assert abs(signed_at - datetime.datetime.now(datetime.UTC)) > datetime.timedelta(days=11 * 365)

        # Without renewal the B-LTA file's proof ends with its TSA certificate.
        assert lta_validate(lta, with_tsa.root).ades_subindic != AdESPassed.OK

        # The B-B certificate: intact, but untrusted, its certificate expired with no proof
        # that it existed while the certificate was in date.
        bb_result = lta_validate(bb, with_tsa.root)
        assert bb_result.ades_subindic != AdESPassed.OK
        assert bb_result.api_status.intact and not bb_result.api_status.trusted
        assert bb_result.api_status.trust_problem_indic == AdESIndeterminate.OUT_OF_BOUNDS_NO_POE


def test_renewal_adds_a_document_timestamp(settings, with_tsa, unsigned_pdf):
    from pyhanko.pdf_utils.reader import PdfFileReader

    lta = signing.pdf_sign(unsigned_pdf)
    assert signing.pdf_archival_timestamp_renew(lta) is None  # ten years left: not due
    renewed = signing.pdf_archival_timestamp_renew(lta, within_days=11 * 365)
    before = PdfFileReader(io.BytesIO(lta)).embedded_timestamp_signatures
    after = PdfFileReader(io.BytesIO(renewed)).embedded_timestamp_signatures
    assert len(after) == len(before) + 1 == 2
    assert renewed.startswith(lta)
    check = signing.pdf_signature_check(renewed)
    assert check.intact and check.valid and check.whole_file


def test_b_b_files_and_unreadable_files_are_not_renewed(settings, pki_keys, unsigned_pdf):
    bb = signing.pdf_sign(unsigned_pdf)
    settings.CERTIFICATE_TSA_URL = pki_keys.tsa_url
    assert signing.archival_timestamp_expiry(bb) is None
    assert signing.pdf_archival_timestamp_renew(bb, within_days=100 * 365) is None
    assert signing.pdf_archival_timestamp_renew(b"not a PDF", within_days=100 * 365) is None


def test_a_due_renewal_without_a_timestamp_authority_is_logged_not_raised(settings, with_tsa, unsigned_pdf, caplog):
    lta = signing.pdf_sign(unsigned_pdf)
    settings.CERTIFICATE_TSA_URL = ""
    assert signing.pdf_archival_timestamp_renew(lta, within_days=11 * 365) is None
    assert "no CERTIFICATE_TSA_URL is set" in caplog.text


@pytest.mark.django_db
def test_the_beat_task_renews_issued_certificates_in_storage(settings, with_tsa, completed_certificate):
    """Issued through the service with the TSA configured, the certificate is B-LTA; the task
    rewrites its stored PDF, when due, under the same name."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    assert certificate.status == "issued"
    name = certificate.pdf.name
    with certificate.pdf.open("rb") as stored:
        issued = stored.read()
    assert signing.archival_timestamp_expiry(issued) == with_tsa.expiry("tsa")  # issued B-LTA

    assert archival_timestamps_renew_task.delay().get() == 0  # ten years left: not due
    settings.CERTIFICATE_TIMESTAMP_RENEW_DAYS = 11 * 365  # due now, for the test
    assert archival_timestamps_renew_task.delay().get() == 1
    certificate.refresh_from_db()
    assert certificate.pdf.name == name
    with certificate.pdf.open("rb") as stored:
        renewed = stored.read()
    assert renewed.startswith(issued) and len(renewed) > len(issued)
    assert len(PdfFileReader(io.BytesIO(renewed)).embedded_timestamp_signatures) == 2
    check = signing.pdf_signature_check(renewed)
    assert check.intact and check.valid and check.trusted and check.whole_file
    # The renewed file's hash is recorded, and a copy downloaded before still verifies.
    assert certificate.sha256 == hashlib.sha256(renewed).hexdigest()
    assert certificate_by_sha256(sha256=hashlib.sha256(renewed).hexdigest()) == (certificate, None)
    assert certificate_by_sha256(sha256=hashlib.sha256(issued).hexdigest()) == (certificate, None)


def test_a_renewal_is_not_recorded_over_a_certificate_that_changed_meanwhile(completed_certificate):
    from certificates.services import certificate_pdf_renewal_record

    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    assert not certificate_pdf_renewal_record(certificate_id=certificate.pk, previous_sha256="0" * 64, pdf=b"%PDF-")
    Certificate.objects.filter(pk=certificate.pk).update(status=Certificate.Status.REVOKED, revoked_at=timezone.now())
    assert not certificate_pdf_renewal_record(
        certificate_id=certificate.pk, previous_sha256=certificate.sha256, pdf=b"%PDF-"
    )
    certificate.refresh_from_db()
    assert not certificate.file_renewals.exists()


def test_the_development_key_signs_b_lta_with_a_timestamp_authority(settings, pki, unsigned_pdf):
    """The development CA (``create_signing_key``) names no OCSP responder or CRL: B-LTA signing
    still works, with the timestamps and the TSA's own revocation information."""
    settings.CERTIFICATE_TSA_URL = pki.tsa_url
    settings.CERTIFICATE_TSA_CHAIN = [str(pki.folder / "root.cert.pem")]
    signed = signing.pdf_sign(unsigned_pdf)
    assert signing.pdf_signature_level(signed) == "B-LTA"
    check = signing.pdf_signature_check(signed)
    assert check.intact and check.valid and check.trusted and check.whole_file


@pytest.mark.django_db
def test_one_certificate_that_cannot_be_renewed_does_not_stop_the_others(
    settings, with_tsa, completed_certificate, completed_certificate_other, caplog
):
    missing = Certificate.objects.get(pk=completed_certificate.pk)
    missing.pdf.storage.delete(missing.pdf.name)  # its file lost from storage
    settings.CERTIFICATE_TIMESTAMP_RENEW_DAYS = 11 * 365
    assert archival_timestamps_renew_task.delay().get() == 1
    assert f"Certificate {missing.pk}: could not renew its archival timestamp" in caplog.text
    other = Certificate.objects.get(pk=completed_certificate_other.pk)
    with other.pdf.open("rb") as stored:
        assert signing.pdf_signature_level(stored.read()) == "B-LTA"


def test_a_timestamp_authority_that_cannot_be_reached_is_retried_not_failed(settings, pki_keys, unsigned_pdf):
    import socket

    from certificates.tasks import failure_is_transient

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.CERTIFICATE_TSA_URL = f"http://127.0.0.1:{port}/tsa"
    with pytest.raises(Exception) as raised:
        signing.pdf_sign(unsigned_pdf)
    assert failure_is_transient(raised.value), repr(raised.value)
