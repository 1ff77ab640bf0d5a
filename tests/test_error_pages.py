"""Errors in the site's own layout (issue 16, item 6): 400, 403, 404, 500 and the CSRF refusal
each have the site's navigation, a plain explanation and a way on; the 500 page needs nothing
from the request or the database; the 404 for another organisation's cohort is the same page as
for a cohort that does not exist; a partner's viewer on a coordinator-only page is told they can
look but not change."""

import re

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.template.loader import get_template
from django.test import Client, override_settings
from django.urls import path

from academy.permissions import ReadOnlyAccess
from academy.urls import urlpatterns as site_urlpatterns

pytestmark = pytest.mark.django_db


def _raise(exception):
    def view(request):
        raise exception

    return view


urlpatterns = [
    path("test-errors/400/", _raise(SuspiciousOperation("a secret detail"))),
    path("test-errors/403/", _raise(PermissionDenied("a secret detail"))),
    path("test-errors/404/", _raise(Http404("a secret detail"))),
    path("test-errors/500/", _raise(RuntimeError("a secret detail"))),
    path("test-errors/read-only/", _raise(ReadOnlyAccess(organisation_name="Hackney Voices", back_url="/partners/"))),
    *site_urlpatterns,
]
handler403 = "academy.views.permission_denied"


def _layout(body: str) -> None:
    """The site's own layout: navigation, one main heading, the footer with the accessibility link."""
    assert 'aria-label="Main"' in body
    assert 'href="/accessibility/"' in body
    assert len(re.findall(r"<h1[ >]", body)) == 1
    assert "a secret detail" not in body
    assert "Traceback" not in body


@pytest.fixture
def error_client(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_400_page(error_client):
    response = error_client.get("/test-errors/400/")
    assert response.status_code == 400
    body = response.content.decode()
    _layout(body)
    assert "Something was wrong with the request" in body


def test_403_page(error_client):
    response = error_client.get("/test-errors/403/")
    assert response.status_code == 403
    body = response.content.decode()
    _layout(body)
    assert "You cannot do this" in body


def test_404_page(error_client):
    response = error_client.get("/test-errors/404/")
    assert response.status_code == 404
    body = response.content.decode()
    _layout(body)
    assert "Page not found" in body
    assert 'href="/accounts/login/"' in body  # a visitor is offered to sign in


def test_500_page_in_layout(error_client):
    response = error_client.get("/test-errors/500/")
    assert response.status_code == 500
    body = response.content.decode()
    _layout(body)
    assert "Sorry, something went wrong" in body
    assert "There is a problem on our side" in body


def test_500_template_needs_no_request_no_context_no_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        body = get_template("500.html").render({})
    _layout(body)
    assert "Sorry, something went wrong" in body


def test_read_only_refusal_says_look_but_not_change(error_client):
    response = error_client.get("/test-errors/read-only/")
    assert response.status_code == 403
    body = response.content.decode()
    _layout(body)
    assert "You can look but not change" in body
    assert "You are a viewer at Hackney Voices" in body
    assert 'href="/partners/"' in body


@override_settings(DEBUG=False)
def test_csrf_failure_in_layout(learner):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(learner)
    response = client.post("/my/profile/", {"full_name": "Someone Else"})
    assert response.status_code == 403
    body = response.content.decode()
    _layout(body)
    assert "Your form could not be sent" in body
    assert "Nothing has been changed" in body
    assert "CSRF" not in body  # plain words, not the technical reason
    learner.refresh_from_db()
    assert learner.full_name != "Someone Else"


@override_settings(DEBUG=False)
def test_404_reveals_nothing_about_another_organisations_cohort(other_coordinator, cohort):
    """Another organisation's real cohort and a cohort that does not exist give the same page."""
    client = Client(raise_request_exception=False)
    client.force_login(other_coordinator)
    real = client.get(f"/partners/cohorts/{cohort.pk}/")
    missing = client.get(f"/partners/cohorts/{cohort.pk + 10_000}/")
    assert real.status_code == missing.status_code == 404

    def page(response):  # the sign-out form's CSRF token differs on every page
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    assert page(real) == page(missing)
    assert cohort.name not in real.content.decode()
    _layout(real.content.decode())


@override_settings(DEBUG=False)
def test_viewer_on_a_coordinator_only_page_is_told_they_can_look(viewer, other_coordinator, cohort, partner):
    client = Client(raise_request_exception=False)
    client.force_login(viewer)
    for url in (f"/partners/cohorts/{cohort.pk}/edit/", f"/partners/organisations/{partner.slug}/cohorts/new/"):
        response = client.get(url)
        assert response.status_code == 403, url
        body = response.content.decode()
        _layout(body)
        assert "You can look but not change" in body
        assert "You are a viewer at Hackney Community Voices" in body
    assert (
        f'href="/partners/cohorts/{cohort.pk}/"' in client.get(f"/partners/cohorts/{cohort.pk}/enrol/").content.decode()
    )
    # A POST that would change something is refused the same way, and changes nothing.
    response = client.post(f"/partners/cohorts/{cohort.pk}/edit/", {"name": "Renamed"})
    assert response.status_code == 403
    cohort.refresh_from_db()
    assert cohort.name == "Hackney spring cohort"
    # Another organisation's coordinator still learns nothing: 404.
    client.force_login(other_coordinator)
    assert client.get(f"/partners/cohorts/{cohort.pk}/edit/").status_code == 404
    assert client.get(f"/partners/organisations/{partner.slug}/cohorts/new/").status_code == 404
