"""State changes of certificates: request, issue (render, sign, store, email), fail, revoke,
reissue, retry, and the sweeper that re-enqueues what a lost message left behind.

Every function is keyword-only. ``certificate_issue`` is idempotent and holds no lock while it
works: it claims the row with a conditional update, renders, signs and stores outside any
transaction, and issues with a second conditional update that only the claiming attempt can win,
so two workers running it at once issue once and leave one file.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from .models import (
    Certificate,
    CertificateIntegrityCheck,
    CertificateVersion,
    StatusList,
    StatusListEntry,
    certificate_pdf_name,
)

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


# Publishing a task tries twice, at once (the second try reconnects if the pooled connection went
# stale, say after a Redis restart), then gives up: Celery's default policy would wait for about
# 0.7 s, and a web request whose transaction enqueues a task must not be held up by a broker
# outage. The sweeper enqueues whatever could not be sent.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def _broker_errors() -> tuple[type[BaseException], ...]:
    """What publishing raises when the broker is unreachable (kombu wraps most of them)."""
    import kombu.exceptions
    import redis.exceptions

    return (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def certificate_issue_enqueue(certificate_id: int) -> bool:
    """Send the issue task now. Returns False (with a logged warning) when the broker cannot be
    reached: the certificate stays pending and the sweeper enqueues it later."""
    from .tasks import certificate_issue_task

    try:
        certificate_issue_task.apply_async((certificate_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except _broker_errors() as exc:
        logger.warning(
            "Could not enqueue certificate %s (broker unreachable: %s); the sweeper will enqueue it.",
            certificate_id,
            exc,
        )
        return False
    return True


def _enqueue_on_commit(certificate_id: int) -> None:
    """Send the issue task once the current transaction commits. If the broker is down the
    warning is logged and the sweeper enqueues the certificate later: nothing is lost, and the
    request that completed the enrolment answers as usual (``robust``: not even an unexpected
    error while enqueueing fails it; Django logs it)."""

    def enqueue():
        certificate_issue_enqueue(certificate_id)

    transaction.on_commit(enqueue, robust=True)


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
    """Render and sign the certificate's PDF from its snapshots, with its credential embedded
    (when it has one). Raises CertificateIssueError for a problem retrying cannot fix."""
    from .rendering import CertificateTooLongError, certificate_pdf_render
    from .signing import SigningKeyError, pdf_sign

    context = certificate_context(certificate)
    certificate_printable_check(context)
    # The credential (set on the instance by credential_issue_build) goes inside the PDF/A-3 file
    # as an associated file before it is signed, so the signature covers it too.
    credential_json = credential_bytes(certificate.credential) if certificate.credential else None
    try:
        pdf = certificate_pdf_render(context, credential_json=credential_json)
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


# --- The credential and its status list entry -----------------------------------------------

# How many random indices an allocation tries before it looks for the free ones (a collision is
# rare until a list is well over half used).
STATUS_INDEX_RANDOM_TRIES = 16


def credential_bytes(credential: dict) -> bytes:
    """The credential as served and hashed: JSON with sorted keys (``@context`` first), indented,
    UTF-8. Sorted keys make it the same bytes whatever order the database returns them in."""
    return json.dumps(credential, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")


def _status_list_open(purpose: str) -> StatusList:
    """The list new entries go on: the oldest list of ``purpose`` not yet full (created if none).
    Two workers creating the first list at once make two lists: both are served and valid."""
    status_list = StatusList.objects.filter(purpose=purpose, full=False).order_by("pk").first()
    if status_list is None:
        from .status_list import bitstring_new

        size = StatusList._meta.get_field("size").default
        status_list = StatusList.objects.create(purpose=purpose, size=size, bits=bitstring_new(size))
    return status_list


def status_entry_allocate(*, certificate: Certificate, purpose: str = StatusList.Purpose.REVOCATION) -> StatusListEntry:
    """Hand out an index of a status list to this issuing attempt of ``certificate``: chosen at
    random (``secrets``), unique per list by a database constraint, never handed out again (an
    attempt that then loses leaves its index unused). A short transaction of its own."""
    for _list_round in range(4):
        status_list = _status_list_open(purpose)
        for _try in range(STATUS_INDEX_RANDOM_TRIES):
            index = secrets.randbelow(status_list.size)
            try:
                with transaction.atomic():
                    return StatusListEntry.objects.create(
                        status_list=status_list,
                        index=index,
                        certificate=certificate,
                        certificate_version=certificate.version,
                    )
            except IntegrityError:
                continue  # taken: another random index
        # Crowded: choose at random among the indices still free, or move on to a new list.
        used = set(StatusListEntry.objects.filter(status_list=status_list).values_list("index", flat=True))
        if len(used) < status_list.size:
            free = [i for i in range(status_list.size) if i not in used]
            try:
                with transaction.atomic():
                    return StatusListEntry.objects.create(
                        status_list=status_list,
                        index=secrets.choice(free),
                        certificate=certificate,
                        certificate_version=certificate.version,
                    )
            except IntegrityError:
                continue
        StatusList.objects.filter(pk=status_list.pk).update(full=True)
    raise CertificateIssueError(_("No status list index could be handed out for the certificate's credential."))


def status_bit_set(*, entry_id: int) -> None:
    """Set (revoke) the bit of a status list entry. Locks the list's row (select_for_update):
    call it inside the transaction that changes the certificate, so both happen or neither."""
    from .status_list import bit_set

    entry = StatusListEntry.objects.get(pk=entry_id)
    status_list = StatusList.objects.select_for_update().get(pk=entry.status_list_id)
    bits = bit_set(bytes(status_list.bits), entry.index)
    if bits == bytes(status_list.bits):
        return
    status_list.bits = bits
    status_list.version += 1
    status_list.updated_at = timezone.now()
    status_list.save(update_fields=["bits", "version", "updated_at"])


def credential_issue_build(*, certificate: Certificate) -> dict:
    """Build and sign the certificate's Open Badges 3.0 credential (outside any transaction): an
    index of the revocation list is handed out (a short transaction of its own) and named in its
    ``credentialStatus``. Sets ``credential``, ``credential_sha256`` and ``status_entry`` on the
    instance (the finishing update stores them). A missing or unusable credential key, or a
    credential that would lose a term in JSON-LD, is a CertificateIssueError (not retried)."""
    from .credentials import CredentialError, CredentialKeyError, credential_build, credential_key, credential_sign
    from .status_list import status_entry_document

    try:
        key = credential_key()  # before an index is handed out: a missing key wastes none
    except CredentialKeyError as exc:
        raise CertificateIssueError(_("Could not sign the credential: %(reason)s") % {"reason": exc}) from exc
    entry = status_entry_allocate(certificate=certificate)
    status = status_entry_document(
        list_id=entry.status_list_id, index=entry.index, purpose=StatusList.Purpose.REVOCATION
    )
    try:
        credential = credential_sign(
            credential_build(certificate, status_entry=status), key=key, created=certificate.issued_at
        )
    except CredentialKeyError as exc:
        raise CertificateIssueError(_("Could not sign the credential: %(reason)s") % {"reason": exc}) from exc
    except CredentialError as exc:
        raise CertificateIssueError(
            _("The certificate's credential could not be made: %(reason)s") % {"reason": exc}
        ) from exc
    certificate.credential = credential
    certificate.credential_sha256 = hashlib.sha256(credential_bytes(credential)).hexdigest()
    certificate.status_entry = entry
    return credential


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


# --- Issuing: claim, slow work outside any transaction, conditional finish -------------------

ISSUABLE = (Certificate.Status.PENDING, Certificate.Status.FAILED)

# How long an issuing attempt's claim on a certificate holds. Longer than the task's hard time
# limit (90 s), so a live attempt is never overtaken, and shorter than the sweeper's
# CERTIFICATE_SWEEP_AFTER_MINUTES, so what the sweeper enqueues again after a killed worker can
# take the claim over. Even an attempt overtaken while still alive cannot issue (its finishing
# update no longer matches) and deletes its own file.
DEFAULT_CLAIM_TIMEOUT_SECONDS = 120


class CertificateClaimedError(Exception):
    """Another issuing attempt holds the certificate's claim; it goes stale in ``retry_after`` seconds."""

    def __init__(self, certificate_id: int, retry_after: float):
        super().__init__(f"Certificate {certificate_id} is being issued by another attempt.")
        self.retry_after = max(1.0, retry_after)


