"""Public verification (no login) and the private download, mounted at /verify/."""

from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("", views.verify_start, name="verify_start"),
    path("file/", views.file_check, name="file_check"),
    path("<str:code>/", views.verify, name="verify"),
    path("<str:code>/download/", views.download, name="download"),
]
