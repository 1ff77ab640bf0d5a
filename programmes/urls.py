from django.urls import path

from . import views

app_name = "programmes"

urlpatterns = [
    path("cohorts/<int:cohort_id>/progress/", views.cohort_progress, name="cohort_progress"),
    path("cohorts/<int:cohort_id>/progress/<int:enrolment_id>/", views.learner_checklist, name="learner_checklist"),
    path("cohorts/<int:cohort_id>/invite/", views.cohort_invite, name="cohort_invite"),
]
