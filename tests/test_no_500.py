"""No request, however hostile, gets a 500: every URL pattern of the project, for each role.

Every pattern is read from the resolver (``django.urls.get_resolver()``), so a new URL is covered
the day it is added. Each path parameter in turn takes each of ``HOSTILE`` (the others keep a real
value, so the hostile one reaches the view and not only the resolver); every GET carries hostile
query parameters, and every pattern is also POSTed garbage form data (CSRF is not enforced by the
test client, so the garbage reaches the view). Each is asked by an anonymous visitor, a learner, a
coordinator and staff. A 4xx, a redirect or a page with a message are all fine; 500 is not.

The data is made once for the module (``module_db`` in the root conftest); each test's changes are
rolled back before the next, so a garbage POST that did change something cannot leak.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from certificates.tests.samples import issued_certificate_saved
from portal.tests.test_permissions import make_ctx

ROLES = ["anonymous", "learner", "coordinator", "staff"]

HOSTILE = [
    "abc",
    "0",
    "-1",
    "99999999999999999999",
    "\x00",  # sent as %00
    "x" * 3000,
    "Zoë-名前-🙂-\u202e",
    "../../etc/passwd",
    "<script>alert(1)</script>",
]
# Django's admin checks ``is_staff`` before anything else: for everyone else two values suffice.
HOSTILE_FOR_REFUSED = ["abc", "\x00"]

HOSTILE_QUERY = {
    "q": "\x00' OR 1=1 --",
    "page": "abc",
    "p": "-1",
    "o": "99999999999999999999",
    "code": "x" * 3000,
    "next": "//evil.example/\x00",
    "e": "1",
    "all": "",
    "id__gt": "abc",
    "_changelist_filters": "q=%00",
    "_to_field": "password",
    "_popup": "1",
    "email": "\x00@example.org",
    "request_id": "abc",
    "lang": "\u202e",
}

GARBAGE_POST = {
    "request_id": "abc",
    "decision": "approve",
    "id": "99999999999999999999",
    "pk": "-1",
    "email": "\x00not-an-email",
    "login": "x" * 3000,
    "password": "\x00",
    "password1": "a",
    "password2": "b",
    "full_name": "\u202e\u200b",
    "reason": "\x00",
    "name": "x" * 3000,
    "capacity": "abc",
    "starts_on": "99999-99-99",
    "ends_on": "abc",
    "programme": "abc",
    "competencies": ["abc", "-1", "99999999999999999999"],
    "form-TOTAL_FORMS": "99999999999999999999",
    "form-INITIAL_FORMS": "abc",
    "form-MAX_NUM_FORMS": "-1",
    "action": "delete_selected",
    "_selected_action": ["abc", "99999999999999999999"],
    "index": "abc",
    "post": "yes",
    "code": "\x00",
    "file": "not a file",
    "staff_note": "\x00",
}

# Patterns left out, and why.
LEFT_OUT = {
    "django.views.static.serve": "exists only with DEBUG=True (never in production); Django's own "
    "development file server",
}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.lookup_str


_PATH_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)")


def _parameters(route: str) -> list[str]:
    return [m["name"] for m in _PATH_PARAMETER.finditer(route)] + [m["name"] for m in _REGEX_GROUP.finditer(route)]


def _url(route: str, values: dict[str, str]) -> str:
    def value(match):
        return quote(values[match["name"]], safe="")

    path = _PATH_PARAMETER.sub(value, route)
    path = _REGEX_GROUP.sub(value, path)
    path = path.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + path


PATTERNS = [(route, view) for route, view in _walk(get_resolver().url_patterns) if view not in LEFT_OUT]


@pytest.fixture(scope="module")
def world(module_db, tmp_path_factory):
    media = tmp_path_factory.mktemp("no-500-media")
    with module_db.unblock(), override_settings(MEDIA_ROOT=media):
        ctx = make_ctx()
        enrolment = ctx["enrolment"]
        certificate = issued_certificate_saved(enrolment, code="N0500-0TEST-C0DE1-AAAAA", file_name="no500.pdf")
    real = {
        "cohort_id": str(ctx["cohort"].pk),
        "enrolment_id": str(enrolment.pk),
        "upload_id": str(ctx["upload"].pk),
        "code": certificate.verification_code,
        "org_slug": ctx["cohort"].partner.slug,
        "object_id": str(enrolment.learner.pk),
    }
    return {"people": ctx["people"], "real": real, "media": media}


@pytest.fixture(autouse=True)
def _media_in_tmp(request, settings):
    if "world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("world")["media"]


def _requests(route: str, view: str, role: str, real: dict[str, str]):
    """(method, url) pairs: each parameter takes each hostile value in turn."""
    parameters = _parameters(route)
    base = {name: real.get(name, "abc") for name in parameters}
    hostile = HOSTILE_FOR_REFUSED if route.startswith("admin/") and role != "staff" else HOSTILE
    urls = [_url(route, base)]
    for name in parameters:
        urls += [_url(route, {**base, name: value}) for value in hostile]
    for url in urls:
        yield "GET", url
    yield "POST", urls[0]
    if len(urls) > 1:
        yield "POST", urls[-1]


CASES = [pytest.param(route, view, role, id=f"{route or '/'}-{role}") for route, view in PATTERNS for role in ROLES]


@pytest.mark.parametrize(("route", "view", "role"), CASES)
def test_no_500(db, world, route, view, role, mailoutbox):
    client = Client(raise_request_exception=False)
    person = world["people"][role]
    failures = []
    for method, url in _requests(route, view, role, world["real"]):
        if person is not None:
            client.force_login(person)  # again each time: a garbage POST may have signed them out
        response = client.get(url, HOSTILE_QUERY) if method == "GET" else client.post(url, GARBAGE_POST)
        if response.status_code >= 500:
            exc = response.exc_info[1] if response.exc_info else None
            failures.append(f"{method} {url[:120]} -> {response.status_code} {type(exc).__name__}: {str(exc)[:200]}")
    assert not failures, f"{view} as {role}:\n" + "\n".join(failures)


def test_every_pattern_is_walked():
    """The walk finds the project's own pages, the admin and allauth (not an empty list)."""
    views = {view for _route, view in PATTERNS}
    assert {
        "certificates.views.file_check",
        "learners.views.name_change_requests",
        "portal.views.progress_xlsx",
    } <= views
    assert any(view.startswith("allauth.") for view in views)
    assert sum(route.startswith("admin/") for route, _view in PATTERNS) > 20
    for route, _view in PATTERNS:
        assert "<" not in _url(route, dict.fromkeys(_parameters(route), "abc")), route
