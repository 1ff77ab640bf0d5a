"""Signing: pdfsig and pyHanko accept the signature; bad key material fails clearly."""

import subprocess

import pytest
from django.core import mail
from django.core.management import call_command

from certificates import signing
from certificates.keys import development_keys_create
from certificates.models import Certificate
from certificates.services import certificate_issue
from certificates.tests.conftest import PKCS12_PASSPHRASE, complete


def pdfsig(path):
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def test_pdfsig_says_the_signature_is_valid(completed_certificate):
    output = pdfsig(completed_certificate.pdf.path)
    assert "Signature is Valid." in output
    assert "Citizen Science Academy Certificates" in output
    assert "ETSI.CAdES.detached" in output  # PAdES
    assert "Total document signed" in output


def test_pyhanko_validates_the_stored_pdf(completed_certificate):
    data = completed_certificate.pdf.open("rb").read()
    check = signing.pdf_signature_check(data)
    assert check.signed and check.intact and check.valid and check.trusted
    assert "Citizen Science Academy Certificates" in check.signer


def test_pyhanko_sees_a_changed_byte(completed_certificate):
    data = bytearray(completed_certificate.pdf.open("rb").read())
    index = data.index(b"/FlateDecode") + 200  # inside the first content stream (signed range)
    data[index] ^= 0xFF
    check = signing.pdf_signature_check(bytes(data))
    assert check.signed
    assert not (check.intact and check.valid)


def test_sha256_is_stored(completed_certificate):
    import hashlib

    assert completed_certificate.sha256 == hashlib.sha256(completed_certificate.pdf.open("rb").read()).hexdigest()


def test_pkcs12_with_passphrase_signs(settings, signing_key_files, enrolment, framework, facilitator):
    settings.CERTIFICATE_SIGNING_PKCS12 = str(signing_key_files.pkcs12)
    settings.CERTIFICATE_SIGNING_PASSPHRASE = PKCS12_PASSPHRASE
    settings.CERTIFICATE_SIGNING_KEY = "/nonexistent"
    complete(enrolment, framework, facilitator)
    certificate = certificate_issue(certificate_id=Certificate.objects.get(enrolment=enrolment).pk)
    assert certificate.status == Certificate.Status.ISSUED
    assert "Signature is Valid." in pdfsig(certificate.pdf.path)


def _issue_via_task(enrolment, framework, facilitator, capture):
    with capture(execute=True):
        complete(enrolment, framework, facilitator)
    return Certificate.objects.get(enrolment=enrolment)