def claim_timeout() -> datetime.timedelta:
    seconds = getattr(settings, "CERTIFICATE_CLAIM_TIMEOUT_SECONDS", DEFAULT_CLAIM_TIMEOUT_SECONDS)
    return datetime.timedelta(seconds=float(seconds))


def _storage():
    return Certificate._meta.get_field("pdf").storage


def _attempt_file_delete(token: str, claimed_at: datetime.datetime | None) -> None:
    """Remove the file the attempt with this (lost or given-up) claim may have written."""
    if token and claimed_at is not None:
        _attempt_name_delete(certificate_pdf_name(token=token, when=claimed_at))


def _attempt_name_delete(name: str) -> None:
    try:
        _storage().delete(name)
    except Exception:  # best effort: storage may be down; no row refers to the name
        logger.warning("Could not delete %s, written by an abandoned issuing attempt.", name, exc_info=True)


def _claim_live(claim_token: str, claimed_at: datetime.datetime | None, now: datetime.datetime) -> bool:
    """An attempt holds the claim and took it recently enough to be still at work (a claim older
    than the timeout is a killed worker's, and may be taken over)."""
    return bool(claim_token) and claimed_at is not None and claimed_at >= now - claim_timeout()


def _claim(certificate_id: int) -> tuple[str, datetime.datetime] | None:
    """Claim a pending (or failed) certificate for this attempt with one conditional update: a
    compare-and-set on the previous claim, so exactly one attempt wins. The statement commits at
    once (autocommit); no lock or transaction is held afterwards. Returns (token, claimed at); None
    if the certificate is gone or no longer issuable; raises CertificateClaimedError while another
    attempt's claim is live."""
    now = timezone.now()
    previous = Certificate.objects.filter(pk=certificate_id).values("status", "claim_token", "claimed_at").first()
    if previous is None or previous["status"] not in ISSUABLE:
        return None
    if _claim_live(previous["claim_token"], previous["claimed_at"], now):
        held_until = previous["claimed_at"] + claim_timeout()
        raise CertificateClaimedError(certificate_id, (held_until - now).total_seconds() + 1)
    token = secrets.token_urlsafe(24)
    won = Certificate.objects.filter(
        pk=certificate_id,
        status__in=ISSUABLE,
        claim_token=previous["claim_token"],
        claimed_at=previous["claimed_at"],
    ).update(claim_token=token, claimed_at=now, last_attempt_at=now)
    if not won:
        # Another attempt claimed it (or issued it, or staff changed it) between the two queries.
        current = Certificate.objects.filter(pk=certificate_id).values("status", "claim_token", "claimed_at").first()
        if (
            current
            and current["status"] in ISSUABLE
            and _claim_live(current["claim_token"], current["claimed_at"], now)
        ):
            held_until = current["claimed_at"] + claim_timeout()
            raise CertificateClaimedError(certificate_id, (held_until - now).total_seconds() + 1)
        return None
    if previous["claim_token"]:
        logger.warning(
            "Certificate %s: took over a claim left since %s (a worker stopped mid-issue?).",
            certificate_id,
            previous["claimed_at"],
        )
        _attempt_file_delete(previous["claim_token"], previous["claimed_at"])
    return token, now


