from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self):
        from programmes.certificate_preview import renderer_register

        from . import personal_data, receivers  # noqa: F401  (export section; the completion hook)
        from .rendering import programme_certificate_preview

        renderer_register(programme_certificate_preview)
