"""Issuing, idempotency, email, revocation, reissue, retry and the sweeper (in-process)."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from certificates import services
from certificates.models import Certificate, CertificateVersion
from certificates.selectors import certificates_pending_overdue_count, certificates_stale
from certificates.tests.conftest import complete, complete_and_issue
from programmes.services import achievement_remove


def pdf_files():
    return sorted(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


def test_completion_creates_one_pending_certificate_with_a_long_random_code(enrolment, framework, facilitator):
    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert certificate.status == Certificate.Status.PENDING
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}", certificate.verification_code)
    # Recording again changes nothing.
    complete(enrolment, framework, facilitator)
    assert Certificate.objects.filter(enrolment=enrolment).count() == 1


def test_the_task_is_enqueued_only_after_commit(enrolment, framework, facilitator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complete(enrolment, framework, facilitator)
    assert [c.__name__ for c in callbacks] == ["enqueue"]
    assert Certificate.objects.get(enrolment=enrolment).status == Certificate.Status.PENDING


def test_issuing_snapshots_signs_stores_and_emails(completed_certificate, learner):
    certificate = completed_certificate
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.learner_name == "Zoë Ó'Brien-Łukasz"
    assert certificate.programme_title == "Lived Experience of Poverty"
    assert certificate.partner_name == "Hackney Community Voices"
    assert [d["domain"] for d in certificate.competencies][-1] == "Peer interviewing"
    assert sum(len(d["competencies"]) for d in certificate.competencies) == 6
    # The stored name is unguessable: a random folder.
    assert re.fullmatch(r"certificates/\d{4}/\d{2}/[A-Za-z0-9_-]{32}/certificate\.pdf", certificate.pdf.name)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [learner.email]
    assert "Lived Experience of Poverty" in message.subject
    assert f"https://academy.example.org/verify/{certificate.verification_code}/download/" in message.body
    assert f"https://academy.example.org/verify/{certificate.verification_code}/" in message.body
    html = message.alternatives[0][0]
    assert f'href="https://academy.example.org/verify/{certificate.verification_code}/"' in html
    assert certificate.emailed_at is not None


def test_issuing_twice_does_only_the_missing_work(completed_certificate):
    before = (completed_certificate.sha256, completed_certificate.pdf.name)
    again = services.certificate_issue(certificate_id=completed_certificate.pk)
    assert (again.sha256, again.pdf.name) == before
    assert len(pdf_files()) == 1
    assert len(mail.outbox) == 1


def test_a_failed_email_is_retried_without_a_new_pdf(enrolment, framework, facilitator, monkeypatch):
    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)

    def broken_send(self, *args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken_send)
    with pytest.raises(OSError):
        services.certificate_issue(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED and certificate.emailed_at is None
    monkeypatch.undo()
    services.certificate_issue(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.emailed_at is not None
    assert len(pdf_files()) == 1 and len(mail.outbox) == 1


def test_an_enrolment_no_longer_complete_is_not_issued(enrolment, framework, facilitator):
    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    achievement_remove(enrolment=enrolment, competency=framework["competencies"][0], removed_by=facilitator)
    with pytest.raises(services.CertificateIssueError, match="no longer completed"):
        services.certificate_issue(certificate_id=certificate.pk)


def _retried(certificate, staff_user, capture_on_commit_callbacks):
    """Staff try a failed certificate again; the task runs in-process after commit."""
    with capture_on_commit_callbacks(execute=True):
        services.certificate_retry(certificate=certificate, retried_by=staff_user)
    certificate.refresh_from_db()
    return certificate


def test_a_name_the_fonts_cannot_print_fails_the_certificate_with_a_clear_reason(
    learner, enrolment, framework, facilitator, staff_user, django_capture_on_commit_callbacks
):
    learner.full_name = "王芳"
    learner.save(update_fields=["full_name"])
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.FAILED
    assert "the learner's name (王 芳)" in certificate.failure_reason
    assert "Latin letters" in certificate.failure_reason
    assert not certificate.pdf and not certificate.sha256
    assert mail.outbox == []
    # Staff add a spelling in Latin letters and try again: the name is read afresh.
    learner.full_name = "Wang Fang"
    learner.save(update_fields=["full_name"])
    certificate = _retried(certificate, staff_user, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    assert certificate.learner_name == "Wang Fang"


def test_text_too_long_for_the_page_fails_the_certificate_with_a_clear_reason(
    programme, enrolment, framework, facilitator, staff_user, django_capture_on_commit_callbacks
):
    # Saved past the form's 300-character limit (say, by an import): it cannot fit at any size.
    programme.certificate_wording = "has shown the competencies of a citizen social scientist " * 90
    programme.save(update_fields=["certificate_wording"])
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.FAILED
    assert "too long to fit on one page" in certificate.failure_reason
    assert "certificate wording" in certificate.failure_reason
    assert not certificate.pdf and mail.outbox == []
    programme.certificate_wording = "has shown the competencies of a citizen social scientist"
    programme.save(update_fields=["certificate_wording"])
    certificate = _retried(certificate, staff_user, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason


def test_the_certificate_wording_is_at_most_300_characters(programme):
    programme.certificate_wording = "x" * 300
    programme.full_clean()
    programme.certificate_wording = "x" * 301
    with pytest.raises(ValidationError) as refused:
        programme.full_clean()
    assert set(refused.value.message_dict) == {"certificate_wording"}


def test_revoke_needs_a_reason_and_is_audited(completed_certificate, staff_user):
    with pytest.raises(ValidationError):
        services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="  ")
    certificate = services.certificate_revoke(
        certificate=completed_certificate, revoked_by=staff_user, reason="Issued in error"
    )
    assert certificate.status == Certificate.Status.REVOKED and certificate.revoked_at
    latest = certificate.history.first()
    assert latest.status == "revoked" and latest.history_user == staff_user
    with pytest.raises(ValidationError, match="Only an issued"):
        services.certificate_revoke(certificate=certificate, revoked_by=staff_user, reason="again")
    with pytest.raises(ValidationError, match=f"can be reissued; {certificate.verification_code} is “Revoked”"):
        services.certificate_reissue(certificate=certificate, reissued_by=staff_user)


def test_reissue_keeps_the_code_and_the_earlier_version(
    completed_certificate, learner, staff_user, django_capture_on_commit_callbacks
):
    old_sha, old_pdf, code = (
        completed_certificate.sha256,
        completed_certificate.pdf.name,
        completed_certificate.verification_code,
    )
    learner.full_name = "Zoë O'Brien-Łukasz"
    learner.save(update_fields=["full_name"])
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(certificate=completed_certificate, reissued_by=staff_user, reason="Name corrected")
    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.verification_code == code and certificate.version == 2
    assert certificate.learner_name == "Zoë O'Brien-Łukasz"
    assert certificate.sha256 != old_sha and certificate.pdf.name != old_pdf
    version = CertificateVersion.objects.get(certificate=certificate)
    assert (version.version, version.sha256, version.pdf.name) == (1, old_sha, old_pdf)
    assert version.learner_name == "Zoë Ó'Brien-Łukasz" and version.superseded_by == staff_user
    assert len(pdf_files()) == 2  # the earlier file is kept
    assert len(mail.outbox) == 2


def test_retry_resets_a_failed_certificate(settings, enrolment, framework, facilitator, staff_user):
    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    services.certificate_fail(certificate_id=certificate.pk, reason="Could not sign the PDF: no key")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.FAILED and certificate.attempts == 1
    services.certificate_retry(certificate=certificate, retried_by=staff_user)
    certificate.refresh_from_db()
    assert (certificate.status, certificate.attempts, certificate.failure_reason) == ("pending", 0, "")
    with pytest.raises(ValidationError):
        services.certificate_retry(certificate=certificate)


def test_sweeper_picks_stale_pending_and_retriable_failed(enrolment, framework, facilitator, cohort, settings):
    from programmes.tests.factories import EnrolmentFactory

    complete(enrolment, framework, facilitator)
    stale = Certificate.objects.get(enrolment=enrolment)
    old = timezone.now() - datetime.timedelta(minutes=30)
    Certificate.objects.filter(pk=stale.pk).update(requested_at=old)

    others = [EnrolmentFactory(cohort=cohort) for _ in range(3)]
    for other in others:
        complete(other, framework, facilitator)
    fresh, failed_retriable, failed_exhausted = (Certificate.objects.get(enrolment=e) for e in others)
    Certificate.objects.filter(pk=failed_retriable.pk).update(status="failed", attempts=1, last_attempt_at=old)
    Certificate.objects.filter(pk=failed_exhausted.pk).update(
        status="failed", attempts=settings.CERTIFICATE_MAX_ATTEMPTS, last_attempt_at=old
    )
    ids = set(certificates_stale(older_than=datetime.timedelta(minutes=3)).values_list("pk", flat=True))
    assert ids == {stale.pk, failed_retriable.pk}
    assert fresh.pk not in ids
    assert certificates_pending_overdue_count(minutes=10) == 1


def test_issue_pending_certificates_command_issues_them(enrolment, framework, facilitator, capsys):
    complete(enrolment, framework, facilitator)  # no commit hooks run: as if the message was lost
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert certificate.status == Certificate.Status.PENDING
    call_command("issue_pending_certificates", "--older-than-minutes", "0")
    assert "Enqueued 1 certificate(s)." in capsys.readouterr().out
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED


def test_the_sweep_task_is_scheduled_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["certificates-sweep"]
    assert entry["task"] == "certificates.tasks.certificates_sweep_task"
    assert entry["schedule"] == 300


def test_task_retries_stay_well_below_the_visibility_timeout():
    from certificates.tasks import certificate_issue_task

    assert certificate_issue_task.acks_late and certificate_issue_task.reject_on_worker_lost
    assert certificate_issue_task.retry_backoff_max * 2 < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert certificate_issue_task.soft_time_limit < certificate_issue_task.time_limit
