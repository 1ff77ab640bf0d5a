"""Invitation delivery: recorded with the enrolment, sent in chunks over one SMTP connection each,
never twice, retried on SMTP and network errors, swept when the broker lost them.

The mail server is a real one (``tests.support.smtp.SmtpSink``, aiosmtpd in a thread) reached
through Django's SMTP backend; tasks run in-process (eager) unless the test says otherwise.
"""

import datetime
import logging
import threading
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from academy import services, tasks
from academy.models import Invitation, User
from academy.tests.factories import UserFactory
from tests.support.smtp import SmtpSink, free_port
from tests.support.workers import celery_broker_switched

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings):
    with SmtpSink() as sink:
        sink.email_settings(settings)
        yield sink


def invited_people(n, prefix="learner"):
    """``n`` accounts without a usable password (as enrolment makes them)."""
    users = [User(email=f"{prefix}{i}@example.org", full_name=f"Łucja Ó'{prefix} {i}") for i in range(n)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    return list(User.objects.filter(email__startswith=prefix).order_by("pk"))


def record(users, capture, *, execute=False, invited_by=None):
    """Record invitations for ``users`` in a transaction; run the after-commit queueing if
    ``execute``. Returns the invitations, in the users' order."""
    with capture(execute=execute):
        services.learner_invitations_queue(learners=users, invited_by=invited_by)
    by_user = {i.user_id: i for i in Invitation.objects.filter(user__in=users)}
    return [by_user[u.pk] for u in users]


def statuses(invitations):
    return [Invitation.objects.get(pk=i.pk).status for i in invitations]


# --- Recorded in the same transaction ----------------------------------------------------------


def test_invitations_are_recorded_in_the_transaction_and_queued_only_after_commit(
    django_capture_on_commit_callbacks, sink, staff_user
):
    users = invited_people(3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.learner_invitations_queue(learners=users, invited_by=staff_user)
        rows = list(Invitation.objects.filter(user__in=users))
        assert len(rows) == 3
        assert all(r.status == Invitation.Status.PENDING and r.sent_at is None for r in rows)
        assert all(r.invited_by == staff_user for r in rows)
    assert sink.count() == 0 and len(callbacks) == 1  # nothing leaves before the commit
    callbacks[0]()
    assert sorted(sink.recipients()) == sorted(u.email for u in users)
    assert all(r.status == Invitation.Status.SENT for r in Invitation.objects.filter(user__in=users))


def test_a_rolled_back_enrolment_leaves_no_invitation(sink):
    users = invited_people(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.learner_invitations_queue(learners=users)
        raise RuntimeError("the enrolment failed")
    assert not Invitation.objects.exists()
    assert sink.count() == 0


def test_people_with_a_password_or_inactive_get_no_invitation_row(django_capture_on_commit_callbacks, sink):
    users = invited_people(3)
    with_password = UserFactory(email="has.password@example.org")
    users[0].is_active = False
    users[0].save()
    with django_capture_on_commit_callbacks(execute=True):
        count = services.learner_invitations_queue(learners=[*users, with_password])
    assert count == 2
    assert set(Invitation.objects.values_list("user__email", flat=True)) == {users[1].email, users[2].email}


# --- Chunks, one connection each, sent_at ------------------------------------------------------


def test_many_invitations_go_in_chunks_of_at_most_50_each_over_one_connection(
    django_capture_on_commit_callbacks, sink, monkeypatch
):
    users = invited_people(120)
    published = []
    real = tasks.invitations_send_task.apply_async

    def spy(*args, **kwargs):
        published.append(list(kwargs["args"][0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks.invitations_send_task, "apply_async", spy)
    before = timezone.now()
    invitations = record(users, django_capture_on_commit_callbacks, execute=True)
    assert [len(chunk) for chunk in published] == [50, 50, 20]
    assert sorted(pk for chunk in published for pk in chunk) == sorted(i.pk for i in invitations)
    # Every learner exactly one email; one SMTP connection per chunk, none carrying more than 50.
    assert sink.recipients() == {u.email: 1 for u in users}
    assert sink.connections == 3
    per_connection = {}
    for message in sink.messages:
        per_connection[message.connection] = per_connection.get(message.connection, 0) + 1
    assert sorted(per_connection.values()) == [20, 50, 50]
    for invitation in Invitation.objects.filter(user__in=users):
        assert invitation.status == Invitation.Status.SENT
        assert before <= invitation.sent_at <= timezone.now()
        assert invitation.attempts == 1 and invitation.last_error == ""


def test_the_email_carries_a_working_link_and_the_inviter(django_capture_on_commit_callbacks, sink, staff_user):
    (user,) = invited_people(1)
    record([user], django_capture_on_commit_callbacks, execute=True, invited_by=staff_user)
    (message,) = sink.messages
    text = message.text()
    assert "/welcome/" in text and "Sam Staff" in text
    assert message.rcpt_tos == [user.email]


def test_a_redelivered_chunk_sends_nothing_twice(django_capture_on_commit_callbacks, sink):
    users = invited_people(5)
    invitations = record(users, django_capture_on_commit_callbacks, execute=True)
    assert sink.count() == 5
    ids = [i.pk for i in invitations]
    # The broker delivers the same message again (e.g. after a visibility timeout), twice.
    assert tasks.invitations_send_task.apply(args=[ids]).get() == 0
    assert services.invitations_send(invitation_ids=ids).sent == []
    assert sink.count() == 5 and sink.connections == 1  # not even a connection for nothing


def test_someone_who_set_a_password_meanwhile_gets_nothing(django_capture_on_commit_callbacks, sink):
    users = invited_people(3)
    invitations = record(users, django_capture_on_commit_callbacks, execute=False)
    users[0].set_password("blue-kettle-garden-77")
    users[0].save()
    users[1].is_active = False
    users[1].save()
    result = services.invitations_send(invitation_ids=[i.pk for i in invitations])
    assert result.skipped == [invitations[0].pk, invitations[1].pk] and result.sent == [invitations[2].pk]
    assert statuses(invitations) == [Invitation.Status.SKIPPED, Invitation.Status.SKIPPED, Invitation.Status.SENT]
    assert sink.recipients() == {users[2].email: 1}


def test_nobody_left_to_invite_opens_no_connection(django_capture_on_commit_callbacks, sink):
    users = invited_people(2)
    invitations = record(users, django_capture_on_commit_callbacks, execute=False)
    for user in users:
        user.set_password("blue-kettle-garden-77")
        user.save()
    services.invitations_send(invitation_ids=[i.pk for i in invitations])
    assert sink.connections == 0


# --- SMTP and network errors -------------------------------------------------------------------


def test_mail_server_down_records_the_error_and_a_later_try_sends(django_capture_on_commit_callbacks, sink):
    users = invited_people(3)
    invitations = record(users, django_capture_on_commit_callbacks, execute=False)
    ids = [i.pk for i in invitations]
    sink.stop()  # the port is closed: connection refused
    result = services.invitations_send(invitation_ids=ids)
    assert result.sent == [] and sorted(result.retry_ids) == sorted(ids)
    for invitation in Invitation.objects.filter(pk__in=ids):
        assert invitation.status == Invitation.Status.PENDING and invitation.sent_at is None
        assert invitation.attempts == 1
        assert "Connection refused" in invitation.last_error or "ConnectionRefusedError" in invitation.last_error
        assert invitation.sweep_after > timezone.now()
    sink.start()
    result = services.invitations_send(invitation_ids=result.retry_ids)
    assert sorted(result.sent) == sorted(ids)
    assert sink.recipients() == {u.email: 1 for u in users}
    assert all(i.attempts == 2 and i.last_error == "" for i in Invitation.objects.filter(pk__in=ids))


def test_the_task_retries_with_a_countdown_on_smtp_errors(django_capture_on_commit_callbacks, sink, monkeypatch):
    users = invited_people(2)
    invitations = record(users, django_capture_on_commit_callbacks, execute=False)
    sink.stop()
    retries = []

    def fake_retry(*, args, countdown, **kwargs):
        retries.append((args, countdown))
        raise RuntimeError("retry requested")

    monkeypatch.setattr(tasks.invitations_send_task, "retry", fake_retry)
    with pytest.raises(RuntimeError, match="retry requested"):
        tasks.invitations_send_task.run([i.pk for i in invitations])
    assert retries == [([[i.pk for i in invitations]], services.invitation_retry_countdown(1))]
    assert [services.invitation_retry_countdown(n) for n in range(1, 6)] == [5, 10, 20, 40, 80]


def test_a_temporary_refusal_of_one_address_is_retried_and_the_rest_go(django_capture_on_commit_callbacks, sink):
    users = invited_people(3)
    invitations = record(users, django_capture_on_commit_callbacks, execute=False)
    sink.refuse[users[1].email] = "451 4.3.0 Mailbox busy, try again later"
    result = services.invitations_send(invitation_ids=[i.pk for i in invitations])
    assert result.retry_ids == [invitations[1].pk]
    assert sorted(result.sent) == sorted([invitations[0].pk, invitations[2].pk])
    assert sink.connections == 1  # the connection carried on after the refusal
    busy = Invitation.objects.get(pk=invitations[1].pk)
    assert busy.status == Invitation.Status.PENDING and "451" in busy.last_error
    sink.refuse.clear()
    assert services.invitations_send(invitation_ids=result.retry_ids).sent == [invitations[1].pk]
    assert sink.recipients() == {u.email: 1 for u in users}


def test_an_address_refused_for_good_is_recorded_and_not_retried(django_capture_on_commit_callbacks, sink):
    users = invited_people(2)
    invitations = record(users, django_capture_on_commit_callbacks, execute=False)
    sink.refuse[users[0].email] = "550 5.1.1 No such user here"
    result = services.invitations_send(invitation_ids=[i.pk for i in invitations])
    assert result.refused == [invitations[0].pk] and result.retry_ids == []
    refused = Invitation.objects.get(pk=invitations[0].pk)
    assert refused.status == Invitation.Status.REFUSED and "550" in refused.last_error and refused.sent_at is None
    # Neither the task nor the sweeper tries it again.
    later = timezone.now() + datetime.timedelta(days=1)
    assert services.invitations_sweep(now=later) == []
    assert tasks.invitations_send_task.apply(args=[[invitations[0].pk]]).get() == 0
    assert sink.recipients() == {users[1].email: 1}


def test_attempts_run_out_and_the_invitation_is_marked_failed(django_capture_on_commit_callbacks, sink, settings):
    settings.INVITATION_MAX_ATTEMPTS = 2
    (user,) = invited_people(1)
    (invitation,) = record([user], django_capture_on_commit_callbacks, execute=False)
    sink.refuse_all = "421 4.7.0 Too busy"
    assert services.invitations_send(invitation_ids=[invitation.pk]).retry_ids == [invitation.pk]
    result = services.invitations_send(invitation_ids=[invitation.pk])
    assert result.failed == [invitation.pk] and result.retry_ids == []
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.FAILED and invitation.attempts == 2 and "421" in invitation.last_error


# --- The broker down, and the sweeper ----------------------------------------------------------


def test_the_sweeper_sends_what_is_left_pending_after_a_few_minutes(django_capture_on_commit_callbacks, sink, settings):
    users = invited_people(60)
    invitations = record(users, django_capture_on_commit_callbacks, execute=False)  # the queueing is lost
    assert services.invitations_sweep() == []  # too early: their task may still be on its way
    later = timezone.now() + datetime.timedelta(minutes=settings.INVITATION_SWEEP_AFTER_MINUTES, seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        swept = services.invitations_sweep(now=later)
    assert sorted(swept) == sorted(i.pk for i in invitations)
    assert sink.recipients() == {u.email: 1 for u in users}
    assert sink.connections == 2  # 50 + 10
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invitations_sweep(now=later + datetime.timedelta(hours=1)) == []
    assert sink.count() == 60


def test_the_sweeper_task_exists_under_the_beat_schedules_name(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["invitations-sweep"]
    assert entry["task"] == tasks.invitations_sweep_task.name == "academy.tasks.invitations_sweep_task"


@pytest.fixture
def broker_down(settings):
    """Tasks really published (not eager), to a broker whose port is closed."""
    from academy.celery import app

    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    with celery_broker_switched(settings, f"redis://127.0.0.1:{free_port()}/0"):
        yield
    app.conf.task_always_eager = previous


def test_enrolling_with_the_broker_down_answers_normally_and_the_sweeper_sends_later(
    client, coordinator, cohort, broker_down, django_capture_on_commit_callbacks, settings, mailoutbox, caplog
):
    client.force_login(coordinator)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="academy.services"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partners:enrol_one", args=[cohort.pk]), {"email": "ann@example.org", "full_name": "Ann Example"}
        )
    elapsed = time.monotonic() - started
    assert response.status_code == 302, response.content.decode()[:2000]
    assert elapsed < 5  # a refused connection fails fast
    assert "the sweeper will send them" in caplog.text
    invitation = Invitation.objects.get(user__email="ann@example.org")
    assert invitation.status == Invitation.Status.PENDING and invitation.sent_at is None
    assert mailoutbox == []  # and the request itself sent nothing
    # The broker is back (tasks run in-process here); the sweeper's run a few minutes later sends it.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from academy.celery import app

    app.conf.task_always_eager = True
    later = timezone.now() + datetime.timedelta(minutes=settings.INVITATION_SWEEP_AFTER_MINUTES, seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invitations_sweep(now=later) == [invitation.pk]
    assert [m.to for m in mailoutbox] == [["ann@example.org"]]
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT


def test_a_staff_invite_and_a_resend_with_the_broker_down_answer_normally(
    client, staff_user, cohort, broker_down, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("programmes:cohort_invite", args=[cohort.pk]), {"people": "Ann Example, ann@example.org"}
        )
    assert response.status_code == 302
    ann = User.objects.get(email="ann@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invitation_resend(learner=ann, invited_by=staff_user)
    # The resend found the first one still waiting: one invitation, sent once, later.
    assert Invitation.objects.filter(user=ann, status=Invitation.Status.PENDING).count() == 1
    assert mailoutbox == []


# --- Single invitations and re-sending ----------------------------------------------------------


def test_learner_invite_goes_through_a_record_and_a_task(django_capture_on_commit_callbacks, sink, monkeypatch):
    published = []
    real = tasks.invitations_send_task.apply_async
    monkeypatch.setattr(
        tasks.invitations_send_task, "apply_async", lambda *a, **k: published.append(k["args"]) or real(*a, **k)
    )
    with django_capture_on_commit_callbacks(execute=True):
        user = services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
    invitation = Invitation.objects.get(user=user)
    assert published == [[[invitation.pk]]]
    assert invitation.status == Invitation.Status.SENT
    assert sink.recipients() == {"ngozi@example.org": 1}


def test_resending_after_it_went_sends_once_more(django_capture_on_commit_callbacks, sink, staff_user):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invitation_resend(learner=user, invited_by=staff_user)
    assert sink.recipients() == {"ngozi@example.org": 2}
    assert list(Invitation.objects.filter(user=user).values_list("status", flat=True)) == ["sent", "sent"]


def test_resending_while_one_is_still_waiting_resets_that_one(django_capture_on_commit_callbacks, sink, staff_user):
    (user,) = invited_people(1)
    (first,) = record([user], django_capture_on_commit_callbacks, execute=False)
    Invitation.objects.filter(pk=first.pk).update(attempts=7, last_error="421 earlier")
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invitation_resend(learner=user, invited_by=staff_user)
    assert Invitation.objects.filter(user=user).count() == 1
    first.refresh_from_db()
    assert first.status == Invitation.Status.SENT and first.invited_by == staff_user and first.attempts == 1
    assert sink.recipients() == {user.email: 1}


def test_resending_to_someone_with_a_password_records_nothing(django_capture_on_commit_callbacks, sink, learner):
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invitation_resend(learner=learner)
    assert not Invitation.objects.exists() and sink.count() == 0


def test_a_message_queued_for_the_old_one_task_is_still_delivered(sink):
    users = invited_people(3)
    tasks.learner_invitations_send_task.apply(args=[[u.pk for u in users], None])
    assert Invitation.objects.filter(user__in=users).count() == 3


# --- Concurrency (real PostgreSQL row locks) ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_tasks_on_the_same_chunk_at_once_send_each_invitation_once(sink):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) need PostgreSQL")
    users = invited_people(40)
    with transaction.atomic():
        services.learner_invitations_queue(learners=users)  # eager tasks would send at commit: undo
    Invitation.objects.update(status=Invitation.Status.PENDING, sent_at=None, attempts=0)
    sink.clear()
    sink.on_message = lambda number: time.sleep(0.005)  # a slower server: the two overlap
    ids = list(Invitation.objects.values_list("pk", flat=True))
    results, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(services.invitations_send(invitation_ids=ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sink.recipients() == {u.email: 1 for u in users}
    assert sorted(pk for r in results for pk in r.sent) == sorted(ids)
    assert Invitation.objects.filter(status=Invitation.Status.SENT).count() == 40


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_leaves_alone_an_invitation_a_task_is_sending(sink):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) need PostgreSQL")
    users = invited_people(2)
    with transaction.atomic():
        services.learner_invitations_queue(learners=users)
    Invitation.objects.update(status=Invitation.Status.PENDING, sent_at=None)
    first, second = Invitation.objects.order_by("pk")
    locked, release = threading.Event(), threading.Event()

    def sending():  # what a task holds while the mail server takes the message
        try:
            with transaction.atomic():
                Invitation.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=sending)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        later = timezone.now() + datetime.timedelta(hours=1)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(services, "invitations_publish", lambda *, invitation_ids: len(invitation_ids))
            assert services.invitations_sweep(now=later) == [second.pk]
    finally:
        release.set()
        thread.join(timeout=30)
