from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AcademyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "academy"
    verbose_name = _("Academy")

    def ready(self):
        from .sites import site_update_from_settings

        # After every migrate (and every test database flush): post_migrate is sent for each
        # installed app whichever were migrated, so listening to this app's is enough. Whether the
        # sites app's own receiver (which creates "example.com" when there is no site) runs before
        # or after this one, the site ends up named from settings.
        post_migrate.connect(site_update_from_settings, sender=self, dispatch_uid="academy.site_update_from_settings")
