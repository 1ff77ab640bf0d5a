"""The navigation offers the partner portal only to partner members, asking the database once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def membership_queries(queries):
    return [q["sql"] for q in queries if "partners_partnermembership" in q["sql"]]


def test_coordinator_sees_portal_link_with_one_membership_query(client, coordinator):
    client.force_login(coordinator)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert 'href="/partners/"' in response.text
    assert len(membership_queries(ctx.captured_queries)) == 1


def test_learner_has_no_portal_link(client, enrolment):
    client.force_login(enrolment.learner)
    response = client.get("/")
    assert response.status_code == 200
    assert 'href="/partners/"' not in response.text
