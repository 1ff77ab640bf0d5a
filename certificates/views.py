"""Public verification of certificates (by code, QR code or file) and the private download."""

from __future__ import annotations

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from academy import page_cache

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


@require_GET
@rate_limited("verify")
def verify(request, code: str):
    """Anyone: whether the certificate with this code is valid, revoked, or unknown (404).
    Pending and failed certificates are unknown to the public."""
    canonical = verification_code_normalise(code)
    if canonical and canonical != code:
        return redirect("certificates:verify", code=canonical)
    if not canonical:
        return render(request, "certificates/verify_unknown.html", {"code": code[:40]}, status=404)
    return page_cache.cached_page(
        request,
        name="verify",
        key=(canonical,),
        scopes=[page_cache.certificate(canonical)],
        render=lambda extra: _verify(request, canonical, extra),
    )


def _verify(request, code: str, extra_context: dict):
    certificate = certificate_for_verification(code=code)
    if certificate is None:  # an answer that is not 200 is never cached
        return render(request, "certificates/verify_unknown.html", {"code": code, **extra_context}, status=404)
    return render(
        request,
        "certificates/verify.html",
        {
            "certificate": certificate,
            "revoked": certificate.status == Certificate.Status.REVOKED,
            "reissue_pending": certificate.status in (Certificate.Status.PENDING, Certificate.Status.FAILED),
            **extra_context,
        },
    )


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
