"""State changes of accounts: inviting learners, and what happens when they accept.

Every function is keyword-only.

Invitations: each one is a row (``academy.models.Invitation``) written in the same transaction
as the invite or enrolment, so a rolled-back enrolment leaves none and a committed one cannot lose
its invitation. After commit, Celery tasks send them in chunks (``INVITATION_CHUNK_SIZE``, one
SMTP connection per chunk), each invitation marked sent as soon as the mail server has accepted
it. A broker that is down never fails the request: the rows stay pending and the sweeper
(``invitations_sweep``, Celery beat) queues whatever is still pending after
``INVITATION_SWEEP_AFTER_MINUTES``. The request never talks SMTP itself.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .names import name_clean
from .tokens import invitation_timeout_seconds, invitation_token_generator

User = get_user_model()
logger = logging.getLogger(__name__)

# Publishing a chunk's task after commit: one quick second try, then give up and leave the
# invitations to the sweeper, so a broker that is down costs the request little time.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Seconds the SMTP connection waits for the mail server when EMAIL_TIMEOUT is not set.
SMTP_TIMEOUT_DEFAULT = 30
# The sweeper queues at most this many invitations per run (the rest at its next run).
SWEEP_LIMIT = 5000


def invitation_max_attempts() -> int:
    """Attempts after which an invitation that keeps failing is marked failed (default 20: with
    the backoff below, about 14 hours of a mail server failing)."""
    return settings.INVITATION_MAX_ATTEMPTS


def invitation_retry_countdown(attempt: int) -> int:
    """Seconds to wait before try ``attempt + 1``: 5, 10, 20, 40, ... at most an hour."""
    return min(5 * 2 ** max(attempt - 1, 0), 3600)


def invitation_url(*, user) -> str:
    """The absolute, one-time link an invited learner follows to set a password."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    return settings.SITE_URL + reverse("welcome", kwargs={"uidb64": uidb64, "token": token})


def _render_email(template_prefix: str, context: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"{template_prefix}/subject.txt", context)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    body_txt = render_to_string(f"{template_prefix}/body.txt", context)
    body_html = render_to_string(f"{template_prefix}/body.html", context)
    return subject, body_txt, body_html


# What the invitation says the learner is invited to. The academy app knows nothing of
# programmes: a higher app registers a function ``(user) -> list[dict]`` (the partner portal: the
# learner's invited enrolments, each with programme, cohort, partner, venue and start date).
_invitation_details_sources = []


def invitation_details_register(function):
    """Register a source of what an invitation names (called once, from an app's ``ready``)."""
    if function not in _invitation_details_sources:
        _invitation_details_sources.append(function)
    return function


def invitation_details(*, user) -> list[dict]:
    """Everything the registered sources say ``user`` is invited to."""
    return [item for source in _invitation_details_sources for item in source(user)]


