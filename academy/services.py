"""State changes of accounts: inviting learners, and what happens when they accept.

Every function is keyword-only. Emails are sent after the transaction commits, so a rolled-back
enrolment never leaves an invitation in someone's inbox. Bulk invitations go to ONE Celery task.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .tokens import invitation_timeout_seconds, invitation_token_generator

User = get_user_model()


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


def invitation_email_send(*, user, invited_by=None) -> None:
    """Send one invitation email now (called after commit, or from the bulk task)."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "invited_by": invited_by,
            "url": invitation_url(user=user),
            "days": invitation_timeout_seconds() // 86400,
            "SITE_URL": settings.SITE_URL,
        }
        subject, body_txt, body_html = _render_email("academy/email/invitation", context)
    message = EmailMultiAlternatives(subject, body_txt, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(body_html, "text/html")
    message.send()


def _invitation_email_on_commit(*, user_id: int, invited_by_id: int | None) -> None:
    def send():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or user.has_usable_password():
            return
        invited_by = User.objects.filter(pk=invited_by_id).first() if invited_by_id else None
        invitation_email_send(user=user, invited_by=invited_by)

    transaction.on_commit(send)


@transaction.atomic
def learner_invite(*, email: str, full_name: str, invited_by=None) -> "User":
    """Find the account with this email (any letter case) or create it without a usable password,
    and email an invitation to set one after commit. An existing account that already has a
    password is not invited again (they can sign in); its name is left as it is."""
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
        _invitation_email_on_commit(user_id=user.pk, invited_by_id=getattr(invited_by, "pk", None))
    return user


def learner_invitations_queue(*, learners, invited_by=None) -> None:
    """Bulk invitations (e.g. 2,000 learners from a CSV): ONE Celery task, enqueued after commit,
    sends the emails. ``learners`` are users or their ids; those with a password are skipped."""
    from .tasks import learner_invitations_send_task

    user_ids = [getattr(u, "pk", u) for u in learners]
    if not user_ids:
        return
    invited_by_id = getattr(invited_by, "pk", invited_by)
    transaction.on_commit(lambda: learner_invitations_send_task.delay(user_ids, invited_by_id))


def learner_invitations_send(*, user_ids: list[int], invited_by_id: int | None = None) -> int:
    """Send the invitation emails for these users (those still without a password). Returns how
    many were sent. Called by the Celery task."""
    invited_by = User.objects.filter(pk=invited_by_id).first() if invited_by_id else None
    sent = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True).iterator(chunk_size=500):
        if user.has_usable_password():
            continue
        invitation_email_send(user=user, invited_by=invited_by)
        sent += 1
    return sent


def learner_invitation_resend(*, learner, invited_by=None) -> None:
    """Send a fresh invitation link (the portal's and admin's "re-send invitation"). A learner
    who has already set a password gets nothing: they sign in or reset their password."""
    _invitation_email_on_commit(user_id=learner.pk, invited_by_id=getattr(invited_by, "pk", None))


@transaction.atomic
def learner_invitation_accept(*, user, password: str) -> "User":
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
    certificate is then done from the certificates admin); declining leaves the name as it is."""
    from django.utils import timezone

    from .models import NameChangeRequest

    req = NameChangeRequest.objects.select_for_update().select_related("user").get(pk=name_change_request.pk)
    if req.status != NameChangeRequest.Status.OPEN:
        return req
    if approve:
        req.user.full_name = req.requested_name
        req.user.save(update_fields=["full_name"])
    req.status = NameChangeRequest.Status.DONE if approve else NameChangeRequest.Status.DECLINED
    req.resolved_at = timezone.now()
    req.resolved_by = resolved_by
    req.staff_note = staff_note.strip()
    req.save(update_fields=["status", "resolved_at", "resolved_by", "staff_note"])
    return req
