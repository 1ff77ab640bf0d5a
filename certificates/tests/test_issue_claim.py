"""Issuing claims the row, does the slow work (render, sign, store) outside any transaction and
lock, and issues with a conditional update: racing attempts issue once and leave one file."""

import datetime
import secrets
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from certificates import services
from certificates.models import Certificate, certificate_pdf_name
from certificates.tests.conftest import complete

pytestmark = pytest.mark.django_db(transaction=True)


def pdf_files():
    return sorted(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


@pytest.fixture
def pending(enrolment, framework, facilitator, monkeypatch):
    """A committed, pending certificate whose issue task was not sent (each test runs it)."""
    with monkeypatch.context() as patch:
        patch.setattr(services, "certificate_issue_enqueue", lambda certificate_id: True)
        complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert certificate.status == Certificate.Status.PENDING
    return certificate


def issued_versions_in_history(certificate):
    """The PDFs (by hash) the certificate's history says were issued: one, when it issued once."""
    return set(certificate.history.filter(status=Certificate.Status.ISSUED).values_list("sha256", flat=True))


def in_another_connection(function):
    """Run ``function`` in a thread, so on a database connection of its own; returns its result
    or raises what it raised."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def build_wrapped(monkeypatch, during):
    """Make ``certificate_pdf_build`` call ``during(certificate)`` before it renders."""
    real = services.certificate_pdf_build

    def build(*, certificate):
        during(certificate)
        return real(certificate=certificate)

    monkeypatch.setattr(services, "certificate_pdf_build", build)


def test_rendering_and_signing_hold_no_transaction_and_no_row_lock(pending, monkeypatch):
    seen = {}

    def during(certificate):
        seen["in_atomic_block"] = connection.in_atomic_block

        def lock_it_elsewhere():
            # NOWAIT: fails at once if the issuing attempt held the row lock.
            with transaction.atomic():
                row = Certificate.objects.select_for_update(nowait=True).get(pk=certificate.pk)
                return row.claim_token, row.status

        seen["elsewhere"] = in_another_connection(lock_it_elsewhere)

    build_wrapped(monkeypatch, during)
    certificate = services.certificate_issue(certificate_id=pending.pk)
    assert seen["in_atomic_block"] is False
    claim_token, status = seen["elsewhere"]
    assert claim_token and status == Certificate.Status.PENDING  # the claim was committed
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.claim_token == "" and certificate.claimed_at is None
    assert [p.relative_to(settings.MEDIA_ROOT).as_posix() for p in pdf_files()] == [certificate.pdf.name]
    assert certificate.history.first().status == Certificate.Status.ISSUED  # the issue is audited


def test_two_attempts_racing_for_the_claim_issue_once_with_one_file(pending, monkeypatch):
    # Both read the row unclaimed, then both try the conditional update at once: one wins.
    barrier = threading.Barrier(2)
    real_token = secrets.token_urlsafe

    def token_after_both_read(n):
        barrier.wait(timeout=10)
        return real_token(n)

    monkeypatch.setattr(services.secrets, "token_urlsafe", token_after_both_read)
    outcomes = []

    def attempt():
        try:
            services.certificate_issue(certificate_id=pending.pk)
            outcomes.append("returned")
        except services.CertificateClaimedError:
            outcomes.append("claimed elsewhere")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["claimed elsewhere", "returned"]
    certificate = Certificate.objects.get(pk=pending.pk)
    assert certificate.status == Certificate.Status.ISSUED and certificate.version == 1
    assert len(pdf_files()) == 1
    assert issued_versions_in_history(certificate) == {certificate.sha256}


def test_a_live_claim_is_left_alone_and_says_when_to_look_again(pending, settings):
    settings.CERTIFICATE_CLAIM_TIMEOUT_SECONDS = 120
    Certificate.objects.filter(pk=pending.pk).update(claim_token="x" * 32, claimed_at=timezone.now())
    with pytest.raises(services.CertificateClaimedError) as busy:
        services.certificate_issue(certificate_id=pending.pk)
    assert 100 < busy.value.retry_after <= 121
    assert Certificate.objects.get(pk=pending.pk).status == Certificate.Status.PENDING
    assert pdf_files() == []


def test_a_stale_claim_of_a_killed_worker_is_taken_over_and_its_file_removed(pending, settings):
    # A worker claimed the certificate, wrote its file, and was killed before its finishing update.
    settings.CERTIFICATE_CLAIM_TIMEOUT_SECONDS = 120
    killed_token, killed_at = secrets.token_urlsafe(24), timezone.now() - datetime.timedelta(minutes=5)
    orphan = certificate_pdf_name(token=killed_token, when=killed_at)
    default_storage.save(orphan, ContentFile(b"%PDF-1.7 half-finished"))
    Certificate.objects.filter(pk=pending.pk).update(claim_token=killed_token, claimed_at=killed_at)
    certificate = services.certificate_issue(certificate_id=pending.pk)
    assert certificate.status == Certificate.Status.ISSUED
    assert not default_storage.exists(orphan)
    assert [p.relative_to(settings.MEDIA_ROOT).as_posix() for p in pdf_files()] == [certificate.pdf.name]


def paused_attempt(certificate_id, monkeypatch, *, where):
    """Start an attempt that stops at ``where`` ("render": before rendering; "finish": after its
    file is written, before its finishing update) until the returned event is set. Returns
    (reached, resume, thread, outcome)."""
    reached, resume = threading.Event(), threading.Event()
    outcome = {}
    paused_thread = {}

    def pause():
        if threading.current_thread() is paused_thread.get("thread"):
            reached.set()
            assert resume.wait(timeout=30)

    if where == "render":
        build_wrapped(monkeypatch, lambda certificate: pause())
    else:
        real_finish = services._finish

        def finish(*args, **kwargs):
            pause()
            return real_finish(*args, **kwargs)

        monkeypatch.setattr(services, "_finish", finish)

    def run():
        try:
            services.certificate_issue(certificate_id=certificate_id)
            outcome["status"] = Certificate.objects.get(pk=certificate_id).status
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    paused_thread["thread"] = thread
    thread.start()
    assert reached.wait(timeout=30), outcome
    return resume, thread, outcome


@pytest.mark.parametrize("where", ["render", "finish"])
def test_an_attempt_overtaken_by_a_takeover_loses_its_finish_and_deletes_its_file(
    pending, settings, monkeypatch, where
):
    # Attempt A is slow; its claim goes stale; attempt B takes over and issues; then A finishes.
    settings.CERTIFICATE_CLAIM_TIMEOUT_SECONDS = 120
    resume, thread, outcome = paused_attempt(pending.pk, monkeypatch, where=where)
    a_token = Certificate.objects.get(pk=pending.pk).claim_token
    settings.CERTIFICATE_CLAIM_TIMEOUT_SECONDS = 0  # A's claim is now stale
    certificate = services.certificate_issue(certificate_id=pending.pk)
    assert certificate.status == Certificate.Status.ISSUED and a_token not in certificate.pdf.name
    resume.set()
    thread.join(timeout=60)
    assert outcome == {"status": Certificate.Status.ISSUED}  # A raised nothing and changed nothing
    certificate.refresh_from_db()
    assert [p.relative_to(settings.MEDIA_ROOT).as_posix() for p in pdf_files()] == [certificate.pdf.name]
    assert issued_versions_in_history(certificate) == {certificate.sha256}


def test_staff_retrying_while_an_old_attempt_works_leaves_one_certificate_and_one_file(
    pending, monkeypatch, staff_user
):
    Certificate.objects.filter(pk=pending.pk).update(status=Certificate.Status.FAILED, attempts=1)
    resume, thread, outcome = paused_attempt(pending.pk, monkeypatch, where="finish")
    monkeypatch.setattr(services, "certificate_issue_enqueue", lambda certificate_id: True)
    services.certificate_retry(certificate=Certificate.objects.get(pk=pending.pk), retried_by=staff_user)
    certificate = services.certificate_issue(certificate_id=pending.pk)  # the retry's own attempt
    assert certificate.status == Certificate.Status.ISSUED
    resume.set()
    thread.join(timeout=60)
    assert "error" not in outcome
    certificate.refresh_from_db()
    assert [p.relative_to(settings.MEDIA_ROOT).as_posix() for p in pdf_files()] == [certificate.pdf.name]


def test_a_failing_attempt_gives_its_claim_up_and_leaves_no_file(pending, monkeypatch):
    def broken_finish(*args, **kwargs):
        raise ConnectionResetError("storage went away")

    monkeypatch.setattr(services, "_finish", broken_finish)
    with pytest.raises(ConnectionResetError):
        services.certificate_issue(certificate_id=pending.pk)
    certificate = Certificate.objects.get(pk=pending.pk)
    assert certificate.status == Certificate.Status.PENDING
    assert (certificate.claim_token, certificate.claimed_at) == ("", None)
    assert pdf_files() == []
