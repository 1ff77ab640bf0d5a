"""The Sites framework's site (``SITE_ID``) named from settings, so allauth's emails greet people
from the Academy ("Hello from Citizen Science Academy!") and link to its real host, never
"example.com" (the name and domain Django's sites migration creates)."""

from urllib.parse import urlsplit

from django.conf import settings


def site_update_from_settings(**kwargs) -> None:
    """``post_migrate`` receiver: set the site's name to ``SITE_NAME`` and its domain to the host
    (and port, if any) of ``SITE_URL``. Runs after every ``migrate``, the test database's too."""
    from django.apps import apps as global_apps

    try:
        # The models as the migrations left them (the real ones when called without a plan).
        Site = kwargs.get("apps", global_apps).get_model("sites", "Site")
    except LookupError:  # the sites app is not installed, or its tables were migrated away
        return
    using = kwargs.get("using", "default")
    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID, defaults={"name": settings.SITE_NAME[:50], "domain": domain[:100]}
    )
