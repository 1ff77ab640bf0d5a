"""Public verification of certificates (by code, QR code or file) and the private download."""

from __future__ import annotations

import functools
import hashlib
import json
import logging

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from academy.client import client_ip
from academy.storage import storage_errors

from .file_check import FILE_CHECK_OUTCOMES, file_check_outcome  # noqa: F401 (re-exported)
from .file_check import file_check as file_check_run
from .forms import FileCheckForm, VerificationCodeForm
from .lookup_counts import lookup_record
from .models import Certificate, VerificationLookupCount
from .selectors import (
    certificate_credential_public,
    certificate_for_download,
    certificate_for_verification,
    status_list_get,
)
from .services import credential_bytes, verification_code_normalise

logger = logging.getLogger(__name__)


def _client_key(group, request) -> str:
    """Each visitor's own bucket, behind the trusted proxies too (``academy.client.client_ip``)."""
    return client_ip(request)


def _rate(action: str):
    """The rate of ``action`` read at request time from ``settings.CERTIFICATE_RATE_LIMITS`` ("60/m")."""

    def rate(group, request) -> str:
        return settings.CERTIFICATE_RATE_LIMITS[action]

    return rate


def rate_limit_exceeded(request, action: str) -> bool:
    """Count one use of ``action`` by this visitor (django-ratelimit, fixed window in the cache);
    True once over ``CERTIFICATE_RATE_LIMITS[action]``. With the cache unreachable the check fails
    open with a logged warning: verification is public and read-only, better served than refused."""
    try:
        return is_ratelimited(
            request,
            group=f"certificates:{action}",
            key=_client_key,
            rate=_rate(action),
            method=is_ratelimited.ALL,
            increment=True,
        )
    except Exception:  # the cache backend's connection errors (django-redis raises its own kinds)
        logger.warning("Verification rate limit %s not counted: the cache is unreachable.", action, exc_info=True)
        return False


def rate_limited(action: str, *, methods: tuple[str, ...] = ("GET", "POST")):
    """Refuse with 429 once this visitor has used up ``CERTIFICATE_RATE_LIMITS[action]``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and rate_limit_exceeded(request, action):
                return render(request, "certificates/rate_limited.html", status=429)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@require_GET
@rate_limited("verify")
def verify_start(request):
    """Anyone: type a verification code (sent as ?code=) or choose a file to check."""
    form = VerificationCodeForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect("certificates:verify", code=form.cleaned_data["code"])
    return render(request, "certificates/verify_start.html", {"form": form, "file_form": FileCheckForm()})


def _verification(request, code: str) -> Certificate | None:
    """The certificate a verification request is about, read once per request (the ETag, the
    Last-Modified date and the page all use it)."""
    if not hasattr(request, "_verification"):
        canonical = verification_code_normalise(code)
        request._verification = certificate_for_verification(code=canonical) if canonical == code else None
    return request._verification


def _verification_etag(request, code: str) -> str | None:
    certificate = _verification(request, code)
    if certificate is None:
        return None
    state = (
        f"{certificate.pk}:{certificate.status}:{certificate.version}:{certificate.issued_at}:{certificate.revoked_at}"
    )
    return hashlib.sha256(f"{state}:{get_language()}:{request.user.is_authenticated}".encode()).hexdigest()[:32]


def _verification_last_modified(request, code: str):
    certificate = _verification(request, code)
    if certificate is None:
        return None
    return max(filter(None, [certificate.issued_at, certificate.revoked_at, certificate.requested_at]), default=None)


@require_GET
@rate_limited("verify")
@condition(etag_func=_verification_etag, last_modified_func=_verification_last_modified)
def verify(request, code: str):
    """Anyone: whether the certificate with this code is valid, revoked, or unknown (404).
    Pending and failed certificates are unknown to the public.

    Browsers and HTTP caches may keep the answer for ``VERIFICATION_MAX_AGE`` seconds (public
    for visitors who are not signed in, private for those who are: their page carries their own
    navigation) and then ask again with its ETag; a revocation shows within that time."""
    canonical = verification_code_normalise(code)
    if canonical and canonical != code:
        return redirect("certificates:verify", code=canonical)
    certificate = _verification(request, code) if canonical else None
    if certificate is None:
        response = render(request, "certificates/verify_unknown.html", {"code": code[:40]}, status=404)
        lookup_record(VerificationLookupCount.Kind.VERIFY_PAGE)  # a count only (no code, no address)
        return response
    response = render(
        request,
        "certificates/verify.html",
        {
            "certificate": certificate,
            "revoked": certificate.status == Certificate.Status.REVOKED,
            "reissue_pending": certificate.status in (Certificate.Status.PENDING, Certificate.Status.FAILED),
        },
    )
    visibility = {"private": True} if request.user.is_authenticated else {"public": True}
    patch_cache_control(response, max_age=settings.VERIFICATION_MAX_AGE, **visibility)
    lookup_record(VerificationLookupCount.Kind.VERIFY_PAGE)  # a count only (no code, no address)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("file_check", methods=("POST",))
def file_check(request):
    """Anyone: upload a certificate PDF, a credential (JSON) or a badge image (PNG) and learn, in
    plain words, which checks it passes (``certificates.file_check``). The file is not kept."""
    form = FileCheckForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "certificates/file_check.html", {"file_form": form}, status=200)
    upload = form.cleaned_data["file"]
    lookup_record(VerificationLookupCount.Kind.FILE_CHECK)  # a count only
    result = file_check_run(b"".join(upload.chunks()), upload.name or "")
    return render(
        request,
        "certificates/file_check_result.html",
        {
            "file_form": FileCheckForm(),
            "result": result,
            "outcome": result.outcome,
            "certificate": result.certificate,
            "version": result.version,
            "signature": result.signature,
            "file_name": (upload.name or "")[:120],
        },
    )


@never_cache
@require_GET
def download(request, code: str):
    """The learner, staff, and coordinators or viewers of the partner organisation that ran the
    learner's cohort: download the issued PDF as an attachment. Everyone else gets 404."""
    if verification_code_normalise(code) != code:
        raise Http404  # not a code we could have issued (a typo, %00, thousands of characters)
    certificate = certificate_for_download(user=request.user, code=code)
    if certificate is None:
        raise Http404
    # Streamed by the app after the check, never a redirect to the object store: the bucket stays
    # private and unreachable from browsers, no URL that works without signing in ever leaves
    # the site, and a revocation applies to the next request. (A certificate is a few hundred KB.)
    try:
        # FileResponse measures the file as it is made (S3: the object is fetched then).
        return FileResponse(
            certificate.pdf.open("rb"),
            as_attachment=True,
            filename=f"certificate-{certificate.verification_code}.pdf",
            content_type="application/pdf",
        )
    except storage_errors() as exc:
        logger.error("Certificate %s: its file could not be read for a download: %r", certificate.pk, exc)
        response = render(
            request, "certificates/download_unavailable.html", {"code": certificate.verification_code}, status=503
        )
        response["Retry-After"] = "60"
        return response


