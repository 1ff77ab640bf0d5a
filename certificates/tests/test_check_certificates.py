"""``python manage.py check_certificates``: every stored certificate file exists, matches its
SHA-256 and still validates; problems are reported in words with a non-zero exit, recorded for
the metric (``selectors.integrity_failures``), and the check runs weekly from Celery beat."""

import hashlib
import io

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from academy.celery import app
from certificates import services
from certificates.integrity import integrity_check_run
from certificates.models import Certificate, CertificateIntegrityCheck
from certificates.selectors import integrity_failures


def run_command() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("check_certificates", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def file_replace(certificate, data: bytes) -> None:
    """Put other bytes where the certificate's file is (as a faulty disk or a careless copy would)."""
    default_storage.delete(certificate.pdf.name)
    assert default_storage.save(certificate.pdf.name, ContentFile(data)) == certificate.pdf.name


def test_intact_certificates_and_versions_pass_and_the_run_is_recorded(
    completed_certificate, completed_certificate_other, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(certificate=completed_certificate, reissued_by=staff_user, reason="Name")
    assert integrity_failures() == 0  # no run yet
    output, error = run_command()
    assert error is None, output
    assert "All 3 certificate file(s) are stored intact and validate." in output
    run = CertificateIntegrityCheck.objects.get()
    assert (run.checked, run.failures, run.report) == (3, 0, "")
    assert run.finished_at is not None and integrity_failures() == 0


def test_missing_changed_and_invalid_files_are_each_reported_and_counted(
    completed_certificate, completed_certificate_other, enrolment, other_learner
):
    # 1. The file is gone from storage.
    default_storage.delete(completed_certificate.pdf.name)
    # 2. Another certificate's file was changed after issue: its bytes no longer match the hash...
    original = completed_certificate_other.pdf.open("rb").read()
    tampered = bytearray(original)
    tampered[tampered.index(b"/FlateDecode") + 200] ^= 0xFF
    file_replace(completed_certificate_other, bytes(tampered))
    output, error = run_command()
    assert error is not None and "2 of 2 certificate file(s) failed the integrity check." in str(error)
    assert f"Certificate {completed_certificate.verification_code} (version 1" in output
    assert "its file is missing from storage." in output
    assert f"Certificate {completed_certificate_other.verification_code}" in output
    assert "its file does not match its SHA-256" in output
    assert integrity_failures() == 2

    # 3. ... and even with a hash recorded for those bytes, the signature no longer validates.
    Certificate.objects.filter(pk=completed_certificate_other.pk).update(
        sha256=hashlib.sha256(bytes(tampered)).hexdigest()
    )
    file_replace(completed_certificate, original)  # wrong bytes for this one: a hash mismatch again
    output, error = run_command()
    assert error is not None
    assert "its signature no longer validates" in output
    assert integrity_failures() == 2
    assert CertificateIntegrityCheck.objects.count() == 2


def test_a_signature_from_another_authority_is_reported(completed_certificate, settings, tmp_path):
    from certificates.keys import development_keys_create

    other = development_keys_create(tmp_path / "other-ca")
    settings.CERTIFICATE_SIGNING_CHAIN = [str(other.ca_cert)]  # the file is ours; the CA configured is not
    output, error = run_command()
    assert error is not None
    assert "does not chain to the configured certificate authority" in output


def test_the_run_reads_rows_in_chunks_not_one_query_per_certificate(
    completed_certificate, completed_certificate_other, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):  # two chunked reads, the record (and a savepoint at most)
        run = integrity_check_run()
    assert (run.checked, run.failures) == (2, 0)


def test_integrity_failures_is_one_query_and_reads_the_latest_finished_run(db, django_assert_num_queries):
    from django.utils import timezone

    now = timezone.now()
    CertificateIntegrityCheck.objects.create(started_at=now, finished_at=now, checked=10, failures=3)
    CertificateIntegrityCheck.objects.create(started_at=now, finished_at=None, checked=1, failures=9)  # running
    with django_assert_num_queries(1):
        assert integrity_failures() == 3


def test_the_check_runs_weekly_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["certificates-integrity-check"]
    assert entry["task"] in app.tasks
    schedule = entry["schedule"]
    assert schedule.day_of_week == {0} and schedule.hour == {3} and schedule.minute == {30}


def test_a_missing_object_in_the_bucket_is_reported(
    s3_storage, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    from .conftest import complete_and_issue

    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert s3_storage.keys() == [certificate.pdf.name]
    output, error = run_command()
    assert error is None, output
    s3_storage.server.client().delete_object(Bucket=s3_storage.bucket, Key=certificate.pdf.name)
    output, error = run_command()
    assert error is not None and "its file is missing from storage." in output


@pytest.mark.parametrize("status", [Certificate.Status.PENDING, Certificate.Status.FAILED])
def test_certificates_without_an_issued_file_are_not_checked(status, enrolment, db):
    Certificate.objects.create(enrolment=enrolment, verification_code="AAAAA-BBBBB-CCCCC-DDDDD", status=status)
    assert integrity_check_run().checked == 0