def _claim_release(certificate_id: int, token: str) -> None:
    """Give the claim up (the attempt failed): only if it is still this attempt's."""
    Certificate.objects.filter(pk=certificate_id, claim_token=token).update(claim_token="", claimed_at=None)


def _finish(certificate: Certificate, token: str, stored_name: str) -> bool:
    """The conditional update that issues: only if this attempt still holds the claim and the
    certificate is still pending (or failed). Records the change in the history. Returns whether
    it won."""
    with transaction.atomic():
        won = Certificate.objects.filter(pk=certificate.pk, claim_token=token, status__in=ISSUABLE).update(
            status=Certificate.Status.ISSUED,
            pdf=stored_name,
            sha256=certificate.sha256,
            issued_at=certificate.issued_at,
            learner_name=certificate.learner_name,
            programme_title=certificate.programme_title,
            cohort_name=certificate.cohort_name,
            partner_name=certificate.partner_name,
            competencies=certificate.competencies,
            credential=certificate.credential,
            credential_sha256=certificate.credential_sha256,
            status_entry=certificate.status_entry,
            failure_reason="",
            claim_token="",
            claimed_at=None,
        )
        if won:
            Certificate.history.bulk_history_create([Certificate.objects.get(pk=certificate.pk)], update=True)
    return bool(won)


