"""State changes of certificates: request, issue (render, sign, store, email), fail, revoke,
reissue, retry, and the sweeper that re-enqueues what a lost message left behind.

Every function is keyword-only. ``certificate_issue`` is idempotent: it locks the row, re-checks
its state and does only the work still missing, so two workers running it at once issue once.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from .models import Certificate, CertificateVersion

logger = logging.getLogger(__name__)

# Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or typed is unambiguous.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class CertificateIssueError(Exception):
    """A failure that retrying will not cure (bad signing key, unusable data): the certificate
    is marked failed with this message as its reason."""


def verification_code_new() -> str:
    """20 random base32 characters (100 bits) shown as XXXXX-XXXXX-XXXXX-XXXXX."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def verification_code_normalise(code: str) -> str:
    """What someone typed, as a code: upper case, Crockford's look-alikes mapped, grouped in fives."""
    cleaned = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(cleaned) != 20 or any(ch not in _CODE_ALPHABET for ch in cleaned):
        return ""
    return "-".join(cleaned[i : i + 5] for i in range(0, 20, 5))


def verification_url(code: str) -> str:
    return settings.SITE_URL + reverse("certificates:verify", kwargs={"code": code})


def download_url(code: str) -> str:
    return settings.SITE_URL + reverse("certificates:download", kwargs={"code": code})


def _enqueue_on_commit(certificate_id: int) -> None:
    """Send the issue task once the current transaction commits. If the broker is down the
    error is logged and the sweeper enqueues the certificate later: nothing is lost."""
    from .tasks import certificate_issue_task

    def enqueue():
        try:
            certificate_issue_task.delay(certificate_id)
        except Exception:  # the broker being unreachable must not undo the learner's completion
            logger.exception("Could not enqueue certificate %s; the sweeper will pick it up.", certificate_id)

    transaction.on_commit(enqueue)


@transaction.atomic
def certificate_request(*, enrolment) -> Certificate:
    """Create the pending certificate of a completed enrolment (once, whatever calls it) and
    enqueue its issuing after commit."""
    certificate, created = Certificate.objects.get_or_create(
        enrolment=enrolment, defaults={"verification_code": verification_code_new()}
    )
    if created or certificate.status == Certificate.Status.PENDING:
        _enqueue_on_commit(certificate.pk)
    return certificate


def _snapshot(certificate: Certificate) -> None:
    """Copy the learner's name, programme, cohort, partner and achieved competencies onto the row."""
    from programmes.models import Achievement

    enrolment = certificate.enrolment
    learner = enrolment.learner
    certificate.learner_name = (learner.full_name or learner.email).strip()
    certificate.programme_title = enrolment.programme.title
    certificate.cohort_name = enrolment.cohort.name
    certificate.partner_name = enrolment.cohort.partner.name
    achievements = (
        Achievement.objects.filter(enrolment=enrolment, competency__is_active=True)
        .filter(Q(competency__domain__is_core=True) | Q(competency__domain__programme_id=enrolment.programme_id))
        .select_related("competency__domain")
        .order_by(
            "-competency__domain__is_core",
            "competency__domain__order",
            "competency__domain__name",
            "competency__order",
            "competency__id",
        )
    )
    domains: dict[int, dict] = {}
    for achievement in achievements:
        domain = achievement.competency.domain
        entry = domains.setdefault(domain.pk, {"domain": domain.name, "core": domain.is_core, "competencies": []})
        entry["competencies"].append(achievement.competency.statement)
    certificate.competencies = list(domains.values())


def certificate_signatory(programme) -> dict:
    """Who signs: the programme's signatory (with its signature image, if any), or - for a programme
    that names none - the Academy's default signatory from settings (name, title and signature
    image together, never someone else's signature under a programme's own signatory)."""
    from .rendering import default_signature_data_uri, signature_data_uri

    if programme.signatory_name:
        return {
            "signatory_name": programme.signatory_name,
            "signatory_title": programme.signatory_title,
            "signature_uri": signature_data_uri(programme.signatory_signature),
        }
    return {
        "signatory_name": settings.CERTIFICATE_SIGNATORY_NAME or _("Citizen Science Academy"),
        "signatory_title": settings.CERTIFICATE_SIGNATORY_TITLE,
        "signature_uri": default_signature_data_uri() if settings.CERTIFICATE_SIGNATORY_NAME else "",
    }


def certificate_context(certificate: Certificate) -> dict:
    """What the certificate template prints (from the row's snapshots and the programme)."""
    from .rendering import qr_data_uri

    programme = certificate.enrolment.programme
    url = verification_url(certificate.verification_code)
    with translation.override("en-gb"):
        issued_on = formats.date_format(timezone.localdate(certificate.issued_at), "j F Y")
        wording = programme.certificate_wording or _(
            "has completed the programme and shown every competency it requires"
        )
    return {
        "certificate": certificate,
        "wording": wording,
        **certificate_signatory(programme),
        "issued_on": issued_on,
        "verification_url": url,
        "qr_uri": qr_data_uri(url),
    }


