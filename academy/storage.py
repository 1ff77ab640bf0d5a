"""Where the Academy keeps its files: certificates' PDFs and their superseded versions, signature
images, partner logos - everything a ``FileField`` or ``ImageField`` writes.

Two choices, made by ``storage_default`` from the environment (``academy/settings.py`` passes it
the variables; ``docs/configuration.md`` lists them):

- the local folder ``MEDIA_ROOT`` (Django's ``FileSystemStorage``): the embedded default, for one
  machine;
- S3-compatible object storage (django-storages' ``S3Storage``, boto3) when
  ``STORAGE_BACKEND=s3`` or ``AWS_STORAGE_BUCKET_NAME`` is set: for several web and worker
  machines, which then all see the same files.

Objects are private: no ACL is sent, so each object has the bucket's default (owner only); the
only URLs django-storages makes are pre-signed and expire after ``AWS_QUERYSTRING_EXPIRE`` seconds
(the admin's "Currently: ..." links to images). Learners' and partners' downloads never get one:
the app checks who is asking, then streams the file itself (``certificates.views.download``).

Names are never overwritten (``file_overwrite=False``, as on the local folder): a second upload
of ``signature.png`` gets a name of its own, so a history row or a cached image never points at
other bytes. boto3 gives up on an unreachable endpoint within seconds (``storage_client_config``),
and ``storage_error_is_transient`` tells the certificate task which failures to retry.

This module imports nothing of Django's models: ``settings.py`` imports it.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"
ADDRESSING_STYLES = ("auto", "path", "virtual")

# Seconds and tries boto3 spends on one request before the error reaches us (its defaults: 60 s
# to connect, 60 s to read, legacy retries): a storage outage fails a certificate attempt, which
# Celery retries later, rather than holding a worker for minutes.
STORAGE_CONNECT_TIMEOUT = 5
STORAGE_READ_TIMEOUT = 20
STORAGE_MAX_ATTEMPTS = 3

# S3 error codes that say "try again later" (AWS's and the usual S3-compatible servers').
_TRANSIENT_S3_CODES = frozenset(
    {
        "InternalError",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)


def storage_client_config(*, addressing_style: str = ""):
    """The botocore ``Config`` of the S3 client: short timeouts, a few standard retries, and the
    addressing style (django-storages reads its own ``addressing_style`` only without a config)."""
    from botocore.config import Config

    return Config(
        s3={"addressing_style": addressing_style} if addressing_style else None,
        connect_timeout=STORAGE_CONNECT_TIMEOUT,
        read_timeout=STORAGE_READ_TIMEOUT,
        retries={"max_attempts": STORAGE_MAX_ATTEMPTS, "mode": "standard"},
        signature_version="s3v4",
    )


def storage_default(
    *,
    backend: str = "",
    bucket: str = "",
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    addressing_style: str = "",
    location: str = "",
    url_expiry_seconds: int = 300,
) -> dict:
    """``STORAGES["default"]`` for these settings.

    ``backend``: ``s3``, ``filesystem`` (or ``local``), empty (S3 when a bucket is named, else the
    local folder), or any other storage class's dotted path (kept as it is). Empty keys leave boto3
    to find credentials itself (an instance role, ``~/.aws``). Refuses S3 without a bucket and an
    addressing style it does not know."""
    choice = (backend or "").strip()
    if not choice:
        choice = "s3" if bucket else "filesystem"
    if choice.lower() in {"filesystem", "local", FILESYSTEM_BACKEND.lower()}:
        return {"BACKEND": FILESYSTEM_BACKEND}
    if choice.lower() not in {"s3", S3_BACKEND.lower()}:
        return {"BACKEND": choice}
    if not bucket:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket's name).")
    style = (addressing_style or "").strip().lower()
    if style and style not in ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"AWS_S3_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)} (or empty), not {addressing_style!r}."
        )
    if url_expiry_seconds <= 0:
        raise ImproperlyConfigured("AWS_QUERYSTRING_EXPIRE must be a positive number of seconds.")
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "access_key": access_key_id or None,
            "secret_key": secret_access_key or None,
            "location": location.strip("/"),
            # Private objects: no ACL is sent (the bucket's default: owner only; buckets with ACLs
            # disabled refuse any other), and every URL made is pre-signed and short-lived.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": url_expiry_seconds,
            "file_overwrite": False,
            # Files read back (a PDF to stream, a signature to print) stay in memory up to 2 MB,
            # then spill to a temporary file.
            "max_memory_size": 2 * 1024 * 1024,
            "client_config": storage_client_config(addressing_style=style),
        },
    }


def storage_errors() -> tuple[type[BaseException], ...]:
    """What reading or writing a stored file raises when the storage cannot serve it: ``OSError``
    (the local folder; a missing object is ``FileNotFoundError`` on both), and botocore's errors."""
    classes: list[type[BaseException]] = [OSError]
    try:
        import botocore.exceptions

        classes += [botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError]
    except ImportError:  # no S3 support installed: only the local folder
        pass
    return tuple(classes)


def storage_error_is_transient(exc: BaseException) -> bool:
    """Whether an object storage error may pass on a later try: the endpoint unreachable or timing
    out, or an answer that says so (5xx, SlowDown, RequestTimeout ...). A refused signature, a
    missing bucket or a denied access is not: retrying would only repeat it."""
    try:
        import botocore.exceptions
    except ImportError:
        return False
    if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError):
        return True  # refused, reset, closed, timed out (ConnectTimeoutError, ReadTimeoutError ...)
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {}) or {}
        status = (exc.response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode") or 0
        return error.get("Code", "") in _TRANSIENT_S3_CODES or int(status) >= 500
    return False