def _with_relations():
    return Certificate.objects.select_related(
        "enrolment__learner", "enrolment__programme", "enrolment__cohort__partner"
    )


def _issue_claimed(certificate_id: int, token: str, claimed_at: datetime.datetime) -> bool:
    """The slow part of issuing, for the attempt holding claim ``token``: outside any transaction
    and without any lock. Returns whether this attempt issued the certificate."""
    stored_name = ""
    won = False
    outcome_unknown = False
    try:
        certificate = _with_relations().filter(pk=certificate_id).first()
        if certificate is None:
            return False
        if certificate.enrolment.status != certificate.enrolment.Status.COMPLETED:
            raise CertificateIssueError(
                _("The enrolment is no longer completed (status: %(status)s), so no certificate is issued.")
                % {"status": certificate.enrolment.get_status_display()}
            )
        certificate.issued_at = claimed_at
        _snapshot(certificate)
        credential_issue_build(certificate=certificate)
        signed = certificate_pdf_build(certificate=certificate)
        certificate.sha256 = hashlib.sha256(signed).hexdigest()
        stored_name = _storage().save(certificate_pdf_name(token=token, when=claimed_at), ContentFile(signed))
        try:
            won = _finish(certificate, token, stored_name)
        except BaseException:
            # The connection may have died after the update committed: look before deleting a file
            # the row may now name. If even that fails, keep file and claim: whoever takes the
            # stale claim over deletes the file unless the certificate was issued with it.
            try:
                won = Certificate.objects.filter(pk=certificate_id, pdf=stored_name).exists()
            except BaseException:
                outcome_unknown = True
            raise
        if not won:
            logger.info("Certificate %s: another attempt issued it, or staff changed it, first.", certificate_id)
        return won
    except BaseException:
        if not won and not outcome_unknown:
            with contextlib.suppress(Exception):  # the database may be what failed; the claim then goes stale
                _claim_release(certificate_id, token)
        raise
    finally:
        if not won and not outcome_unknown:
            # Lost, or failed: never leave this attempt's file behind (no row refers to it).
            _attempt_file_delete(token, claimed_at)
            if stored_name and stored_name != certificate_pdf_name(token=token, when=claimed_at):
                _attempt_name_delete(stored_name)


