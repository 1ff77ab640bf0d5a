"""Signing keys in a PKCS#11 token, against SoftHSM2 (set up by ``tests.support.softhsm``: a
temporary token directory for this module, removed afterwards). The key and certificate files
point nowhere in these tests, so whatever is signed was signed in the token."""

import io
import json
import subprocess
import urllib.request

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.core.management import call_command
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.pkcs11 import PKCS11Signer

from certificates import credentials, pkcs11, signing
from certificates.models import Certificate
from certificates.services import certificate_retry
from certificates.tasks import certificate_issue_task, failure_is_transient
from certificates.tests.conftest import complete, complete_and_issue
from tests.support.softhsm import softhsm_setup, token_settings_use
from tests.support.verifier import require_verifier, verify_credential

TOKEN = "academy-tests"
KEY = "academy-signing"
CREDENTIAL_KEY = "academy-credential"


@pytest.fixture(scope="module")
def softhsm(tmp_path_factory):
    with softhsm_setup(tmp_path_factory.mktemp("softhsm")) as hsm:
        hsm.token_create(TOKEN)
        yield hsm


@pytest.fixture(scope="module")
def token_keys(softhsm, tmp_path_factory):
    """The development keys ``create_signing_key --pkcs11`` would make, and the CA's folder."""
    directory = tmp_path_factory.mktemp("token-ca")
    made = pkcs11.development_token_keys_create(
        softhsm.config(TOKEN), directory=directory, key_label=KEY, credential_key_label=CREDENTIAL_KEY
    )
    return directory, made


@pytest.fixture
def in_token(settings, softhsm, token_keys):
    directory, _made = token_keys
    token_settings_use(
        settings,
        softhsm,
        token_label=TOKEN,
        key_label=KEY,
        credential_key_label=CREDENTIAL_KEY,
        ca_cert=directory / "ca-cert.pem",
    )
    return softhsm


@pytest.fixture
def unsigned_pdf():
    from weasyprint import HTML

    return HTML(string="<h1>Certificate</h1>").write_pdf()


