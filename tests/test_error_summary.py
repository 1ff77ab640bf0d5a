"""The error summary (issue 16, item 7) at the top of a form with errors, linked to the fields:
on the learner's profile, the allauth sign-in form, a certificate check and a portal formset."""

import re

import pytest

pytestmark = pytest.mark.django_db


def _summary(body: str) -> str:
    match = re.search(r'<div class="error-summary[^"]*" role="alert".*?</div>', body, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def test_no_summary_without_errors(client, learner):
    client.force_login(learner)
    assert "There is a problem" not in client.get("/my/profile/").content.decode()


def test_profile_errors_linked_to_the_field(client, learner):
    client.force_login(learner)
    body = client.post("/my/profile/", {"full_name": "   "}).content.decode()
    summary = _summary(body)
    assert "There is a problem" in summary
    assert 'href="#id_full_name"' in summary
    assert 'id="id_full_name"' in body  # the link's target exists
    assert summary.index("There is a problem") < summary.index("id_full_name")
    assert body.index("error-summary") < body.index('name="full_name"')  # above the form's fields


def test_sign_in_form_errors(client):
    body = client.post("/accounts/login/", {"login": "not-an-address", "password": ""}).content.decode()
    summary = _summary(body)
    assert 'href="#id_password"' in summary
    assert 'id="id_password"' in body


def test_portal_formset_errors_name_the_row(client, coordinator, cohort):
    client.force_login(coordinator)
    url = f"/partners/cohorts/{cohort.pk}/enrol/several/"
    page = client.get(url)
    if page.status_code != 200:
        pytest.fail(f"{url} -> {page.status_code}")
    prefix = re.search(r'name="([\w-]+)-TOTAL_FORMS" value="(\d+)"', page.content.decode())
    assert prefix
    name, total = prefix.group(1), int(prefix.group(2))
    data = {f"{name}-TOTAL_FORMS": str(total), f"{name}-INITIAL_FORMS": "0"}
    data[f"{name}-0-email"] = "not an email"
    data[f"{name}-0-full_name"] = "Ada Learner"
    body = client.post(url, data).content.decode()
    summary = _summary(body)
    assert "Row 1" in summary
    assert f'href="#id_{name}-0-email"' in summary
    assert f'id="id_{name}-0-email"' in body
