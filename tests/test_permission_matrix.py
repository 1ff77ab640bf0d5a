"""The permission matrix over every URL of every app, for every kind of person.

Every URL pattern is read from the resolver. Path parameters are filled with objects that belong to
ONE learner (an enrolment, a certificate) or ONE organisation (a cohort of "Hackney Community
Voices"), then each page is requested by each role, and the status is asserted:

- the owners get 200 (the learner their own pages; the organisation's members, its cohort's
  facilitators and staff what their role allows);
- everybody else who is signed in gets 404 (never 403: nothing confirms that the object exists);
- anonymous visitors are sent to sign in, or get 404.

Partner-portal URLs: ``portal/tests/test_permissions.py`` asserts them for anonymous, learner,
viewer, coordinator, coordinator of another organisation and staff; this matrix adds the roles it
does not have (another learner, the cohort's facilitator, another cohort's facilitator), who hold no
membership and so are expected to fare exactly as its "learner" does.

A URL that is in neither matrix fails ``test_every_url_is_in_a_matrix``. The only URLs left out
are listed in ``NOT_IN_MATRIX`` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from academy.tests.factories import UserFactory
from certificates.models import STATUS_LIST_SIZE, Certificate, StatusList
from certificates.tests.samples import issued_certificate_saved
from portal.models import EnrolmentUpload
from portal.tests.test_permissions import MATRIX as PARTNER_MATRIX
from portal.tests.test_permissions import ROLES as PARTNER_ROLES
from portal.tests.test_permissions import make_ctx
from programmes.models import Achievement, Enrolment
from programmes.tests.factories import CohortFactory, EnrolmentFactory, ProgrammeFactory

ROLES = [
    "anonymous",
    "learner",
    "other_learner",
    "facilitator",
    "other_facilitator",
    "viewer",
    "coordinator",
    "other_coordinator",
    "staff",
]
LOGIN = "login"  # a redirect to the sign-in page

# URLs deliberately outside the matrix, and why.
NOT_IN_MATRIX = {
    "admin": "Django's admin: every page is staff-only through admin_site.admin_view; the admin's own "
    "tests (academy/tests/test_admin*.py) load each page for staff.",
    "allauth": "allauth's account pages act only on the signed-in person's own account, or on "
    "unguessable one-time keys; no path names another person's object. Covered by the sign-in tests.",
    "media": "django.views.static.serve under /media/ exists only with DEBUG=True (never in "
    "production, where certificates are served through the download view).",
}


def everyone(status) -> dict:
    return dict.fromkeys(ROLES, status)


OPEN = everyone(200)
SIGNED_IN = {**everyone(200), "anonymous": LOGIN}
LEARNER_ONLY = {**everyone(404), "anonymous": LOGIN, "learner": 200}
STAFF_ONLY = {**everyone(404), "anonymous": LOGIN, "staff": 200}
GRID = {**STAFF_ONLY, "facilitator": 200}
# POST with nothing ticked: the grid is shown again (200) for those allowed.
GRID_POST = GRID
DOWNLOAD = {**everyone(404), "learner": 200, "staff": 200, "coordinator": 200, "viewer": 200}
# A partner organisation's report: its members (coordinator and viewer) and staff.
ORGANISATION_MEMBERS = {**everyone(404), "anonymous": LOGIN, "viewer": 200, "coordinator": 200, "staff": 200}


def enrolment_kwargs(world):
    return {"enrolment_id": world["enrolment"].pk}


def cohort_kwargs(world):
    return {"cohort_id": world["cohort"].pk}


def organisation_kwargs(world):
    return {"org_slug": world["cohort"].partner.slug}


def code_kwargs(world):
    return {"code": world["certificate"].verification_code}


def welcome_kwargs(world):
    # A link for the learner with a token that is not valid: the page must reveal nobody.
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return {"uidb64": urlsafe_base64_encode(force_bytes(world["learner"].pk)), "token": "abc-0123456789abcdef"}


# name -> (kwargs, {method: expected status per role})
MATRIX: dict[str, tuple[Callable, dict[str, dict]]] = {
    "home": (lambda w: {}, {"GET": OPEN}),
    "healthz": (lambda w: {}, {"GET": OPEN}),
    "accessibility": (lambda w: {}, {"GET": OPEN}),
    # Off without METRICS_TOKEN / METRICS_ALLOWED_NETWORKS (as here): 404 for every role, staff
    # too. The token and the networks are tested in academy/tests/test_metrics.py.
    "metrics": (lambda w: {}, {"GET": everyone(404)}),
    "did_document": (lambda w: {}, {"GET": OPEN}),
    "enrolment_detail": (enrolment_kwargs, {"GET": LEARNER_ONLY}),
    "profile": (lambda w: {}, {"GET": SIGNED_IN}),
    "personal_data": (lambda w: {}, {"GET": SIGNED_IN}),
    "personal_data_csv": (lambda w: {}, {"GET": SIGNED_IN}),
    "personal_data_pdf": (lambda w: {}, {"GET": SIGNED_IN}),
    "name_change_requests": (lambda w: {}, {"GET": STAFF_ONLY}),
    "invitation_request": (lambda w: {}, {"GET": OPEN}),
    "welcome": (welcome_kwargs, {"GET": OPEN}),
    "certificates:verify_start": (lambda w: {}, {"GET": OPEN}),
    "certificates:file_check": (lambda w: {}, {"GET": OPEN}),
    "certificates:verify": (code_kwargs, {"GET": OPEN}),
    "certificates:download": (code_kwargs, {"GET": DOWNLOAD}),
    "certificates:credential_json": (code_kwargs, {"GET": OPEN}),
    "certificates:badge_png": (code_kwargs, {"GET": OPEN}),
    "certificates:status_list": (lambda w: {"list_id": w["status_list"].pk}, {"GET": OPEN}),
    "programmes:cohort_progress": (cohort_kwargs, {"GET": GRID, "POST": GRID_POST}),
    "programmes:learner_checklist": (
        lambda w: {**cohort_kwargs(w), **enrolment_kwargs(w)},
        {"GET": GRID, "POST": GRID_POST},
    ),
    "programmes:cohort_invite": (cohort_kwargs, {"GET": STAFF_ONLY, "POST": STAFF_ONLY}),
    # The learner's own equality-monitoring pages (reports/views.py): each person only ever
    # reaches their own answers (no URL names anyone else's); POST {} is refused for want of consent.
    "reports:equality_questions": (lambda w: {}, {"GET": SIGNED_IN, "POST": SIGNED_IN}),
    "reports:equality_answers": (lambda w: {}, {"GET": SIGNED_IN}),
    "reports:equality_withdraw": (
        lambda w: {},
        {"GET": {**everyone(405), "anonymous": LOGIN}, "POST": {**everyone(302), "anonymous": LOGIN}},
    ),
    # Staff reports and each partner's report (reports/views_reports.py)
    "reports:staff_report": (lambda w: {}, {"GET": STAFF_ONLY}),
    "reports:staff_report_csv": (lambda w: {}, {"GET": STAFF_ONLY}),
    "reports:staff_report_xlsx": (lambda w: {}, {"GET": STAFF_ONLY}),
    "reports:funder_report": (lambda w: {}, {"GET": STAFF_ONLY}),
    "reports:partner_report": (organisation_kwargs, {"GET": ORGANISATION_MEMBERS}),
    "reports:partner_report_csv": (organisation_kwargs, {"GET": ORGANISATION_MEMBERS}),
    "reports:partner_report_xlsx": (organisation_kwargs, {"GET": ORGANISATION_MEMBERS}),
}

EXTRA_PARTNER_ROLES = [role for role in ROLES if role not in PARTNER_ROLES]


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or None
            full = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), full)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name, pattern.lookup_str


def _left_out(route: str, name: str | None, view: str) -> str | None:
    """Which NOT_IN_MATRIX reason covers this URL, if any."""
    if (name or "").startswith("admin:") or route.startswith("admin/"):
        return "admin"
    if view.startswith("allauth."):
        return "allauth"
    if view == "django.views.static.serve":
        return "media"
    return None


def test_every_url_is_in_a_matrix():
    missing, unnamed = [], []
    for route, name, view in _walk(get_resolver().url_patterns):
        if _left_out(route, name, view):
            continue
        if name is None:
            unnamed.append(route)
        elif name not in MATRIX and not (name.startswith("partners:") and name.split(":", 1)[1] in PARTNER_MATRIX):
            missing.append(f"{name} ({route})")
    assert not unnamed, f"Name these URLs so the matrix can list them: {unnamed}"
    assert not missing, f"Add these URLs to the permission matrix (tests/test_permission_matrix.py): {missing}"
    # And nothing in the matrix is stale.
    names = {name for _route, name, _view in _walk(get_resolver().url_patterns)}
    assert set(MATRIX) <= names


@pytest.fixture(scope="module")
def world(module_db, tmp_path_factory):
    """One learner's enrolment and issued certificate in one organisation's cohort, and people
    around them: a classmate, the cohort's facilitator, another cohort's facilitator, the
    organisation's viewer and coordinator, another organisation's coordinator, staff.

    Made once for the module; each test's changes are rolled back before the next (see
    ``module_db`` in the root conftest)."""
    media = tmp_path_factory.mktemp("matrix-media")
    with module_db.unblock(), override_settings(MEDIA_ROOT=media):
        ctx = make_ctx()
        enrolment, cohort = ctx["enrolment"], ctx["cohort"]
        learner = enrolment.learner
        other_learner = EnrolmentFactory(learner__email="other.learner@example.org", cohort=cohort).learner
        other_facilitator = UserFactory(email="other.facilitator@example.org", full_name="Femi Other")
        other_partner = ctx["other_partner"]
        other_cohort = CohortFactory(
            programme=ProgrammeFactory(title="Air quality", slug="air-quality", partners=[other_partner]),
            partner=other_partner,
            name="Newham autumn cohort",
        )
        other_cohort.facilitators.add(other_facilitator)
        EnrolmentFactory(cohort=other_cohort)
        certificate = issued_certificate_saved(
            enrolment,
            code="MATRX-0TEST-C0DE1-AAAAA",
            file_name="matrix.pdf",
            credential={"type": ["VerifiableCredential"]},
            credential_sha256="0" * 64,
        )
        status_list = StatusList.objects.create(bits=bytes(STATUS_LIST_SIZE // 8))
        state = _state()
    people = {
        **ctx["people"],
        "other_learner": other_learner,
        "facilitator": ctx["facilitator"],
        "other_facilitator": other_facilitator,
    }
    assert set(people) == set(ROLES)
    return {
        "learner": learner,
        "enrolment": enrolment,
        "cohort": cohort,
        "certificate": certificate,
        "status_list": status_list,
        "upload": ctx["upload"],
        "people": people,
        "media": media,
        "state": state,
    }


@pytest.fixture(autouse=True)
def _media_in_tmp(request, settings):
    """Instead of the root conftest's fixture: the media folder of the module's world, which holds
    the certificate's PDF (``test_every_url_is_in_a_matrix`` needs no world)."""
    if "world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("world")["media"]


