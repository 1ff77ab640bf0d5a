"""Public verification (no login), the credentials and their status list, and the private
download, mounted at /verify/."""

from django.urls import path

from . import share_views, views

app_name = "certificates"

urlpatterns = [
    path("", views.verify_start, name="verify_start"),
    path("file/", views.file_check, name="file_check"),
    # The revocation list of the credentials (each entry's statusListCredential): a stable address.
    path("status/<int:list_id>/", views.status_list, name="status_list"),
    path("<str:code>/", views.verify, name="verify"),
    path("<str:code>/download/", views.download, name="download"),
    path("<str:code>/credential.json", views.credential_json, name="credential_json"),
    path("<str:code>/badge.png", share_views.badge_png_download, name="badge_png"),
]
