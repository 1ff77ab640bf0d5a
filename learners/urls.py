"""The learner's own pages (names without a namespace: they are the site's own)."""

from django.urls import path

from . import views

urlpatterns = [
    path("my/enrolments/<int:enrolment_id>/", views.enrolment_detail, name="enrolment_detail"),
    path("my/profile/", views.profile, name="profile"),
    path("my/data.json", views.personal_data, name="personal_data"),
    path("my/data.csv", views.personal_data_csv, name="personal_data_csv"),
    path("my/data.pdf", views.personal_data_pdf, name="personal_data_pdf"),
    path("staff/name-changes/", views.name_change_requests, name="name_change_requests"),
    path("", views.home, name="home"),
]