def pdfsig(data: bytes, tmp_path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


def signer_certificate(data: bytes) -> asn1_x509.Certificate:
    return PdfFileReader(io.BytesIO(data), strict=False).embedded_regular_signatures[0].signer_cert


def pem_certificate(path) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(pem.unarmor(path.read_bytes())[2])


def test_the_private_keys_are_in_the_token_and_cannot_leave_it(in_token):
    from pkcs11 import Attribute, ObjectClass

    def keys(session, objects):
        found = {}
        for label in (KEY, CREDENTIAL_KEY):
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            found[label] = (key[Attribute.SENSITIVE], key[Attribute.EXTRACTABLE])
        return found

    assert pkcs11.token_use(keys) == {KEY: (True, False), CREDENTIAL_KEY: (True, False)}


def test_a_pdf_signed_through_the_token_validates_with_pdfsig_and_pyhanko(in_token, token_keys, unsigned_pdf, tmp_path):
    signed = signing.pdf_sign(unsigned_pdf)
    assert isinstance(signing.signer_get(), PKCS11Signer)
    output = pdfsig(signed, tmp_path)
    assert "Signature is Valid." in output and "Total document signed" in output
    assert "ETSI.CAdES.detached" in output
    check = signing.pdf_signature_check(signed)
    assert check.signed and check.intact and check.valid and check.trusted and check.whole_file
    assert "Citizen Science Academy Certificates" in check.signer
    # Signed by the token's certificate (the one create_signing_key stored there), chained to the CA.
    assert signer_certificate(signed).dump() == pem_certificate(token_keys[1].certificate_pem).dump()


def test_the_certificate_may_come_from_the_file_setting_when_the_token_has_none(
    settings, in_token, token_keys, unsigned_pdf
):
    settings.CERTIFICATE_PKCS11_CERT_LABEL = "no-such-certificate"
    settings.CERTIFICATE_SIGNING_CERT = str(token_keys[1].certificate_pem)
    signed = signing.pdf_sign(unsigned_pdf)
    assert signing.pdf_signature_check(signed).valid
    settings.CERTIFICATE_SIGNING_CERT = str(in_token.tokens / "missing.pem")
    with pytest.raises(signing.SigningKeyError, match="holds no certificate labelled no-such-certificate"):
        signing.pdf_sign(unsigned_pdf)


def test_a_certificate_of_another_key_is_refused(settings, in_token, signing_key_files, unsigned_pdf):
    settings.CERTIFICATE_PKCS11_CERT_LABEL = "no-such-certificate"
    settings.CERTIFICATE_SIGNING_CERT = str(signing_key_files.signing_cert)  # the file key's certificate
    with pytest.raises(signing.SigningKeyError, match="does not belong to the signing certificate"):
        signing.pdf_sign(unsigned_pdf)


def test_b_lta_through_the_token(settings, in_token, unsigned_pdf, tmp_path_factory, tmp_path):
    from tests.support.test_pki import pki_served

    with pki_served(tmp_path_factory.mktemp("test-pki")) as pki:
        settings.CERTIFICATE_TSA_URL = pki.tsa_url
        settings.CERTIFICATE_TSA_CHAIN = [str(pki.folder / "root.cert.pem")]
        signed = signing.pdf_sign(unsigned_pdf)
    assert signing.pdf_signature_level(signed) == "B-LTA"
    check = signing.pdf_signature_check(signed)
    assert check.valid and check.trusted and check.whole_file
    assert "Signature is Valid." in pdfsig(signed, tmp_path)


def test_an_issued_certificate_and_its_credential_are_signed_in_the_token(
    in_token, enrolment, framework, facilitator, django_capture_on_commit_callbacks, tmp_path
):
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    data = certificate.pdf.open("rb").read()
    assert "Signature is Valid." in pdfsig(data, tmp_path)
    assert signing.pdf_signature_check(data).trusted
    token_key = pkcs11.ed25519_public_key(CREDENTIAL_KEY)
    multibase = credentials.multikey_encode(token_key)
    assert certificate.credential["proof"]["verificationMethod"].endswith("#" + multibase)
    assert credentials.credential_verify(certificate.credential).valid
    assert [m["publicKeyMultibase"] for m in credentials.did_document()["verificationMethod"]] == [multibase]


@pytest.mark.django_db(transaction=True)
def test_the_independent_verifier_accepts_a_credential_signed_in_the_token(
    live_server, settings, in_token, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    require_verifier()
    settings.SITE_URL = live_server.url
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    url = live_server.url + reverse("certificates:credential_json", kwargs={"code": certificate.verification_code})
    with urllib.request.urlopen(url) as response:  # noqa: S310 - the live test server
        credential = json.loads(response.read())
    result = verify_credential(credential, base_url=live_server.url)
    assert result["verified"] is True, result["errors"]
    tampered = {**credential, "name": credential["name"] + " (with honours)"}
    assert verify_credential(tampered, base_url=live_server.url)["verified"] is False


def test_a_lost_session_is_reopened_and_signing_goes_on(in_token, unsigned_pdf):
    signing.pdf_sign(unsigned_pdf)
    opened = pkcs11.sessions_opened()
    kept = signing.signer_get()
    assert signing.signer_get() is kept  # one signer per session, not one per certificate
    # The module restarted behind the signer's back: every session handle of this process is dead.
    pkcs11.library_restart(in_token.module)
    signed = signing.pdf_sign(unsigned_pdf)
    assert signing.signer_get() is not kept
    assert signing.pdf_signature_check(signed).valid
    assert len(credentials.credential_key().private_key.sign(b"data")) == 64
    assert pkcs11.sessions_opened() == opened + 1


def test_a_wrong_pin_fails_the_certificate_clearly_is_not_offered_again_and_the_retry_issues_it(
    settings, in_token, enrolment, framework, facilitator, caplog
):
    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    settings.CERTIFICATE_PKCS11_PIN = "000000"
    certificate_issue_task.apply(args=(certificate.pk,))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.FAILED
    assert "refused the PIN (CERTIFICATE_PKCS11_PIN is wrong)" in certificate.failure_reason
    assert certificate.pdf.name == "" and certificate.attempts == 1
    # The sweeper runs it again: the same wrong PIN is not offered to the token a second time.
    certificate_issue_task.apply(args=(certificate.pk,))
    certificate.refresh_from_db()
    assert "will not offer it again" in certificate.failure_reason and certificate.attempts == 2

    settings.CERTIFICATE_PKCS11_PIN = in_token.pin  # corrected (and the workers restarted)
    certificate_retry(certificate=certificate)
    certificate_issue_task.apply(args=(certificate.pk,))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    assert signing.pdf_signature_check(certificate.pdf.open("rb").read()).trusted


def test_a_missing_token_is_retried_and_the_certificate_issued_once_it_is_back(
    settings, in_token, enrolment, framework, facilitator
):
    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    settings.CERTIFICATE_PKCS11_TOKEN_LABEL = "unplugged"
    with pytest.raises(pkcs11.TokenUnavailableError, match="No token labelled unplugged") as raised:
        signing.pdf_sign(b"%PDF-1.7")
    assert failure_is_transient(raised.value)
    certificate_issue_task.apply(args=(certificate.pk,))  # eager: the retries run at once
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.FAILED
    assert certificate.failure_reason.startswith("Still failing after 6 tries: TokenUnavailableError: No token")
    assert certificate.attempts == 1  # attempts left: the sweeper enqueues it again

    settings.CERTIFICATE_PKCS11_TOKEN_LABEL = TOKEN  # the token is back
    certificate_issue_task.apply(args=(certificate.pk,))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason


def test_a_missing_module_or_key_is_a_clear_signing_key_error(settings, in_token, unsigned_pdf):
    settings.CERTIFICATE_PKCS11_KEY_LABEL = "no-such-key"
    with pytest.raises(signing.SigningKeyError, match="holds no private key labelled no-such-key"):
        signing.pdf_sign(unsigned_pdf)
    settings.CERTIFICATE_PKCS11_MODULE = str(in_token.tokens / "libnothing.so")
    with pytest.raises(signing.SigningKeyError, match=r"libnothing\.so was not found"):
        signing.pdf_sign(unsigned_pdf)
    settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL = "no-such-credential-key"
    with pytest.raises(credentials.CredentialKeyError, match="was not found"):
        credentials.credential_key()


def test_create_signing_key_pkcs11_initialises_a_token_and_prints_settings_that_sign(
    settings, in_token, tmp_path, unsigned_pdf
):
    out = io.StringIO()
    call_command(
        "create_signing_key",
        "--pkcs11",
        "--init-token",
        "--token-label=made-by-command",
        f"--module={in_token.module}",
        f"--pin={in_token.pin}",
        f"--so-pin={in_token.so_pin}",
        f"--dir={tmp_path}",
        stdout=out,
    )
    printed = dict(line.split("=", 1) for line in out.getvalue().splitlines() if line.startswith("CERTIFICATE_"))
    assert printed["CERTIFICATE_PKCS11_TOKEN_LABEL"] == "made-by-command"
    assert printed["CERTIFICATE_PKCS11_KEY_LABEL"] == "academy-signing"
    assert printed["CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL"] == "academy-credential"
    for name, value in printed.items():
        setattr(settings, name, [value] if name == "CERTIFICATE_SIGNING_CHAIN" else value)
    check = signing.pdf_signature_check(signing.pdf_sign(unsigned_pdf))
    assert check.valid and check.trusted
    assert credentials.credential_key().multibase == credentials.multikey_encode(
        pkcs11.ed25519_public_key("academy-credential")
    )


def test_rotation_switches_to_new_keys_and_what_the_old_ones_signed_still_verifies(
    settings, in_token, token_keys, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    before = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    old_pdf = before.pdf.open("rb").read()
    old_credential = before.credential
    old_method = old_credential["proof"]["verificationMethod"]

    out = io.StringIO()
    call_command("create_signing_key", "--pkcs11", "--rotate", f"--dir={token_keys[0]}", stdout=out)
    printed = dict(line.split("=", 1) for line in out.getvalue().splitlines() if line.startswith("CERTIFICATE_"))
    assert printed["CERTIFICATE_PKCS11_KEY_LABEL"].startswith("academy-signing-")
    assert printed["CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL"].startswith("academy-credential-")
    assert printed["CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS"] == f"pkcs11:object={CREDENTIAL_KEY}"
    # The switch: the printed settings (the workers restart with them).
    settings.CERTIFICATE_PKCS11_KEY_LABEL = printed["CERTIFICATE_PKCS11_KEY_LABEL"]
    settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL = printed["CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL"]
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = printed["CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS"].split(",")

    new_key = credentials.credential_key()
    assert new_key.verification_method() != old_method
    methods = [m["id"] for m in credentials.did_document()["verificationMethod"]]
    assert methods == [new_key.verification_method(), old_method]

    certificate = Certificate.objects.get(pk=before.pk)
    from certificates.services import certificate_reissue

    with django_capture_on_commit_callbacks(execute=True):
        certificate_reissue(certificate=certificate, reissued_by=facilitator)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    new_pdf = certificate.pdf.open("rb").read()
    assert signer_certificate(new_pdf).serial_number != signer_certificate(old_pdf).serial_number
    assert certificate.credential["proof"]["verificationMethod"] == new_key.verification_method()
    # Both the earlier file and credential and the new ones verify.
    for pdf in (old_pdf, new_pdf):
        check = signing.pdf_signature_check(pdf)
        assert check.valid and check.trusted
    assert credentials.credential_verify(old_credential).valid
    assert credentials.credential_verify(certificate.credential).valid
    # Without the earlier key listed, the earlier credential would no longer verify.
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = []
    assert not credentials.credential_verify(old_credential).valid


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_prefork_worker_signs_in_the_token(
    celery_worker, in_token, token_keys, enrolment, other_learner, framework, facilitator
):
    """A prefork worker (two pool processes, forked after the main process preloaded the signing
    code) opens its sessions in the pool processes: both certificates are issued, signed by the
    token's key, their credentials by the token's Ed25519 key."""
    import time

    from django.conf import settings

    env = {
        name: str(getattr(settings, name))
        for name in (
            "CERTIFICATE_PKCS11_MODULE",
            "CERTIFICATE_PKCS11_TOKEN_LABEL",
            "CERTIFICATE_PKCS11_PIN",
            "CERTIFICATE_PKCS11_KEY_LABEL",
            "CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL",
        )
    }
    enrolments = [enrolment, other_learner.enrolments.get()]
    with celery_worker(concurrency=2, **env):
        for each in enrolments:
            complete(each, framework, facilitator)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            states = list(Certificate.objects.filter(enrolment__in=enrolments).values_list("status", "failure_reason"))
            if len(states) == 2 and all(status != Certificate.Status.PENDING for status, _reason in states):
                break
            time.sleep(0.3)
    assert states == [(Certificate.Status.ISSUED, "")] * 2
    token_certificate = pem_certificate(token_keys[1].certificate_pem).dump()
    multibase = credentials.multikey_encode(pkcs11.ed25519_public_key(CREDENTIAL_KEY))
    for certificate in Certificate.objects.filter(enrolment__in=enrolments):
        data = certificate.pdf.open("rb").read()
        assert signer_certificate(data).dump() == token_certificate
        assert signing.pdf_signature_check(data).trusted
        assert certificate.credential["proof"]["verificationMethod"].endswith("#" + multibase)
        assert credentials.credential_verify(certificate.credential).valid


def test_without_softhsm_a_ci_run_fails_and_a_local_run_skips(monkeypatch):
    from tests.support.softhsm import require_softhsm

    monkeypatch.setattr(pkcs11, "softhsm_module", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: the SoftHSM2 module"):
        require_softhsm()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="apt-get install softhsm2"):
        require_softhsm()
