"""The issue task retries only what may pass on a second try (a lost database connection, a
network or storage timeout, the broker or mail server away) and fails everything else at once,
with a reason staff can act on (in-process: the task runs eagerly, retries included)."""

import errno
import smtplib
from pathlib import Path

import kombu.exceptions
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.template import TemplateSyntaxError

from certificates import rendering, services
from certificates.models import Certificate
from certificates.tasks import certificate_issue_task, failure_is_transient
from certificates.tests.conftest import complete

pytestmark = pytest.mark.django_db


def pdf_files():
    return sorted(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


@pytest.fixture
def pending(enrolment, framework, facilitator):
    """A pending certificate (no commit hooks run in these tests, so nothing was enqueued)."""
    complete(enrolment, framework, facilitator)
    return Certificate.objects.get(enrolment=enrolment)


@pytest.fixture
def runs(monkeypatch):
    """Counts the task's runs (the first and every retry)."""
    calls = []
    real = services.certificate_issue

    def counted(*, certificate_id):
        calls.append(certificate_id)
        return real(certificate_id=certificate_id)

    monkeypatch.setattr(services, "certificate_issue", counted)
    return calls


def fail_first(monkeypatch, target, name, error, times=1):
    """Make ``target.name`` raise ``error`` on its first ``times`` calls, then work."""
    real = getattr(target, name)
    failures = []

    def flaky(*args, **kwargs):
        if len(failures) < times:
            failures.append(error)
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)
    return failures


def run_task(certificate):
    certificate_issue_task.apply(args=(certificate.pk,))
    certificate.refresh_from_db()
    return certificate


def test_an_integrity_error_fails_at_once_with_a_reason(pending, runs, monkeypatch):
    # A real one from PostgreSQL: an issued certificate must have a hash (a check constraint).
    real_finish = services._finish

    def finish_without_hash(certificate, token, stored_name):
        certificate.sha256 = ""
        return real_finish(certificate, token, stored_name)

    monkeypatch.setattr(services, "_finish", finish_without_hash)
    certificate = run_task(pending)
    assert len(runs) == 1
    assert (certificate.status, certificate.attempts) == (Certificate.Status.FAILED, 1)
    assert certificate.failure_reason.startswith("The database refused to record the certificate (IntegrityError:")
    assert "certificate_issued_has_pdf_hash" in certificate.failure_reason
    assert (certificate.claim_token, certificate.claimed_at) == ("", None)
    assert pdf_files() == []  # the attempt's file is deleted


def test_an_integrity_error_while_building_is_not_retried(pending, runs, monkeypatch):
    fail_first(monkeypatch, services, "certificate_pdf_build", IntegrityError("duplicate key value"), times=99)
    certificate = run_task(pending)
    assert len(runs) == 1
    assert (certificate.status, certificate.attempts) == (Certificate.Status.FAILED, 1)
    assert "IntegrityError: duplicate key value" in certificate.failure_reason


def test_a_missing_signing_key_fails_at_once_naming_the_file(pending, runs, settings, tmp_path):
    settings.CERTIFICATE_SIGNING_KEY = str(tmp_path / "keys" / "signing-key.pem")
    certificate = run_task(pending)
    assert len(runs) == 1
    assert (certificate.status, certificate.attempts) == (Certificate.Status.FAILED, 1)
    assert certificate.failure_reason.startswith("Could not sign the PDF: The signing key was not found at ")
    assert str(tmp_path / "keys" / "signing-key.pem") in certificate.failure_reason
    assert pdf_files() == []


def test_a_signing_key_file_gone_while_loading_fails_at_once_naming_the_file(pending, runs, monkeypatch):
    from certificates import signing

    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "keys/signing-key.pem")
    monkeypatch.setattr(signing, "signer_get", lambda: (_ for _ in ()).throw(missing))
    certificate = run_task(pending)
    assert len(runs) == 1 and certificate.attempts == 1
    assert certificate.status == Certificate.Status.FAILED
    assert certificate.failure_reason.startswith(
        "A file the certificate needs is missing: keys/signing-key.pem (No such file or directory)."
    )


