"""Reports: staff's (``/staff/reports/``), each partner organisation's, and the learner's optional
equality-monitoring questions. Every URL here is in ``tests/test_permission_matrix.py``."""

from django.urls import path

from . import views, views_reports

app_name = "reports"

urlpatterns: list = []

# --- Staff reports and each partner organisation's report (reports/views_reports.py) ---
urlpatterns += [
    path("staff/reports/", views_reports.staff_report, name="staff_report"),
    path("staff/reports/report.csv", views_reports.staff_report_csv, name="staff_report_csv"),
    path("staff/reports/report.xlsx", views_reports.staff_report_xlsx, name="staff_report_xlsx"),
    path("staff/reports/funder/", views_reports.funder_report, name="funder_report"),
    # Under /partners/ beside the portal's own pages (portal.urls has no ".../report/" path).
    path("partners/organisations/<slug:org_slug>/report/", views_reports.partner_report, name="partner_report"),
    path(
        "partners/organisations/<slug:org_slug>/report.csv",
        views_reports.partner_report_csv,
        name="partner_report_csv",
    ),
    path(
        "partners/organisations/<slug:org_slug>/report.xlsx",
        views_reports.partner_report_xlsx,
        name="partner_report_xlsx",
    ),
]
# --- end of the staff and partner reports ---

# --- The learner's own equality-monitoring pages (reports/views.py) ---
urlpatterns += [
    path("my/equality-questions/", views.equality_questions, name="equality_questions"),
    path("my/equality-answers/", views.equality_answers, name="equality_answers"),
    path("my/equality-answers/withdraw/", views.equality_withdraw, name="equality_withdraw"),
]
# --- end of the equality-monitoring pages ---
