from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AcademyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "academy"
    verbose_name = _("Academy")

    def ready(self):
        from .sites import site_update_from_settings

        # After every migrate (of any app: the sites app creates example.com in its own
        # post_migrate), so this one is connected for the last app to migrate as well.
        post_migrate.connect(site_update_from_settings, dispatch_uid="academy.site_update_from_settings")
