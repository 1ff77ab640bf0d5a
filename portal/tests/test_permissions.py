"""The permission matrix: every URL of the partner portal, for every kind of person.

Decisions, applied everywhere:
- anonymous visitors are redirected to sign in (302);
- a signed-in person with no partner membership (a learner) gets 404;
- a viewer reads their organisation's pages; every page that changes something gives a viewer 403
  with a page saying they can look but not change (the cohort is theirs to see, so this reveals
  nothing; another organisation's objects are always 404);
- a coordinator reads and acts on their own organisation's cohorts and learners;
- a coordinator of ANOTHER organisation gets 404 for everything of this one (they still see their
  own portal front page and the template, which hold nothing of this organisation);
- staff read and act on every organisation's pages, as a coordinator would;
- a pending upload (preview, confirm) belongs to the person who uploaded it: everyone else,
  staff included, gets 404;
- action URLs (confirm, reinstate, re-send) accept POST only: 405 for GET to anyone signed in;
  withdrawing (one or several) and re-sending every invitation ask first on a GET page.

The list of URLs is built from ``portal/urls.py``: a new URL without an entry here fails.
"""

import pytest
from django.urls import reverse

from academy.tests.factories import UserFactory
from partners.models import PartnerMembership
from partners.tests.factories import PartnerMembershipFactory, PartnerOrganisationFactory
from portal import urls as partner_urls
from portal.models import EnrolmentUpload
from portal.tests.factories import EnrolmentUploadFactory
from programmes.models import Cohort, Enrolment
from programmes.tests.factories import (
    CohortFactory,
    CompetencyFactory,
    CoreDomainFactory,
    CourseDomainFactory,
    EnrolmentFactory,
    ProgrammeFactory,
)

ROLES = ["anonymous", "learner", "viewer", "coordinator", "other_coordinator", "staff"]

READ = {
    "anonymous": 302,
    "learner": 404,
    "viewer": 200,
    "coordinator": 200,
    "other_coordinator": 404,
    "staff": 200,
}
ANY_MEMBER = {**READ, "other_coordinator": 200}
# A write page shown (GET) or re-shown with errors after an empty POST.
# A viewer may see the cohort, so is told they can look but not change (403, never for another
# organisation's cohort: that is 404).
WRITE_FORM = {**READ, "viewer": 403}
# An action: success redirects back to the cohort.
WRITE_ACTION = {**WRITE_FORM, "coordinator": 302, "staff": 302}
OWNER_ONLY_GET = {**WRITE_FORM, "staff": 404}
OWNER_ONLY_POST = {**WRITE_ACTION, "staff": 404}
# Actions accept POST only: any signed-in person gets 405 for GET, before anything is looked up
# (so it reveals nothing about the object).
NOT_ALLOWED_FOR_GET = {**dict.fromkeys(ROLES, 405), "anonymous": 302}


def cohort_kwargs(ctx):
    return {"cohort_id": ctx["cohort"].pk}


def enrolment_kwargs(ctx):
    return {"cohort_id": ctx["cohort"].pk, "enrolment_id": ctx["enrolment"].pk}


def upload_kwargs(ctx):
    return {"cohort_id": ctx["cohort"].pk, "upload_id": ctx["upload"].pk}


# name -> (kwargs, {method: expected status per role})
MATRIX = {
    "portal": (lambda ctx: {}, {"GET": ANY_MEMBER}),
    "enrol_template": (lambda ctx: {}, {"GET": ANY_MEMBER}),
    "cohort_create": (
        lambda ctx: {"org_slug": ctx["cohort"].partner.slug},
        {"GET": WRITE_FORM, "POST": WRITE_FORM},
    ),
    "cohort_detail": (cohort_kwargs, {"GET": READ}),
    "cohort_edit": (cohort_kwargs, {"GET": WRITE_FORM, "POST": WRITE_FORM}),
    "enrol_one": (cohort_kwargs, {"GET": WRITE_FORM, "POST": WRITE_FORM}),
    "enrol_several": (cohort_kwargs, {"GET": WRITE_FORM, "POST": WRITE_FORM}),
    "enrol_upload": (cohort_kwargs, {"GET": WRITE_FORM, "POST": WRITE_FORM}),
    "enrol_preview": (upload_kwargs, {"GET": OWNER_ONLY_GET}),
    "enrol_confirm": (upload_kwargs, {"GET": NOT_ALLOWED_FOR_GET, "POST": OWNER_ONLY_POST}),
    # GET asks first (a confirmation page naming the learner); POST withdraws.
    "enrolment_withdraw": (enrolment_kwargs, {"GET": WRITE_FORM, "POST": WRITE_ACTION}),
    "enrolment_reinstate": (enrolment_kwargs, {"GET": NOT_ALLOWED_FOR_GET, "POST": WRITE_ACTION}),
    # Nobody chosen: the page says to choose learners (GET), or shows the error (POST).
    "enrolments_withdraw": (cohort_kwargs, {"GET": WRITE_FORM, "POST": WRITE_FORM}),
    "invitations_resend_all": (cohort_kwargs, {"GET": WRITE_FORM, "POST": WRITE_ACTION}),
    "invitation_resend": (enrolment_kwargs, {"GET": NOT_ALLOWED_FOR_GET, "POST": WRITE_ACTION}),
    "cohort_progress": (cohort_kwargs, {"GET": READ}),
    "learner_progress": (enrolment_kwargs, {"GET": READ}),
    "progress_csv": (cohort_kwargs, {"GET": READ}),
    "progress_xlsx": (cohort_kwargs, {"GET": READ}),
}


