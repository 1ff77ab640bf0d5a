"""The baked badge: ``/verify/<code>/badge.png``, the badge image with the certificate's
credential inside (Open Badges 3.0 baking), for digital wallets and sites that read Open Badges."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_GET

from .models import Certificate
from .selectors import certificate_credential_public
from .services import verification_code_normalise
from .share import badge_png, badge_png_for
from .views import rate_limited


def _badge_certificate(request, code: str) -> Certificate | None:
    """The certificate whose credential is public (issued or revoked), read once per request."""
    if not hasattr(request, "_badge_certificate"):
        request._badge_certificate = (
            certificate_credential_public(code=code) if verification_code_normalise(code) == code else None
        )
    return request._badge_certificate


def _badge_etag(request, code: str) -> str | None:
    certificate = _badge_certificate(request, code)
    if certificate is None or not certificate.credential_sha256:
        return None
    image = hashlib.sha256(badge_png()).hexdigest()
    return hashlib.sha256(f"{certificate.credential_sha256}:{image}".encode()).hexdigest()[:32]


@require_GET
@rate_limited("verify")
@condition(etag_func=_badge_etag)
def badge_png_download(request, code: str):
    """Anyone: the badge image with the certificate's current credential baked in, as a download.
    Served for the certificates whose credential is public (issued, and revoked: the credential
    inside says, through its status list, that it is revoked); unknown, pending and failed
    certificates: 404. Public, cacheable like the verification page (``VERIFICATION_MAX_AGE``)."""
    certificate = _badge_certificate(request, code)
    if certificate is None:
        response = HttpResponse("No issued certificate has this code.\n", status=404, content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(badge_png_for(certificate), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="badge-{certificate.verification_code}.png"'
    patch_cache_control(response, public=True, max_age=settings.VERIFICATION_MAX_AGE)
    response["Access-Control-Allow-Origin"] = "*"
    return response
