"""The partner portal's pages. ``portal/tests/test_permissions.py`` must list every one."""

from django.urls import path

from . import views

app_name = "partners"

urlpatterns = [
    path("", views.portal, name="portal"),
    path("learners-template.csv", views.enrol_template, name="enrol_template"),
    path("organisations/<slug:org_slug>/cohorts/new/", views.cohort_create, name="cohort_create"),
    path("cohorts/<int:cohort_id>/", views.cohort_detail, name="cohort_detail"),
    path("cohorts/<int:cohort_id>/edit/", views.cohort_edit, name="cohort_edit"),
    path("cohorts/<int:cohort_id>/enrol/", views.enrol_one, name="enrol_one"),
    path("cohorts/<int:cohort_id>/enrol/several/", views.enrol_several, name="enrol_several"),
    path("cohorts/<int:cohort_id>/enrol/upload/", views.enrol_upload, name="enrol_upload"),
    path("cohorts/<int:cohort_id>/enrol/upload/<uuid:upload_id>/", views.enrol_preview, name="enrol_preview"),
    path("cohorts/<int:cohort_id>/enrol/upload/<uuid:upload_id>/confirm/", views.enrol_confirm, name="enrol_confirm"),
    path(
        "cohorts/<int:cohort_id>/learners/<int:enrolment_id>/withdraw/",
        views.enrolment_withdraw_view,
        name="enrolment_withdraw",
    ),
    path(
        "cohorts/<int:cohort_id>/learners/<int:enrolment_id>/reinstate/",
        views.enrolment_reinstate_view,
        name="enrolment_reinstate",
    ),
    path("cohorts/<int:cohort_id>/learners/withdraw/", views.enrolments_withdraw_view, name="enrolments_withdraw"),
    path("cohorts/<int:cohort_id>/resend-invitations/", views.invitations_resend_all, name="invitations_resend_all"),
    path(
        "cohorts/<int:cohort_id>/learners/<int:enrolment_id>/resend-invitation/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path("cohorts/<int:cohort_id>/progress/", views.cohort_progress, name="cohort_progress"),
    path("cohorts/<int:cohort_id>/progress/<int:enrolment_id>/", views.learner_progress, name="learner_progress"),
    path("cohorts/<int:cohort_id>/progress.csv", views.progress_csv, name="progress_csv"),
    path("cohorts/<int:cohort_id>/progress.xlsx", views.progress_xlsx, name="progress_xlsx"),
]
