"""The Academy's user: one account per person, email as the login."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    """Users are found and created by email; there are no usernames."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person who uses Academy: staff, facilitator, partner coordinator or citizen scientist.

    PII: ``email`` and ``full_name``; ``full_name`` is printed on certificates.
    """

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(
        _("full name"),
        max_length=200,
        help_text=_("The name exactly as it should appear on a certificate."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class NameChangeRequest(models.Model):
    """A learner asks for the name on their certificates to be corrected after one was issued.

    Staff check it, correct the account's name and reissue the certificate(s).
    PII: ``current_name``, ``requested_name``, ``reason``.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for staff")
        DONE = "done", _("Done: name corrected")
        DECLINED = "declined", _("Declined")

    user = models.ForeignKey(
        "academy.User", on_delete=models.CASCADE, related_name="name_change_requests", verbose_name=_("person")
    )
    current_name = models.CharField(_("name now"), max_length=200)
    requested_name = models.CharField(_("name asked for"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("dealt with"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        "academy.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dealt with by"),
    )
    staff_note = models.TextField(_("staff note"), blank=True)

    class Meta:
        verbose_name = _("name change request")
        verbose_name_plural = _("name change requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="open"), name="namechangerequest_one_open_per_user"
            )
        ]

    def __str__(self):
        return f"{self.current_name} → {self.requested_name} ({self.get_status_display()})"


class Invitation(models.Model):
    """One invitation email to set a first password: written in the same transaction as the
    enrolment or invite, sent afterwards by a Celery task (``academy.tasks``), in chunks.

    ``status`` says whether it went: pending until the mail server accepted it (``sent_at``), or
    until it need not go (the person set a password or was deactivated meanwhile, or a newer
    invitation replaced it), or until the mail server refused the address for good or the
    attempts ran out (``last_error`` says why). The sweeper sends what is still pending once
    ``sweep_after`` has passed, so a broker that was down or lost its messages delays an
    invitation but loses none. Re-sending an invitation is a new row (or resets a pending one).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not needed: account already set up or deactivated")
        REFUSED = "refused", _("Refused by the mail server")
        FAILED = "failed", _("Not sent: gave up after repeated errors")

    user = models.ForeignKey(
        "academy.User", on_delete=models.CASCADE, related_name="invitations", verbose_name=_("person")
    )
    invited_by = models.ForeignKey(
        "academy.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sweep_after = models.DateTimeField(
        _("sweeper sends it after"), help_text=_("If still waiting then, the sweeper queues it again.")
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["sweep_after"], condition=models.Q(status="pending"), name="invitation_pending_sweep_idx"
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.get_status_display()})"
