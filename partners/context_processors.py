"""Template context for the navigation: whether the signed-in person belongs to a partner."""

from django.utils.functional import SimpleLazyObject

from .selectors import has_memberships


def partners(request):
    """``is_partner``, asked of the database at most once per request, and only if a template
    uses it."""
    return {"is_partner": SimpleLazyObject(lambda: has_memberships(user=request.user))}
