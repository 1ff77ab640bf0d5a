"""Celery tasks of certificates: issue one certificate; sweep for any left behind; renew the
archival timestamps of long-term (B-LTA) signatures.

``certificate_issue_task`` acknowledges late and is rejected (so requeued) if its worker process
dies. It retries only what may pass on a second try (``failure_is_transient``: the database
connection lost, a storage or network timeout, the broker or the mail server unreachable, the soft
time limit) with exponential backoff whose countdowns (at most 5 minutes) stay far below the
broker's visibility timeout (``CELERY_BROKER_TRANSPORT_OPTIONS``, 30 minutes). Anything else (no
signing key, a missing font, an integrity error, a template error, text that does not fit) marks
the certificate failed at once with a reason staff can act on (``failure_reason``), shown in the
admin; the sweeper tries failed ones again a few times (``CERTIFICATE_MAX_ATTEMPTS``), so there is
no crash loop.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import smtplib

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from celery.utils.time import get_exponential_backoff_interval
from django.db import DatabaseError, InterfaceError, OperationalError
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from academy.storage import storage_error_is_transient

logger = logging.getLogger(__name__)

# OSError numbers that describe a condition that may clear by itself (a full or busy disk, a
# network that is down), unlike a missing file or a refused permission.
_TRANSIENT_ERRNOS = frozenset(
    {
        errno.EAGAIN,
        errno.EBUSY,
        errno.EIO,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.ENETDOWN,
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
    }
)


def _transient_classes() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis.exceptions

    classes: list[type[BaseException]] = [
        OperationalError,  # the database connection was lost, a deadlock, a lock timeout
        InterfaceError,  # the connection is closed
        ConnectionError,  # network and storage: refused, reset, broken pipe
        TimeoutError,  # socket.timeout too
        kombu.exceptions.OperationalError,  # the broker (publishing a retry, say)
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        smtplib.SMTPServerDisconnected,
        smtplib.SMTPConnectError,
        SoftTimeLimitExceeded,  # a busy worker; the hard limit (time_limit) still bounds it
    ]
    try:  # the timestamp authority unreachable or answering an HTTP error (B-LTA signing)
        from pyhanko.sign.timestamps.common_utils import TimestampRequestError

        classes.append(TimestampRequestError)
    except ImportError:
        pass
    try:  # an S3-compatible storage (django-storages) that cannot be reached
        import botocore.exceptions

        classes += [botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError]
    except ImportError:
        pass
    return tuple(classes)


def failure_is_transient(exc: BaseException) -> bool:
    """Whether trying again later may succeed. Everything else fails the certificate at once."""
    if isinstance(exc, _transient_classes()):
        return True
    if storage_error_is_transient(exc):  # object storage: unreachable, 5xx, SlowDown ...
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500  # 4xx: "try again later"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(400 <= code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | PermissionError):
        return exc.errno in _TRANSIENT_ERRNOS
    return False


def failure_reason(exc: BaseException) -> str:
    """The sentence shown to staff in the admin for a failure retrying will not cure."""
    from .services import CertificateIssueError

    detail = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, CertificateIssueError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return _(
            "A file the certificate needs is missing: %(file)s (%(error)s). Restore it, or correct the setting "
            "that names it, then try again."
        ) % {"file": exc.filename or _("unknown file"), "error": exc.strerror or exc}
    if isinstance(exc, PermissionError):
        return _(
            "A file the certificate needs cannot be read or written: %(file)s (%(error)s). Correct its "
            "permissions, then try again."
        ) % {"file": exc.filename or _("unknown file"), "error": exc.strerror or exc}
    if _is_storage_refusal(exc):
        return _(
            "The file storage refused the certificate's file (%(detail)s). Check the storage settings (bucket, "
            "keys, permissions: see docs/deployment.md), then try again."
        ) % {"detail": detail}
    if isinstance(exc, TemplateDoesNotExist | TemplateSyntaxError):
        return _(
            "The certificate's template could not be rendered (%(detail)s). Correct the template, then try again."
        ) % {"detail": detail}
    if isinstance(exc, DatabaseError):
        return _(
            "The database refused to record the certificate (%(detail)s). This needs a developer; try again once "
            "it is fixed."
        ) % {"detail": detail}
    return _("Issuing stopped with an error retrying will not cure (%(detail)s). Try again once it is fixed.") % {
        "detail": detail
    }


def _is_storage_refusal(exc: BaseException) -> bool:
    """An answer of the object storage that retrying will not change (access denied, no such
    bucket, a bad signature)."""
    try:
        import botocore.exceptions
    except ImportError:
        return False
    return isinstance(exc, botocore.exceptions.ClientError | botocore.exceptions.NoCredentialsError)


class CertificateTask(Task):
    """Records why a certificate could not be issued once its retries are exhausted."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from .services import certificate_fail

        certificate_id = kwargs.get("certificate_id", args[0] if args else None)
        if certificate_id is None:
            return
        tries = self.request.retries + 1
        reason = ngettext(
            "Still failing after %(tries)d try: %(reason)s", "Still failing after %(tries)d tries: %(reason)s", tries
        ) % {"tries": tries, "reason": f"{type(exc).__name__}: {exc}".strip()}
        try:
            certificate_fail(certificate_id=certificate_id, reason=reason)
        except Exception:  # the database itself may be what failed; the sweeper will retry
            logger.exception("Could not record the failure of certificate %s", certificate_id)


