from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self):
        from programmes.certificate_preview import renderer_register

        from . import (  # noqa: F401  (system checks; export section; the completion hook)
            checks,
            personal_data,
            receivers,
        )
        from .rendering import programme_certificate_preview

        renderer_register(programme_certificate_preview)