def certificate_printable_check(context: dict) -> None:
    """Refuse (CertificateIssueError) to print text the bundled fonts cannot print - a name in a
    script they do not cover - rather than send a learner a certificate with empty boxes in it."""
    from .rendering import unprintable_characters

    certificate = context["certificate"]
    texts = [
        (_("the learner's name"), certificate.learner_name),
        (_("the programme's title"), certificate.programme_title),
        (_("the cohort's name"), certificate.cohort_name),
        (_("the partner's name"), certificate.partner_name),
        (_("the programme's certificate wording"), context["wording"]),
        (_("the signatory's name"), context["signatory_name"]),
        (_("the signatory's title"), context["signatory_title"]),
        *((_("the competency domain %(name)s") % {"name": d["domain"]}, d["domain"]) for d in certificate.competencies),
    ]
    problems = [(label, chars) for label, text in texts if (chars := unprintable_characters(text or ""))]
    if problems:
        raise CertificateIssueError(
            _(
                "The certificate's fonts cannot print some characters of %(where)s. Correct the text (for "
                "example, add a spelling in Latin letters) and try again."
            )
            % {"where": "; ".join(f"{label} ({' '.join(chars)})" for label, chars in problems)}
        )


def certificate_pdf_build(*, certificate: Certificate) -> bytes:
    """Render and sign the certificate's PDF from its snapshots. Raises CertificateIssueError
    for a problem retrying cannot fix."""
    from .rendering import CertificateTooLongError, certificate_pdf_render
    from .signing import SigningKeyError, pdf_sign

    context = certificate_context(certificate)
    certificate_printable_check(context)
    try:
        pdf = certificate_pdf_render(context)
    except CertificateTooLongError as exc:
        raise CertificateIssueError(
            _(
                "The certificate's text is too long to fit on one page, even in smaller print. Shorten "
                "the programme's certificate wording or title, or the names of its competency domains, "
                "then try again."
            )
        ) from exc
    try:
        return pdf_sign(
            pdf,
            reason=_("Certificate %(code)s issued by the Citizen Science Academy")
            % {"code": certificate.verification_code},
        )
    except SigningKeyError as exc:
        raise CertificateIssueError(_("Could not sign the PDF: %(reason)s") % {"reason": exc}) from exc


def _locked(certificate_id: int) -> Certificate | None:
    return (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("enrolment__learner", "enrolment__programme", "enrolment__cohort__partner")
        .filter(pk=certificate_id)
        .first()
    )


