from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Partner portal")

    def ready(self):
        from academy.services import invitation_details_register

        from .emails import invited_to

        # Invitations name the cohorts (programme, partner, venue, start date) they invite to.
        invitation_details_register(invited_to)
