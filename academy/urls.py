"""Top-level URLs. Each app owns its own ``urls.py``; they are named here by module path only,
so the bottom app imports none of them."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import metrics, views

admin.site.site_header = _("Citizen Science Academy")
admin.site.site_title = _("Academy staff")
admin.site.index_title = _("Run the Academy")
# Staff sign in through allauth (rate limits, codes, verification), not the admin's own form.
admin.site.login = views.admin_login

# Errors in the site's own layout: 400.html, 404.html and 500.html through Django's own views; a
# refusal may say "you can look but not change" (academy.permissions.ReadOnlyAccess).
handler403 = "academy.views.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),  # Prometheus, token/network only (else 404)
    path("accessibility/", views.accessibility, name="accessibility"),
    path("welcome/new-link/", views.invitation_request, name="invitation_request"),
    path("welcome/<uidb64>/<token>/", views.WelcomeView.as_view(), name="welcome"),
    path("partners/", include("portal.urls")),
    path("verify/", include("certificates.urls")),
    path(".well-known/", include("certificates.urls_well_known")),  # the issuer's DID document
    path("", include("reports.urls")),  # /staff/reports/, partners' reports, equality monitoring
    path("", include("programmes.urls")),
    path("", include("learners.urls")),  # the home page: a learner's dashboard, or academy.views.home
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
