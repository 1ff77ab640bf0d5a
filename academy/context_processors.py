"""Template context shared by every page."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def user_is_partner(request) -> bool:
    """Whether the signed-in person belongs to a partner organisation (asked once per request)."""
    if not hasattr(request, "_academy_is_partner"):
        user = request.user
        if not user.is_authenticated:
            request._academy_is_partner = False
        else:
            request._academy_is_partner = user.partner_memberships.exists()
    return request._academy_is_partner


def academy(request):
    return {"SITE_URL": settings.SITE_URL, "is_partner": SimpleLazyObject(lambda: user_is_partner(request))}