def _state():
    return (
        Achievement.objects.count(),
        sorted(Enrolment.objects.values_list("id", "status")),
        sorted(Certificate.objects.values_list("id", "status")),
        EnrolmentUpload.objects.count(),
    )


def _check(client, world, url, method, role, expected):
    person = world["people"][role]
    if person is not None:
        client.force_login(person)
    before = _state()
    assert before == world["state"], "an earlier test's changes were not rolled back"
    response = client.get(url) if method == "GET" else client.post(url, {})
    if expected == LOGIN:
        assert response.status_code == 302, f"{role} {method} {url}: {response.status_code}, expected sign-in"
        assert response["Location"].startswith(reverse("account_login")), response["Location"]
    else:
        assert response.status_code == expected, f"{role} {method} {url}: {response.status_code}, expected {expected}"
    if response.status_code in (302, 403, 404, 405):
        assert _state() == before, f"{role} {method} {url} was refused but changed something"
    return response


CASES = [
    pytest.param(name, method, role, id=f"{name}-{method}-{role}")
    for name, (_kwargs, methods) in MATRIX.items()
    for method in methods
    for role in ROLES
]


@pytest.mark.parametrize(("name", "method", "role"), CASES)
def test_matrix(db, client, world, name, method, role, mailoutbox):
    make_kwargs, methods = MATRIX[name]
    url = reverse(name, kwargs=make_kwargs(world))
    response = _check(client, world, url, method, role, methods[method][role])
    if name == "welcome" and response.status_code == 200:
        text = response.content.decode()
        assert world["learner"].email not in text and world["learner"].full_name not in text


PARTNER_CASES = [
    pytest.param(name, method, role, id=f"partners:{name}-{method}-{role}")
    for name, (_kwargs, methods) in PARTNER_MATRIX.items()
    for method in methods
    for role in EXTRA_PARTNER_ROLES
]


@pytest.mark.parametrize(("name", "method", "role"), PARTNER_CASES)
def test_partner_portal_for_people_without_a_membership(db, client, world, name, method, role, mailoutbox):
    make_kwargs, methods = PARTNER_MATRIX[name]
    url = reverse(f"partners:{name}", kwargs=make_kwargs(world))
    expected = methods[method]["learner"]  # no membership: as the partner matrix's learner
    _check(client, world, url, method, role, LOGIN if expected == 302 and role == "anonymous" else expected)
    assert mailoutbox == []