@worker_init.connect
def _preload_renderer_libraries(**kwargs) -> None:
    """Import WeasyPrint and pyHanko once in the worker's main process, before the pool forks,
    so pool processes share those pages instead of each loading its own copy; then move every
    object made so far out of the garbage collector's sight (``gc.freeze``), so that collections
    in the pool processes do not write to - and so copy - the pages they share."""
    import gc

    import weasyprint  # noqa: F401
    from pyhanko.sign import signers, validation  # noqa: F401

    from . import rendering, signing  # noqa: F401

    gc.collect()
    gc.freeze()


@shared_task(
    bind=True,
    base=CertificateTask,
    acks_late=True,
    reject_on_worker_lost=True,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def certificate_issue_task(self, certificate_id: int) -> str:
    """Render, sign, store and email one certificate (idempotent: safe to run again)."""
    from .services import CertificateClaimedError, CertificateIssueError, certificate_fail, certificate_issue

    try:
        certificate = certificate_issue(certificate_id=certificate_id)
    except CertificateClaimedError as busy:
        # Another attempt is at work (or was killed mid-work): look again once its claim is stale.
        if self.request.retries >= self.max_retries:
            return "claimed"
        raise self.retry(countdown=busy.retry_after) from None
    except Exception as exc:
        if failure_is_transient(exc):
            countdown = get_exponential_backoff_interval(
                factor=self.retry_backoff,
                retries=self.request.retries,
                maximum=self.retry_backoff_max,
                full_jitter=self.retry_jitter,
            )
            logger.warning(
                "Certificate %s: %s: %s; trying again in %ss.", certificate_id, type(exc).__name__, exc, countdown
            )
            raise self.retry(exc=exc, countdown=countdown) from exc
        reason = failure_reason(exc)
        certificate_fail(certificate_id=certificate_id, reason=reason)
        if isinstance(exc, CertificateIssueError):  # a data or key problem staff can fix
            logger.warning("Certificate %s failed: %s", certificate_id, reason)
        else:
            logger.error("Certificate %s failed: %s", certificate_id, reason, exc_info=exc)
        return "failed"
    return certificate.status if certificate is not None else "missing"


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def certificates_sweep_task() -> int:
    """Celery beat, every 5 minutes: re-enqueue certificates left pending or failed."""
    from .services import certificates_enqueue_stale

    return len(certificates_enqueue_stale())


@shared_task(acks_late=True, soft_time_limit=3000, time_limit=3600)
def archival_timestamps_renew_task() -> int:
    """Celery beat, daily: renew the archival timestamp chain of every issued certificate whose
    latest document timestamp's TSA certificate expires within ``CERTIFICATE_TIMESTAMP_RENEW_DAYS``
    (``signing.pdf_archival_timestamp_renew``), writing the renewed PDF back under the same name
    in storage. B-B certificates have no timestamp and are left alone. One certificate that cannot
    be renewed (its file missing, the TSA away) is logged and the others go on; the next day's run
    tries it again, well before its timestamp expires. Returns how many were renewed."""
    from django.core.files.base import ContentFile

    from .models import Certificate
    from .services import certificate_pdf_renewal_record
    from .signing import pdf_archival_timestamp_renew

    renewed = 0
    issued = Certificate.objects.filter(status="issued").exclude(pdf="").only("pk", "pdf").order_by("pk")
    for certificate in issued.iterator(chunk_size=200):
        name = certificate.pdf.name
        storage = certificate.pdf.storage
        try:
            with storage.open(name, "rb") as stored:
                original = stored.read()
            updated = pdf_archival_timestamp_renew(original)
            if updated is None:
                continue
            # The same name: links and the certificate's record keep pointing at it. The renewed
            # file is the original plus an incremental update, so every earlier byte is kept.
            storage.delete(name)
            try:
                saved = storage.save(name, ContentFile(updated))
            except Exception:
                storage.save(name, ContentFile(original))  # put the issued file back as it was
                raise
        except Exception:
            logger.exception("Certificate %s: could not renew its archival timestamp", certificate.pk)
            continue
        if saved != name:  # a storage that would not reuse the name: say where it went
            logger.error("Certificate %s: renewed PDF saved as %s, not %s", certificate.pk, saved, name)
        previous_sha256 = hashlib.sha256(original).hexdigest()
        if not certificate_pdf_renewal_record(
            certificate_id=certificate.pk, previous_sha256=previous_sha256, pdf=updated
        ):
            logger.error(
                "Certificate %s changed while its timestamp was renewed; its hash was not updated", certificate.pk
            )
        renewed += 1
    logger.info("Archival timestamps renewed: %d", renewed)
    return renewed


# Acknowledged early (not acks_late): a run may outlast the broker's visibility timeout, which would
# otherwise deliver it to a second worker while the first still works. A run lost with its worker
# is simply the next week's.
@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def certificates_integrity_check_task() -> int:
    """Celery beat, weekly: the integrity check of every stored certificate file
    (``certificates.integrity``). Returns how many failed (also recorded for the metric)."""
    from .integrity import integrity_check_run

    return integrity_check_run().failures