def invitation_message(*, user, invited_by=None) -> EmailMultiAlternatives:
    """The invitation email to ``user``, with a fresh link (not sent)."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "invited_by": invited_by,
            "invited_to": invitation_details(user=user),
            "url": invitation_url(user=user),
            "days": invitation_timeout_seconds() // 86400,
            "SITE_URL": settings.SITE_URL,
        }
        subject, body_txt, body_html = _render_email("academy/email/invitation", context)
    message = EmailMultiAlternatives(subject, body_txt, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(body_html, "text/html")
    return message


# --- Recording and queueing invitations -------------------------------------------------------


def _chunks(ids: list[int]) -> list[list[int]]:
    size = max(1, int(settings.INVITATION_CHUNK_SIZE))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def invitations_publish(*, invitation_ids: list[int]) -> int:
    """Queue one send task per chunk of ``invitation_ids``. Never raises: if the broker cannot be
    reached, log a warning and stop (the sweeper sends them later). Returns how many invitations
    were queued."""
    from .tasks import invitations_send_task

    queued = 0
    for chunk in _chunks(list(invitation_ids)):
        try:
            invitations_send_task.apply_async(args=[chunk], retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        except Exception as exc:  # the broker being unreachable must never fail the caller
            logger.warning(
                "Could not queue %d invitation(s) (%s: %s); the sweeper will send them within a few minutes.",
                len(invitation_ids) - queued,
                type(exc).__name__,
                exc,
            )
            break
        queued += len(chunk)
    return queued


@transaction.atomic
def _invitations_record(*, user_ids, invited_by_id: int | None) -> list[int]:
    """Record an invitation for each of these users who is active and has no usable password,
    and queue them after commit. A user who already has a pending invitation nobody is sending
    at this moment gets that one reset (sent once, with a fresh link) rather than a second one.
    Returns the invitations' ids. A constant number of queries whatever the number of users."""
    from .models import Invitation

    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        return []
    eligible = {
        user.pk
        for user in User.objects.filter(pk__in=user_ids, is_active=True).only("pk", "password")
        if not user.has_usable_password()
    }
    user_ids = [pk for pk in user_ids if pk in eligible]
    if not user_ids:
        return []
    now = timezone.now()
    sweep_after = now + datetime.timedelta(minutes=settings.INVITATION_SWEEP_AFTER_MINUTES)
    # A pending invitation that a task is sending right now is locked: it is left alone, and the
    # person gets a new one as well (re-sending is deliberate).
    pending = dict(
        Invitation.objects.select_for_update(skip_locked=True)
        .filter(user_id__in=user_ids, status=Invitation.Status.PENDING)
        .values_list("user_id", "pk")
    )
    if pending:
        changes = {"attempts": 0, "sweep_after": sweep_after}
        if invited_by_id:
            changes["invited_by_id"] = invited_by_id
        Invitation.objects.filter(pk__in=pending.values()).update(**changes)
    created = Invitation.objects.bulk_create(
        [
            Invitation(user_id=pk, invited_by_id=invited_by_id, sweep_after=sweep_after)
            for pk in user_ids
            if pk not in pending
        ]
    )
    new = {invitation.user_id: invitation.pk for invitation in created}
    invitation_ids = [pending.get(pk) or new[pk] for pk in user_ids]
    transaction.on_commit(lambda: invitations_publish(invitation_ids=invitation_ids))
    return invitation_ids


@transaction.atomic
def learner_invite(*, email: str, full_name: str, invited_by=None) -> User:
    """Find the account with this email (any letter case) or create it without a usable password,
    and record an invitation to set one (sent by a task after commit). An existing account that
    already has a password is not invited again (they can sign in); its name is left as it is."""
    email = User.objects.normalize_email(email.strip()).lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, full_name=full_name.strip())
        user.set_unusable_password()
        user.save()
    elif not user.full_name and full_name.strip():
        user.full_name = full_name.strip()
        user.save(update_fields=["full_name"])
    if not user.has_usable_password():
        _invitations_record(user_ids=[user.pk], invited_by_id=getattr(invited_by, "pk", None))
    return user


def learner_invitations_queue(*, learners, invited_by=None) -> int:
    """Bulk invitations (e.g. 2,000 learners from a CSV): one invitation row each, in the caller's
    transaction; after commit, one task per ``INVITATION_CHUNK_SIZE`` of them sends the emails.
    ``learners`` are users or their ids; those with a password are skipped. Returns how many
    invitations were recorded."""
    user_ids = [getattr(u, "pk", u) for u in learners]
    invited_by_id = getattr(invited_by, "pk", invited_by)
    return len(_invitations_record(user_ids=user_ids, invited_by_id=invited_by_id))


def learner_invitation_resend(*, learner, invited_by=None) -> None:
    """Send a fresh invitation link (the portal's and admin's "re-send invitation"): a new
    invitation row, sent by a task after commit. A learner who has already set a password gets
    nothing: they sign in or reset their password."""
    _invitations_record(user_ids=[learner.pk], invited_by_id=getattr(invited_by, "pk", None))


# --- Sending (in the Celery task) ---------------------------------------------------------------


@dataclass
class InvitationsSent:
    """What one run over a chunk did. ``retry_ids``: still pending after an error that may pass
    (the task tries them again later); ``busy``: being sent by another task at that moment."""

    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)
    retry_ids: list[int] = field(default_factory=list)
    error: str = ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        details = "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
        return f"recipient refused: {details}"
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{type(exc).__name__}: {exc.smtp_code} {msg}"
    return f"{type(exc).__name__}: {exc}".strip()[:1000]


