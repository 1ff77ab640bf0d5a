"""Partner organisations (voluntary sector, local authorities...) and who works for them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


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
