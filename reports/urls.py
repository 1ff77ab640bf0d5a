"""Reports: staff's (``/staff/reports/``), each partner organisation's, and the learner's optional
equality-monitoring questions. Every URL here is in ``tests/test_permission_matrix.py``."""

urlpatterns: list = []
