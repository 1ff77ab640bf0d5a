"""Sharing an issued certificate: its public link, LinkedIn's add-to-profile link, and the badge
image with the certificate's credential baked in (Open Badges 3.0).

The badge image is ``static/certificates/badge.png`` (drawn by :func:`badge_png_draw`; it is also
the Open Graph image of the public certificate page). Each certificate's badge is that image with
its credential baked in (:func:`badge_png_for`), made on request: baking is a few microseconds.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from .baking import badge_png_bake
from .models import Certificate
from .services import credential_bytes

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
BADGE_STATIC_PATH = "certificates/badge.png"


def absolute_url(path: str) -> str:
    """``path`` on the Academy's public address (``SITE_URL``); an absolute URL is kept as it is
    (a ``STATIC_URL`` on another host)."""
    if urlsplit(path).scheme:
        return path
    return settings.SITE_URL + path


def linkedin_add_url(*, programme_title: str, issued_at, verify_url: str, code: str) -> str:
    """LinkedIn's "add a licence or certification" link, filled in with the certificate."""
    issued = timezone.localtime(issued_at)
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": programme_title,
        "organizationName": settings.SITE_NAME,
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "certUrl": verify_url,
        "certId": code,
    }
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params)}"


@dataclass(frozen=True)
class CertificateShare:
    verify_url: str
    linkedin_url: str
    credential_url: str
    badge_url: str


def certificate_share(
    certificate: Certificate | None, *, programme_title: str | None = None
) -> CertificateShare | None:
    """What an issued certificate's holder can share; None for no certificate, or one that is not
    issued (pending, failed or revoked: nothing to share). ``programme_title`` saves a query where
    the certificate was read without its frozen title (the dashboard reads the enrolment's)."""
    if certificate is None or certificate.status != Certificate.Status.ISSUED or not certificate.issued_at:
        return None
    code = certificate.verification_code
    verify_url = absolute_url(reverse("certificates:verify", kwargs={"code": code}))
    title = programme_title if programme_title is not None else certificate.programme_title
    return CertificateShare(
        verify_url=verify_url,
        linkedin_url=linkedin_add_url(
            programme_title=title, issued_at=certificate.issued_at, verify_url=verify_url, code=code
        ),
        credential_url=reverse("certificates:credential_json", kwargs={"code": code}),
        badge_url=reverse("certificates:badge_png", kwargs={"code": code}),
    )


def badge_image_url() -> str:
    """The absolute URL of the (unbaked) badge image: the public page's Open Graph image."""
    return absolute_url(static(BADGE_STATIC_PATH))


@functools.cache
def badge_png() -> bytes:
    """The badge image (PNG bytes), read once per process."""
    path = finders.find(BADGE_STATIC_PATH)
    if path is None:  # collected but not in a static folder this process can find
        path = Path(settings.STATIC_ROOT) / BADGE_STATIC_PATH
    return Path(path).read_bytes()


def badge_png_for(certificate: Certificate) -> bytes:
    """The badge image with the certificate's current credential baked in."""
    return badge_png_bake(badge_png(), credential_bytes(certificate.credential))


def badge_png_draw(size: int = 600) -> bytes:
    """Draw the badge: a round seal in the Academy's colours with its initials. Run once to make
    ``static/certificates/badge.png`` (``Path(...).write_bytes(badge_png_draw())``)."""
    from PIL import Image, ImageDraw, ImageFont

    brand, accent, white = (11, 79, 108), (243, 198, 19), (255, 255, 255)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=accent)
    ring = size // 20
    draw.ellipse((ring, ring, size - 1 - ring, size - 1 - ring), fill=brand)
    inner = ring * 2
    draw.ellipse((inner, inner, size - 1 - inner, size - 1 - inner), outline=white, width=max(2, size // 150))
    fonts = Path(settings.BASE_DIR) / "static" / "fonts"
    bold = ImageFont.truetype(str(fonts / "NotoSans-Academy-Bold.ttf"), size // 4)
    small = ImageFont.truetype(str(fonts / "NotoSans-Academy-Bold.ttf"), size // 16)
    centre = size // 2
    draw.text((centre, centre - size // 30), "CSA", font=bold, fill=white, anchor="mm")
    draw.text((centre, centre + size // 5), "CITIZEN SCIENCE", font=small, fill=accent, anchor="mm")
    draw.text((centre, centre + size // 5 + size // 13), "ACADEMY", font=small, fill=accent, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