@require_GET
def did_document(request):
    """The issuer's DID document (``did:web`` of ``SITE_URL``) at ``/.well-known/did.json``: public,
    cacheable for ``DID_DOCUMENT_MAX_AGE`` seconds, readable from any origin (wallets resolve it in
    the browser). Without a usable credential key it answers 503 (the reason is logged), never 500."""
    from .credentials import CredentialError
    from .credentials import did_document as did_document_build

    try:
        document = did_document_build()
    except CredentialError as exc:
        logger.error("The DID document cannot be served: %s", exc)
        response = JsonResponse({"error": "The issuer's keys are not available at the moment."}, status=503)
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(json.dumps(document, indent=2), content_type="application/did+json")
    patch_cache_control(response, public=True, max_age=settings.DID_DOCUMENT_MAX_AGE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


# The media type of a credential (VC Data Model 2.0 JSON-LD).
CREDENTIAL_MEDIA_TYPE = "application/vc+ld+json"


def _credential_certificate(request, code: str) -> Certificate | None:
    if not hasattr(request, "_credential_certificate"):
        request._credential_certificate = (
            certificate_credential_public(code=code) if verification_code_normalise(code) == code else None
        )
    return request._credential_certificate


def _credential_etag(request, code: str) -> str | None:
    certificate = _credential_certificate(request, code)
    return certificate.credential_sha256 if certificate is not None and certificate.credential_sha256 else None


@require_GET
@rate_limited("verify")
@condition(etag_func=_credential_etag)
def credential_json(request, code: str):
    """Anyone: the current credential (Open Badges 3.0, JSON-LD) of an issued certificate, as
    frozen at issue; its SHA-256 is the ETag. A revoked certificate's credential is still served
    (a verifier learns from its status list entry that it is revoked, and the verification page
    says so). Unknown, pending and failed certificates: 404. Public, cacheable like the
    verification page (``VERIFICATION_MAX_AGE``), readable from any origin (wallets)."""
    certificate = _credential_certificate(request, code)
    lookup_record(VerificationLookupCount.Kind.CREDENTIAL_JSON)  # a count only
    if certificate is None:
        response = JsonResponse({"error": "No issued certificate has this code."}, status=404)
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(credential_bytes(certificate.credential), content_type=CREDENTIAL_MEDIA_TYPE)
    response["Content-Disposition"] = f'inline; filename="credential-{certificate.verification_code}.json"'
    patch_cache_control(response, public=True, max_age=settings.VERIFICATION_MAX_AGE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _status_list_row(request, list_id: int):
    if not hasattr(request, "_status_list"):
        request._status_list = status_list_get(list_id=list_id)
    return request._status_list


def _status_list_etag(request, list_id: int) -> str | None:
    from .credentials import CredentialError
    from .status_list import status_list_etag

    status_list = _status_list_row(request, list_id)
    if status_list is None:
        return None
    try:
        return status_list_etag(status_list)
    except CredentialError:
        return None  # no usable key: the view answers 503


@require_GET
@condition(etag_func=_status_list_etag)
def status_list(request, list_id: int):
    """Anyone: a W3C Bitstring Status List credential (revocation), signed like the certificates'
    credentials, built from the list's current bits (cached per list version). ETag (changes with
    every revocation) and conditional GET; public, cacheable for ``STATUS_LIST_MAX_AGE`` seconds
    (at most 300, also the list's ``ttl``); readable from any origin. Without a usable credential
    key: 503, never 500."""
    from .credentials import CredentialError
    from .status_list import status_list_credential_signed, status_list_max_age

    row = _status_list_row(request, list_id)
    if row is None:
        response = JsonResponse({"error": "There is no status list at this address."}, status=404)
        response["Cache-Control"] = "no-store"
        return response
    try:
        document = status_list_credential_signed(row)
    except CredentialError as exc:
        logger.error("Status list %s cannot be served: %s", list_id, exc)
        response = JsonResponse({"error": "The status list is not available at the moment."}, status=503)
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(json.dumps(document, indent=2), content_type=CREDENTIAL_MEDIA_TYPE)
    patch_cache_control(response, public=True, max_age=status_list_max_age())
    response["Access-Control-Allow-Origin"] = "*"
    return response