def _locked_in_status(certificate: Certificate, status: str, refusal: str, code: str) -> Certificate:
    """The certificate's row, locked, if it is in ``status``; else ValidationError(``refusal``),
    a message with ``%(code)s`` and ``%(status)s`` placeholders."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status != status:
        raise ValidationError(
            refusal % {"code": certificate.verification_code, "status": certificate.get_status_display()}, code=code
        )
    return certificate


def certificate_issue(*, certificate_id: int) -> Certificate | None:
    """Issue a certificate: do whatever is still missing (PDF, then the learner's email).

    Safe to call any number of times, at once: each step runs under the row lock and re-checks.
    Returns the certificate, or None if it no longer exists.
    """
    stored_name = ""
    try:
        with transaction.atomic():
            certificate = _locked(certificate_id)
            if certificate is None:
                return None
            if certificate.status in (Certificate.Status.PENDING, Certificate.Status.FAILED):
                if certificate.enrolment.status != certificate.enrolment.Status.COMPLETED:
                    raise CertificateIssueError(
                        _("The enrolment is no longer completed (status: %(status)s), so no certificate is issued.")
                        % {"status": certificate.enrolment.get_status_display()}
                    )
                now = timezone.now()
                certificate.last_attempt_at = now
                certificate.issued_at = now
                _snapshot(certificate)
                signed = certificate_pdf_build(certificate=certificate)
                certificate.pdf.save("certificate.pdf", ContentFile(signed), save=False)
                stored_name = certificate.pdf.name
                certificate.sha256 = hashlib.sha256(signed).hexdigest()
                certificate.status = Certificate.Status.ISSUED
                certificate.failure_reason = ""
                certificate.save()
    except BaseException:
        # The row was rolled back: do not leave its freshly written file behind.
        if stored_name:
            default_storage.delete(stored_name)
        raise
    if certificate.status == Certificate.Status.ISSUED and certificate.emailed_at is None:
        certificate_email_send(certificate_id=certificate.pk)
    return certificate


@transaction.atomic
def certificate_email_send(*, certificate_id: int) -> bool:
    """Email the learner their download and verification links, once. Returns whether sent."""
    certificate = _locked(certificate_id)
    if certificate is None or certificate.status != Certificate.Status.ISSUED or certificate.emailed_at:
        return False
    learner = certificate.enrolment.learner
    context = {
        "certificate": certificate,
        "learner": learner,
        "download_url": download_url(certificate.verification_code),
        "verification_url": verification_url(certificate.verification_code),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("certificates/email/issued/subject.txt", context).split())
        body_txt = render_to_string("certificates/email/issued/body.txt", context)
        body_html = render_to_string("certificates/email/issued/body.html", context)
    message = EmailMultiAlternatives(subject, body_txt, settings.DEFAULT_FROM_EMAIL, [learner.email])
    message.attach_alternative(body_html, "text/html")
    message.send()
    certificate.emailed_at = timezone.now()
    certificate.save(update_fields=["emailed_at"])
    return True


@transaction.atomic
def certificate_fail(*, certificate_id: int, reason: str) -> Certificate | None:
    """Record why issuing failed (status failed, attempts counted). An issued or revoked
    certificate is left as it is."""
    certificate = Certificate.objects.select_for_update().filter(pk=certificate_id).first()
    if certificate is None or certificate.status not in (Certificate.Status.PENDING, Certificate.Status.FAILED):
        return certificate
    certificate.status = Certificate.Status.FAILED
    certificate.failure_reason = (reason or _("Unknown error")).strip()[:2000]
    certificate.attempts = min(certificate.attempts + 1, 32767)
    certificate.last_attempt_at = timezone.now()
    certificate.issued_at = None
    certificate.save(update_fields=["status", "failure_reason", "attempts", "last_attempt_at", "issued_at"])
    return certificate


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, revoked_by, reason: str) -> Certificate:
    """Revoke an issued certificate: it stays on record, the verification page says it is no
    longer valid. The change is audited (simple_history, with the staff member)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the certificate is revoked."), code="reason_required")
    certificate = _locked_in_status(
        certificate,
        Certificate.Status.ISSUED,
        _("Only an issued certificate can be revoked; %(code)s is “%(status)s”."),
        "not_issued",
    )
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = revoked_by
    certificate.revocation_reason = reason
    certificate._history_user = revoked_by
    certificate.save(update_fields=["status", "revoked_at", "revoked_by", "revocation_reason"])
    return certificate


@transaction.atomic
def certificate_reissue(*, certificate: Certificate, reissued_by, reason: str = "") -> Certificate:
    """Make a new signed version (after a name correction, say) with the same code. The current
    PDF is kept as a superseded ``CertificateVersion``; the new one is issued by the worker."""
    certificate = _locked_in_status(
        certificate,
        Certificate.Status.ISSUED,
        _("Only an issued certificate can be reissued; %(code)s is “%(status)s”."),
        "not_issued",
    )
    now = timezone.now()
    CertificateVersion.objects.create(
        certificate=certificate,
        version=certificate.version,
        learner_name=certificate.learner_name,
        pdf=certificate.pdf.name,
        sha256=certificate.sha256,
        issued_at=certificate.issued_at,
        superseded_at=now,
        superseded_by=reissued_by,
        reason=(reason or "").strip(),
    )
    certificate.version += 1
    certificate.status = Certificate.Status.PENDING
    certificate.pdf = ""
    certificate.sha256 = ""
    certificate.issued_at = None
    certificate.emailed_at = None
    certificate.attempts = 0
    certificate.failure_reason = ""
    certificate.requested_at = now
    certificate._history_user = reissued_by
    certificate.save()
    _enqueue_on_commit(certificate.pk)
    return certificate


@transaction.atomic
def certificate_retry(*, certificate: Certificate, retried_by=None) -> Certificate:
    """Try a failed certificate again from scratch (attempts reset), e.g. after fixing the key."""
    certificate = _locked_in_status(
        certificate,
        Certificate.Status.FAILED,
        _("Only a failed certificate can be retried; %(code)s is “%(status)s”."),
        "not_failed",
    )
    certificate.status = Certificate.Status.PENDING
    certificate.attempts = 0
    certificate.failure_reason = ""
    certificate.requested_at = timezone.now()
    certificate._history_user = retried_by
    certificate.save(update_fields=["status", "attempts", "failure_reason", "requested_at"])
    _enqueue_on_commit(certificate.pk)
    return certificate


def certificates_enqueue_stale(*, older_than: datetime.timedelta | None = None) -> list[int]:
    """The sweeper: enqueue again every certificate still pending, or failed with attempts left,
    whose last request or attempt is older than ``older_than``. Returns the ids enqueued."""
    from .selectors import certificates_stale
    from .tasks import certificate_issue_task

    if older_than is None:
        older_than = datetime.timedelta(minutes=settings.CERTIFICATE_SWEEP_AFTER_MINUTES)
    ids = list(certificates_stale(older_than=older_than).values_list("pk", flat=True))
    enqueued = []
    for certificate_id in ids:
        try:
            certificate_issue_task.delay(certificate_id)
        except Exception:
            logger.exception("Sweeper could not enqueue certificate %s", certificate_id)
            break
        enqueued.append(certificate_id)
    if enqueued:
        logger.info("Sweeper re-enqueued %d certificate(s).", len(enqueued))
    return enqueued