def _refused_for_good(exc: BaseException) -> bool:
    """The mail server will never take this message for this address: every recipient refused
    with a 5xx code, the message refused with a 5xx code after DATA, or an address Django
    cannot even write (ValueError)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return isinstance(exc, ValueError)


def _connection_still_usable(exc: BaseException) -> bool:
    """After these, smtplib has reset the SMTP transaction and the next message can go."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError | ValueError)


def _failure_changes(*, attempt: int, error: str, now) -> dict:
    """The fields of a pending invitation whose try number ``attempt`` failed with an error that
    may pass: pending again, the sweeper's turn after the task's own retries would have had
    theirs; or failed, once ``invitation_max_attempts()`` tries have failed."""
    from .models import Invitation

    changes = {"sent_at": None, "attempts": attempt, "last_attempt_at": now, "last_error": error}
    if attempt >= invitation_max_attempts():
        return {**changes, "status": Invitation.Status.FAILED}
    wait = invitation_retry_countdown(attempt) + settings.INVITATION_SWEEP_AFTER_MINUTES * 60
    return {**changes, "status": Invitation.Status.PENDING, "sweep_after": now + datetime.timedelta(seconds=wait)}


def _record_failure(invitation_ids: list[int], *, error: str, now) -> list[int]:
    """One more failed try for each of these invitations still pending. Returns those that are
    now failed (attempts used up)."""
    from .models import Invitation

    failed = []
    for pk, attempts in Invitation.objects.filter(pk__in=invitation_ids, status=Invitation.Status.PENDING).values_list(
        "pk", "attempts"
    ):
        changes = _failure_changes(attempt=attempts + 1, error=error, now=now)
        Invitation.objects.filter(pk=pk, status=Invitation.Status.PENDING).update(**changes)
        if changes["status"] == Invitation.Status.FAILED:
            failed.append(pk)
    return failed


def invitations_send(*, invitation_ids: list[int]) -> InvitationsSent:
    """Send these invitations (those still pending) over ONE connection to the mail server.

    Each invitation is claimed, sent and recorded in its own short transaction: its row is
    locked (``SELECT ... FOR UPDATE SKIP LOCKED``: another task, or a redelivered copy of this
    one, skips it), marked sent, the message handed to the mail server, and the transaction
    committed as soon as the server has accepted it. If the process dies before that commit,
    the row is back to pending (and unlocked) at once and is sent again later: at least once,
    never lost. A person who has set a password or been deactivated meanwhile is skipped
    without an email. SMTP and network errors are recorded (``attempts``, ``last_error``) and
    listed in ``retry_ids``; an address the server refuses for good is marked refused, once."""
    from .models import Invitation

    result = InvitationsSent()
    remaining = list(
        Invitation.objects.filter(pk__in=invitation_ids, status=Invitation.Status.PENDING)
        .order_by("attempts", "pk")  # invitations that keep failing go last
        .values_list("pk", flat=True)
    )
    if not remaining:
        return result
    connection = None
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT_DEFAULT
    unreachable = ""  # the server could not be reached at all: every one of them waits
    broken = ""  # the connection broke: the rest wait
    try:
        while remaining and not (unreachable or broken):
            pk = remaining[0]
            with transaction.atomic():
                invitation = (
                    Invitation.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("user", "invited_by")
                    .filter(pk=pk, status=Invitation.Status.PENDING)
                    .first()
                )
                if invitation is None:  # sent or settled meanwhile, or another task holds it now
                    if Invitation.objects.filter(pk=pk, status=Invitation.Status.PENDING).exists():
                        result.busy.append(pk)
                    remaining.pop(0)
                    continue
                user = invitation.user
                now = timezone.now()
                if not user.is_active or user.has_usable_password():
                    Invitation.objects.filter(pk=pk).update(status=Invitation.Status.SKIPPED, last_attempt_at=now)
                    result.skipped.append(pk)
                    remaining.pop(0)
                    continue
                message = invitation_message(user=user, invited_by=invitation.invited_by)
                if connection is None:
                    connection = get_connection(timeout=timeout)
                    try:
                        connection.open()
                    except Exception as exc:
                        unreachable = _describe(exc)
                        continue
                # Marked sent before the message goes, so that only the commit stands between
                # the server's acceptance and the record of it.
                Invitation.objects.filter(pk=pk).update(
                    status=Invitation.Status.SENT,
                    sent_at=now,
                    attempts=invitation.attempts + 1,
                    last_attempt_at=now,
                    last_error="",
                )
                try:
                    connection.send_messages([message])
                except Exception as exc:
                    error = _describe(exc)
                    remaining.pop(0)
                    if _refused_for_good(exc):
                        Invitation.objects.filter(pk=pk).update(
                            status=Invitation.Status.REFUSED, sent_at=None, last_error=error
                        )
                        result.refused.append(pk)
                        logger.warning("Invitation %s: the mail server refused the address for good: %s", pk, error)
                    else:
                        changes = _failure_changes(attempt=invitation.attempts + 1, error=error, now=now)
                        Invitation.objects.filter(pk=pk).update(**changes)
                        if changes["status"] == Invitation.Status.FAILED:
                            result.failed.append(pk)
                        else:
                            result.retry_ids.append(pk)
                        result.error = error
                        if not _connection_still_usable(exc):
                            broken = error
                    continue
            # Committed: the mail server has the message and the row says so.
            result.sent.append(pk)
            remaining.pop(0)
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
    if unreachable:
        result.error = unreachable
        result.failed += _record_failure(remaining, error=unreachable, now=timezone.now())
    if unreachable or broken:
        failed = set(result.failed)
        result.retry_ids += [pk for pk in remaining if pk not in failed]
        logger.warning(
            "Invitations: the mail server could not be used (%s); %d invitation(s) will be tried again.",
            result.error,
            len(result.retry_ids),
        )
    return result


