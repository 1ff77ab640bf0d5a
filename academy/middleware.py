"""Small response-header middleware that Django does not provide itself."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy`` from ``settings.PERMISSIONS_POLICY`` on every response.

    Django's SecurityMiddleware covers HSTS, Referrer-Policy, nosniff and COOP, but has no setting
    for the browser features a page may use. The value is a ready-made header string such as
    ``"camera=(), microphone=(), geolocation=()"``; an empty value sends nothing. A view that set
    its own header keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response
