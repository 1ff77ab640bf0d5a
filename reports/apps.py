from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = _("Reports and equality monitoring")

    def ready(self):
        from . import personal_data  # noqa: F401  (the data export's section)