def certificate_issue(*, certificate_id: int) -> Certificate | None:
    """Issue a certificate: do whatever is still missing (PDF, then the learner's email).

    1. Claim the row (one conditional update, committed: no lock or transaction stays open).
    2. Outside any transaction: snapshot, render, sign, and write the PDF under a name unique to
       this attempt (``certificate_pdf_name``).
    3. Finish with a conditional update (still our claim, still pending): issued. If it loses
       (issued by another attempt, reissued or retried by staff, or a stale claim taken over), the
       attempt deletes its file and changes nothing. On any error it deletes its file and gives
       the claim up.

    Safe to call any number of times, at once: one attempt issues, one file stays. Raises
    CertificateClaimedError while another attempt's claim is live, CertificateIssueError for a
    problem retrying cannot fix. Returns the certificate, or None if it no longer exists.
    """
    claim = _claim(certificate_id)
    if claim is not None:
        _issue_claimed(certificate_id, *claim)
    certificate = _with_relations().filter(pk=certificate_id).first()
    if certificate is not None and certificate.status == Certificate.Status.ISSUED and certificate.emailed_at is None:
        certificate_email_send(certificate_id=certificate.pk)
        certificate.refresh_from_db()
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
    certificate is left as it is, and so is one that another issuing attempt has claimed since
    (that attempt decides)."""
    certificate = Certificate.objects.select_for_update().filter(pk=certificate_id).first()
    if certificate is None or certificate.status not in ISSUABLE:
        return certificate
    if _claim_live(certificate.claim_token, certificate.claimed_at, timezone.now()):
        logger.info("Certificate %s: not marked failed, another attempt is issuing it.", certificate_id)
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
    if certificate.status_entry_id:
        status_bit_set(entry_id=certificate.status_entry_id)  # same transaction: both or neither
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
        credential=certificate.credential,
        credential_sha256=certificate.credential_sha256,
        status_entry_id=certificate.status_entry_id,
    )
    if certificate.status_entry_id:
        # The superseded credential is revoked in the status list, in this same transaction.
        status_bit_set(entry_id=certificate.status_entry_id)
    _claim_drop_on_commit(certificate)
    certificate.version += 1
    certificate.credential = None
    certificate.credential_sha256 = ""
    certificate.status_entry = None
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
    _claim_drop_on_commit(certificate)
    certificate.status = Certificate.Status.PENDING
    certificate.attempts = 0
    certificate.failure_reason = ""
    certificate.requested_at = timezone.now()
    certificate._history_user = retried_by
    certificate.save(
        update_fields=["status", "attempts", "failure_reason", "requested_at", "claim_token", "claimed_at"]
    )
    _enqueue_on_commit(certificate.pk)
    return certificate


def _claim_drop_on_commit(certificate: Certificate) -> None:
    """Staff asked for a fresh attempt (retry, reissue): an attempt still working from before can
    no longer finish (its conditional update will not match) and the file it may have written is
    deleted once this commits."""
    token, claimed_at = certificate.claim_token, certificate.claimed_at
    certificate.claim_token = ""
    certificate.claimed_at = None
    if token:
        transaction.on_commit(lambda: _attempt_file_delete(token, claimed_at), robust=True)


def certificates_enqueue_stale(*, older_than: datetime.timedelta | None = None) -> list[int]:
    """The sweeper: enqueue again every certificate still pending, or failed with attempts left,
    whose last request or attempt is older than ``older_than``. Returns the ids enqueued."""
    from .selectors import certificates_stale

    if older_than is None:
        older_than = datetime.timedelta(minutes=settings.CERTIFICATE_SWEEP_AFTER_MINUTES)
    ids = list(certificates_stale(older_than=older_than).values_list("pk", flat=True))
    enqueued = []
    for certificate_id in ids:
        if not certificate_issue_enqueue(certificate_id):
            break  # the broker is down: the next sweep tries again
        enqueued.append(certificate_id)
    if enqueued:
        logger.info("Sweeper re-enqueued %d certificate(s).", len(enqueued))
    return enqueued


@transaction.atomic
def certificate_pdf_renewal_record(*, certificate_id: int, previous_sha256: str, pdf: bytes) -> bool:
    """The archival timestamp renewal rewrote an issued certificate's PDF (the same file with an
    incremental update): record its new hash, only if the certificate is still issued with the
    file it had (a conditional update), and keep the previous hash so copies downloaded before
    still verify. Returns whether it was recorded."""
    from .models import CertificateFileRenewal

    new_sha256 = hashlib.sha256(pdf).hexdigest()
    updated = Certificate.objects.filter(
        pk=certificate_id, status=Certificate.Status.ISSUED, sha256=previous_sha256
    ).update(sha256=new_sha256)
    if updated:
        CertificateFileRenewal.objects.create(certificate_id=certificate_id, previous_sha256=previous_sha256)
    return bool(updated)


def integrity_check_record(
    *, started_at: datetime.datetime, checked: int, failures: int, problems: list[str]
) -> CertificateIntegrityCheck:
    """Record a finished run of the integrity check (``certificates.integrity``), with the first
    problem lines it found."""
    return CertificateIntegrityCheck.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        checked=checked,
        failures=failures,
        report="\n".join(problems),
    )
