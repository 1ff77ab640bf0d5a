"""Personal pages and exports are never kept by a browser or a shared cache:
``Cache-Control`` carries ``private`` and ``no-store`` on each of them."""

import pytest
from django.test.utils import override_settings
from django.urls import reverse
from django.utils.cache import get_max_age

from certificates.tests.samples import issued_certificate_saved
from portal.tests.test_permissions import MATRIX as PARTNER_MATRIX
from portal.tests.test_permissions import make_ctx


@pytest.fixture(scope="module")
def world(module_db, tmp_path_factory):
    media = tmp_path_factory.mktemp("private-media")
    with module_db.unblock(), override_settings(MEDIA_ROOT=media):
        ctx = make_ctx()
        enrolment = ctx["enrolment"]
        certificate = issued_certificate_saved(enrolment, code="PRVAT-0TEST-C0DE1-AAAAA", file_name="private.pdf")
    return {**ctx, "certificate": certificate, "media": media}


@pytest.fixture(autouse=True)
def _media_in_tmp(request, settings):
    if "world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("world")["media"]


def assert_private(response, what):
    assert response.status_code == 200, f"{what}: {response.status_code}"
    directives = {d.strip().split("=")[0] for d in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= directives, f"{what}: Cache-Control {response.get('Cache-Control')!r}"
    assert "public" not in directives
    assert not get_max_age(response), what


LEARNER_PAGES = {
    "home": lambda w: {},
    "enrolment_detail": lambda w: {"enrolment_id": w["enrolment"].pk},
    "profile": lambda w: {},
    "personal_data": lambda w: {},
    "certificates:download": lambda w: {"code": w["certificate"].verification_code},
    "reports:equality_questions": lambda w: {},
    "reports:equality_answers": lambda w: {},
}


@pytest.mark.parametrize("name", LEARNER_PAGES)
def test_the_learners_pages_are_private(db, client, world, name):
    client.force_login(world["people"]["learner"])
    assert_private(client.get(reverse(name, kwargs=LEARNER_PAGES[name](world))), name)


def test_the_staff_name_change_page_is_private(db, client, world):
    client.force_login(world["people"]["staff"])
    assert_private(client.get(reverse("name_change_requests")), "name_change_requests")


def test_the_front_page_for_visitors_is_not_marked_private(db, client, world):
    """Only the signed-in dashboard is personal; the anonymous front page holds nothing of anyone."""
    response = client.get(reverse("home"))
    assert "no-store" not in response.get("Cache-Control", "")


PORTAL_PAGES = [
    name for name, (_kwargs, methods) in PARTNER_MATRIX.items() if methods.get("GET", {}).get("coordinator") == 200
]


@pytest.mark.parametrize("name", PORTAL_PAGES)
def test_the_partner_portal_pages_and_exports_are_private(db, client, world, name):
    person = world["people"]["coordinator"]
    client.force_login(person)
    make_kwargs, _methods = PARTNER_MATRIX[name]
    assert_private(client.get(reverse(f"partners:{name}", kwargs=make_kwargs(world))), name)


def test_the_portal_list_covers_the_exports():
    assert {"progress_csv", "progress_xlsx", "cohort_detail", "enrol_preview", "portal"} <= set(PORTAL_PAGES)