def test_a_missing_font_fails_at_once_naming_the_file(pending, runs, monkeypatch):
    font = str(rendering.static_root() / "fonts" / "NotoSans-Regular.ttf")
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", font)
    monkeypatch.setattr(rendering, "printable_code_points", lambda: (_ for _ in ()).throw(missing))
    certificate = run_task(pending)
    assert len(runs) == 1
    assert (certificate.status, certificate.attempts) == (Certificate.Status.FAILED, 1)
    assert f"A file the certificate needs is missing: {font}" in certificate.failure_reason
    assert "Restore it" in certificate.failure_reason


def test_a_template_error_fails_at_once(pending, runs, monkeypatch):
    fail_first(monkeypatch, rendering, "certificate_html", TemplateSyntaxError("Invalid block tag 'endfi'"))
    certificate = run_task(pending)
    assert len(runs) == 1 and certificate.attempts == 1
    assert certificate.failure_reason.startswith("The certificate's template could not be rendered")
    assert "endfi" in certificate.failure_reason


def test_text_that_does_not_fit_fails_at_once(pending, runs, programme):
    programme.certificate_wording = "has shown the competencies of a citizen social scientist " * 90
    programme.save(update_fields=["certificate_wording"])
    certificate = run_task(pending)
    assert len(runs) == 1 and certificate.attempts == 1
    assert "too long to fit on one page" in certificate.failure_reason


def test_an_unexpected_error_fails_at_once_with_its_type(pending, runs, monkeypatch):
    fail_first(monkeypatch, services, "certificate_pdf_build", KeyError("signatory"))
    certificate = run_task(pending)
    assert len(runs) == 1 and certificate.attempts == 1
    assert "KeyError: 'signatory'" in certificate.failure_reason


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        TimeoutError("timed out"),
    ],
    ids=["database-connection-lost", "database-closed", "storage-reset", "storage-timeout"],
)
def test_a_transient_error_is_retried_and_the_certificate_issued(pending, runs, monkeypatch, error):
    target, name = (
        (services, "certificate_pdf_build")
        if isinstance(error, OperationalError | InterfaceError)
        else (
            services._storage(),
            "save",
        )
    )
    failures = fail_first(monkeypatch, target, name, error)
    certificate = run_task(pending)
    assert len(failures) == 1 and len(runs) == 2
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    assert certificate.attempts == 0 and certificate.failure_reason == ""
    assert [p.relative_to(settings.MEDIA_ROOT).as_posix() for p in pdf_files()] == [certificate.pdf.name]


def test_a_transient_error_that_persists_fails_once_the_retries_run_out(pending, runs, monkeypatch):
    fail_first(monkeypatch, services, "certificate_pdf_build", OperationalError("the database is down"), times=99)
    certificate = run_task(pending)
    assert len(runs) == certificate_issue_task.max_retries + 1
    assert (certificate.status, certificate.attempts) == (Certificate.Status.FAILED, 1)
    assert certificate.failure_reason == "Still failing after 6 tries: OperationalError: the database is down"
    assert (certificate.claim_token, pdf_files()) == ("", [])


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("deadlock detected"), True),
        (InterfaceError("connection already closed"), True),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), True),
        (TimeoutError(), True),
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
        (smtplib.SMTPResponseException(451, b"Try again later"), True),
        (SoftTimeLimitExceeded(), True),
        (IntegrityError("duplicate key value"), False),
        (ProgrammingError("column does not exist"), False),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "static/fonts/x.ttf"), False),
        (PermissionError(errno.EACCES, "Permission denied", "media/certificates"), False),
        (OSError(errno.EINVAL, "Invalid argument"), False),
        (smtplib.SMTPResponseException(550, b"No such user"), False),
        (services.CertificateIssueError("Could not sign the PDF"), False),
        (ValueError("bad data"), False),
    ],
)
def test_what_counts_as_transient(error, transient):
    assert failure_is_transient(error) is transient
