from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programmes"
    verbose_name = _("Programmes and competencies")

    def ready(self):
        from . import personal_data, receivers  # noqa: F401  (export section; the accounts' hook)
