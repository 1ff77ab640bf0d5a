"""Partner organisations (voluntary sector, local authorities...) and who works for them."""

import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

LOGO_MAX_BYTES = 1_000_000
LOGO_MAX_PIXELS = (2000, 2000)
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}


def partner_logo_validate(upload) -> None:
    """A partner's logo, checked by its content, not its name: a PNG or JPEG image of at most
    ``LOGO_MAX_BYTES`` and ``LOGO_MAX_PIXELS``. SVG is refused (it can carry scripts and fetch
    other files when drawn); so is anything Pillow cannot read as one of the two formats."""
    from PIL import Image, UnidentifiedImageError

    if not upload:
        return
    unreadable = ValidationError(
        _("The logo could not be read as a PNG or JPEG image. Upload the logo as a PNG or JPEG image."),
        code="logo_unreadable",
    )
    try:  # a new upload, or the stored file of a partner saved again (which may have gone missing)
        size = getattr(upload, "size", None)
        if size is not None and size > LOGO_MAX_BYTES:
            raise ValidationError(
                _("The logo is larger than 1 MB (it is %(size)s KB). Save it smaller and upload it again."),
                code="logo_too_large",
                params={"size": size // 1000},
            )
        upload.seek(0)
        data = upload.read(LOGO_MAX_BYTES + 1)
        upload.seek(0)
    except OSError as error:
        raise unreadable from error
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is larger than 1 MB. Save it smaller and upload it again."), code="logo_too_large"
        )
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        raise ValidationError(
            _("SVG logos are not accepted (they can contain scripts). Upload the logo as a PNG or JPEG image."),
            code="logo_svg",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, width, height = image.format, image.width, image.height
            if kind not in LOGO_FORMATS:
                raise ValidationError(
                    _("The logo must be a PNG or JPEG image; this file is %(kind)s."),
                    code="logo_format",
                    params={"kind": kind or _("another kind of file")},
                )
            if width > LOGO_MAX_PIXELS[0] or height > LOGO_MAX_PIXELS[1]:
                raise ValidationError(
                    _("The logo is %(width)s × %(height)s pixels; it may be at most 2000 × 2000. Save it smaller."),
                    code="logo_too_many_pixels",
                    params={"width": width, "height": height},
                )
            image.verify()  # the whole file decodes structurally (a truncated or forged image fails)
    except ValidationError:
        raise
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError, SyntaxError) as error:
        raise unreadable from error


def partner_logo_path(instance, filename: str) -> str:
    """Where a logo is stored: under the partner's short name, the extension from its content."""
    from django.utils.crypto import get_random_string

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    extension = "jpg" if extension in {"jpg", "jpeg"} else "png"
    return f"partners/logos/{instance.slug or 'partner'}-{get_random_string(8)}.{extension}"


class PartnerOrganisation(models.Model):
    """An organisation that recruits citizen scientists and runs cohorts of our programmes."""

    class Kind(models.TextChoices):
        VOLUNTARY_SECTOR = "voluntary_sector", _("Voluntary sector organisation")
        LOCAL_AUTHORITY = "local_authority", _("Local authority")
        ACADEMIC = "academic", _("Academic")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name for web addresses"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.VOLUNTARY_SECTOR)
    contact_email = models.EmailField(_("contact email"), blank=True)
    logo = models.ImageField(
        _("logo"),
        upload_to=partner_logo_path,
        blank=True,
        validators=[partner_logo_validate],
        help_text=_(
            "Printed on the organisation's certificates beside the Academy's crest. PNG or JPEG, at most 1 MB and 2000 × 2000 pixels."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class PartnerMembership(models.Model):
    """A person's role at a partner organisation: coordinators act, viewers only read."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinator")
        VIEWER = "viewer", _("Viewer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_memberships", verbose_name=_("person")
    )
    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.COORDINATOR)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("partner membership")
        verbose_name_plural = _("partner memberships")
        ordering = ["organisation__name", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="partnermembership_one_per_organisation")
        ]

    def __str__(self):
        return f"{self.user} – {self.organisation} ({self.get_role_display()})"