def test_every_portal_url_is_in_the_matrix():
    names = {pattern.name for pattern in partner_urls.urlpatterns}
    assert names == set(MATRIX), f"add these URLs to the matrix: {names - set(MATRIX)}"


CASES = [
    pytest.param(name, method, role, id=f"{name}-{method}-{role}")
    for name, (_kwargs, methods) in MATRIX.items()
    for method in methods
    for role in ROLES
]


def make_ctx() -> dict:
    """The organisation's cohort with one learner enrolled, its framework, a pending upload and
    one person per role: the same people as the root conftest's fixtures of the same names."""
    partner = PartnerOrganisationFactory(name="Hackney Community Voices", slug="hackney-community-voices")
    other_partner = PartnerOrganisationFactory(name="Newham Borough Council", slug="newham-borough-council")
    coordinator = PartnerMembershipFactory(
        user__email="coordinator@example.org", user__full_name="Cora Coordinator", organisation=partner
    ).user
    viewer = PartnerMembershipFactory(
        user__email="viewer@example.org",
        user__full_name="Vic Viewer",
        organisation=partner,
        role=PartnerMembership.Role.VIEWER,
    ).user
    other_coordinator = PartnerMembershipFactory(
        user__email="other.coordinator@example.org", user__full_name="Olu Other", organisation=other_partner
    ).user
    staff_user = UserFactory(email="staff@example.org", full_name="Sam Staff", staff=True)
    programme = ProgrammeFactory(title="Lived Experience of Poverty", slug="lived-experience", partners=[partner])
    domains = [
        CoreDomainFactory(name="Ethics"),
        CoreDomainFactory(name="Research methods"),
        CourseDomainFactory(name="Peer interviewing", programme=programme),
    ]
    for domain in domains:
        CompetencyFactory.create_batch(2, domain=domain)
    facilitator = UserFactory(email="facilitator@example.org", full_name="Fay Facilitator")
    cohort = CohortFactory(programme=programme, partner=partner, name="Hackney spring cohort")
    cohort.facilitators.add(facilitator)
    learner = UserFactory(email="learner@example.org", full_name="Zoë Ó'Brien-Łukasz")
    enrolment = EnrolmentFactory(learner=learner, cohort=cohort)
    upload = EnrolmentUploadFactory(cohort=cohort, uploaded_by=coordinator)
    people = {
        "anonymous": None,
        "learner": learner,
        "viewer": viewer,
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "staff": staff_user,
    }
    return {
        "cohort": cohort,
        "enrolment": enrolment,
        "upload": upload,
        "people": people,
        "facilitator": facilitator,
        "other_partner": other_partner,
    }


@pytest.fixture(scope="module")
def ctx(module_db):
    """Made once for the module; each test's changes are rolled back before the next (see
    ``module_db`` in the root conftest)."""
    with module_db.unblock():
        ctx = make_ctx()
        ctx["state"] = _state()
    return ctx


def _state():
    return (
        Cohort.objects.count(),
        sorted(Enrolment.objects.values_list("id", "status")),
        EnrolmentUpload.objects.count(),
    )


@pytest.mark.parametrize(("name", "method", "role"), CASES)
def test_matrix(db, client, ctx, name, method, role, captured_invitations, mailoutbox):
    make_kwargs, methods = MATRIX[name]
    expected = methods[method][role]
    person = ctx["people"][role]
    if person is not None:
        client.force_login(person)
    url = reverse(f"partners:{name}", kwargs=make_kwargs(ctx))
    before = _state()
    assert before == ctx["state"], "an earlier test's changes were not rolled back"
    response = client.get(url) if method == "GET" else client.post(url, {})
    assert response.status_code == expected, f"{role} {method} {url}"
    if expected == 302 and role == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    if expected != 302:
        # Refused or only shown: nothing changed and no invitation was sent.
        assert _state() == before
        assert captured_invitations == [] and mailoutbox == []