def test_a_missing_key_fails_the_certificate_with_a_clear_reason(
    settings, tmp_path, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    settings.CERTIFICATE_SIGNING_KEY = str(tmp_path / "nowhere" / "signing-key.pem")
    certificate = _issue_via_task(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.FAILED
    assert "signing key was not found" in certificate.failure_reason
    assert "create_signing_key" in certificate.failure_reason
    assert certificate.attempts == 1
    assert not certificate.pdf and not certificate.sha256
    assert mail.outbox == []


def test_a_wrong_key_fails_the_certificate(
    settings, tmp_path, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    other = development_keys_create(tmp_path / "other")
    settings.CERTIFICATE_SIGNING_KEY = str(other.signing_key)  # not the certificate's key
    certificate = _issue_via_task(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.FAILED
    assert "does not belong to the signing certificate" in certificate.failure_reason


def test_a_wrong_pkcs12_passphrase_fails_the_certificate(
    settings, signing_key_files, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    settings.CERTIFICATE_SIGNING_PKCS12 = str(signing_key_files.pkcs12)
    settings.CERTIFICATE_SIGNING_PASSPHRASE = "not the passphrase"
    certificate = _issue_via_task(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.FAILED
    assert "PKCS#12" in certificate.failure_reason


def test_create_signing_key_writes_a_usable_pair_and_prints_settings(tmp_path, capsys, settings):
    call_command("create_signing_key", "--dir", str(tmp_path / "k"))
    out = capsys.readouterr().out
    assert f"CERTIFICATE_SIGNING_KEY={tmp_path / 'k' / 'signing-key.pem'}" in out
    assert "CERTIFICATE_SIGNING_CERT=" in out and "CERTIFICATE_SIGNING_CHAIN=" in out
    settings.CERTIFICATE_SIGNING_KEY = str(tmp_path / "k" / "signing-key.pem")
    settings.CERTIFICATE_SIGNING_CERT = str(tmp_path / "k" / "signing-cert.pem")
    settings.CERTIFICATE_SIGNING_CHAIN = [str(tmp_path / "k" / "ca-cert.pem")]
    assert signing.signer_get().signing_cert.subject.human_friendly.startswith("Common Name: Citizen Science")
    # Refuses to overwrite; --if-missing is a no-op.
    with pytest.raises(Exception, match="already exists"):
        call_command("create_signing_key", "--dir", str(tmp_path / "k"))
    call_command("create_signing_key", "--dir", str(tmp_path / "k"), "--if-missing")


def _signed_data(pdf: bytes):
    """The CMS SignedData of the first signature in ``pdf``, as asn1crypto sees it."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0].signed_data


def test_the_signature_has_pyhankos_own_signed_attributes(signing_key_files):
    """The certificate is signed by a pyHanko ``Signer`` that only supplies the raw signature
    (``LoadedKeySigner``, the key parsed once), so the signed attributes are the ones pyHanko
    chooses (a timestamp or another CAdES attribute configured later is kept); the signature is
    that of a plain ``signers.sign_pdf`` with pyHanko's own ``SimpleSigner`` on the same key,
    attribute for attribute (only the digest of the signed bytes and the signature value differ)."""
    import io

    from pyhanko.keys import load_certs_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from certificates.rendering import pdf_render

    assert isinstance(signing.signer_get(), signers.Signer)
    assert not isinstance(signing.signer_get(), signers.SimpleSigner)  # which re-parses its key per signature
    pdf = pdf_render("<!doctype html><html lang='en-GB'><title>t</title><p>Zoë</p></html>")
    plain = signers.SimpleSigner.load(
        str(signing_key_files.signing_key),
        str(signing_key_files.signing_cert),
        other_certs=list(load_certs_from_pemder([str(signing_key_files.ca_cert)])),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=signing.SIGNATURE_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    theirs_pdf = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=plain).getvalue()
    ours, theirs = _signed_data(signing.pdf_sign(pdf)).native, _signed_data(theirs_pdf).native
    our_info, their_info = ours.pop("signer_infos")[0], theirs.pop("signer_infos")[0]
    assert ours == theirs  # version, digest algorithms, content info, certificates
    assert our_info.pop("signature") != their_info.pop("signature")
    our_attrs = {a["type"]: a["values"] for a in our_info.pop("signed_attrs")}
    their_attrs = {a["type"]: a["values"] for a in their_info.pop("signed_attrs")}
    assert our_info == their_info  # sid, digest and signature algorithms, no unsigned attributes
    assert set(our_attrs) == set(their_attrs) >= {"content_type", "message_digest", "signing_certificate_v2"}
    assert our_attrs["signing_certificate_v2"] == their_attrs["signing_certificate_v2"]


def test_the_signer_is_loaded_once_per_process():
    assert signing.signer_get() is signing.signer_get()


def test_the_reserved_room_holds_the_signature(signing_key_files):
    """``bytes_reserved`` (saving pyHanko a dry-run signature) is enough: the signature fits, with
    the PDF still valid for pdfsig, and is not absurdly padded."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from certificates.rendering import pdf_render

    signed = signing.pdf_sign(pdf_render("<!doctype html><html lang='en-GB'><title>t</title><p>Zoë</p></html>"))
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    contents = signature.sig_object.raw_get("/Contents")
    used = len(signature.signed_data.dump())
    reserved = signing.signature_bytes_reserved(signing.signer_get()) // 2
    assert used and used <= reserved < used + 8192
    assert len(bytes(contents)) == reserved
