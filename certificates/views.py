"""Public verification of certificates (by code, QR code or file) and the private download."""

from __future__ import annotations

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_GET, require_http_methods

from .forms import FileCheckForm, VerificationCodeForm
from .models import Certificate
from .selectors import certificate_by_sha256, certificate_for_download, certificate_for_verification
from .services import verification_code_normalise

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate(action: str) -> tuple[int, int]:
    """``settings.CERTIFICATE_RATE_LIMITS[action]`` ("60/m") as (requests, seconds)."""
    amount, _slash, period = settings.CERTIFICATE_RATE_LIMITS[action].partition("/")
    return int(amount), _PERIODS[period or "m"]


def rate_limit_consume(request, action: str) -> bool:
    """Count one use of ``action`` by this IP address in a fixed window; False once over the limit."""
    limit, period = _rate(action)
    window = int(time.time() // period)
    key = f"certificates:rl:{action}:{request.META.get('REMOTE_ADDR', '')}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        used = 1
    return used <= limit


def rate_limited(action: str, *, methods: tuple[str, ...] = ("GET", "POST")):
    """Refuse with 429 once this IP address has used up ``CERTIFICATE_RATE_LIMITS[action]``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and not rate_limit_consume(request, action):
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
        return render(request, "certificates/verify_unknown.html", {"code": code[:40]}, status=404)
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
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("file_check", methods=("POST",))
def file_check(request):
    """Anyone: upload a PDF and learn whether it is byte-identical to a certificate we issued
    and whether its digital signature is intact. The file is not kept."""
    from .signing import pdf_signature_check

    form = FileCheckForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "certificates/file_check.html", {"file_form": form}, status=200)
    upload = form.cleaned_data["file"]
    digest = hashlib.sha256()
    chunks = []
    for chunk in upload.chunks():
        digest.update(chunk)
        chunks.append(chunk)
    certificate, version = certificate_by_sha256(sha256=digest.hexdigest())
    signature = pdf_signature_check(b"".join(chunks))
    return render(
        request,
        "certificates/file_check_result.html",
        {
            "file_form": FileCheckForm(),
            "certificate": certificate,
            "version": version,
            "signature": signature,
            "genuine": certificate is not None and signature.intact and signature.valid,
            "revoked": certificate is not None and certificate.status == Certificate.Status.REVOKED,
            "file_name": upload.name[:120],
        },
    )


@never_cache
@require_GET
def download(request, code: str):
    """The learner, staff, and coordinators or viewers of the partner organisation that ran the
    learner's cohort: download the issued PDF as an attachment. Everyone else gets 404."""
    certificate = certificate_for_download(user=request.user, code=code)
    if certificate is None:
        raise Http404
    return FileResponse(
        certificate.pdf.open("rb"),
        as_attachment=True,
        filename=f"certificate-{certificate.verification_code}.pdf",
        content_type="application/pdf",
    )