def invitations_sweep(*, now: datetime.datetime | None = None) -> list[int]:
    """The sweeper (Celery beat): queue again every invitation still pending whose
    ``sweep_after`` has passed (never queued because the broker was down, its message lost, or
    its retries used up) and that no task is sending at this moment. Each one's ``sweep_after``
    moves on by ``INVITATION_SWEEP_AFTER_MINUTES`` so the next run leaves it to this one's task.
    Returns the ids it queued (or tried to)."""
    from .models import Invitation

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Invitation.objects.select_for_update(skip_locked=True)
            .filter(status=Invitation.Status.PENDING, sweep_after__lte=now)
            .order_by("sweep_after", "pk")
            .values_list("pk", flat=True)[:SWEEP_LIMIT]
        )
        if ids:
            later = now + datetime.timedelta(minutes=settings.INVITATION_SWEEP_AFTER_MINUTES)
            Invitation.objects.filter(pk__in=ids).update(sweep_after=later)
    if ids:
        queued = invitations_publish(invitation_ids=ids)
        logger.info("Invitations sweeper: %d pending invitation(s) found, %d queued.", len(ids), queued)
    return ids


@transaction.atomic
def learner_invitation_accept(*, user, password: str) -> User:
    """The invited learner has chosen a password: set it, mark their email address verified and
    primary for allauth, and tell other apps (``academy.signals.invitation_accepted``: their
    invited enrolments become taking part)."""
    from allauth.account.models import EmailAddress

    from .signals import invitation_accepted

    user.set_password(password)
    user.save(update_fields=["password"])
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).update(primary=False)
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    elif not (address.verified and address.primary):
        address.verified = True
        address.primary = True
        address.save(update_fields=["verified", "primary"])
    invitation_accepted.send(sender=User, user=user)
    return user


@transaction.atomic
def name_change_request_resolve(*, name_change_request, resolved_by, approve: bool, staff_note: str = ""):
    """Staff deal with a request: approving it corrects the account's name (reissuing the
    certificate is then done from the certificates admin); declining leaves the name as it is.
    Approving a name that breaks ``academy.names.name_clean`` raises ValidationError."""
    from django.utils import timezone

    from .models import NameChangeRequest

    req = NameChangeRequest.objects.select_for_update().select_related("user").get(pk=name_change_request.pk)
    if req.status != NameChangeRequest.Status.OPEN:
        return req
    if approve:
        # The rule of names applies to a request made before the rule existed too: ValidationError
        # (nothing changed) with the reason, for the staff member to decline and ask again.
        req.user.full_name = name_clean(req.requested_name)
        req.user.save(update_fields=["full_name"])
    req.status = NameChangeRequest.Status.DONE if approve else NameChangeRequest.Status.DECLINED
    req.resolved_at = timezone.now()
    req.resolved_by = resolved_by
    req.staff_note = staff_note.strip()
    req.save(update_fields=["status", "resolved_at", "resolved_by", "staff_note"])
    return req
