"""The Academy's whole journey in a real browser, with a real Celery worker.

A partner coordinator signs in, starts a cohort, uploads a CSV of learners and confirms; the
invited learner opens the link from the email, chooses a password and sees 0 %; the facilitator
ticks every competency in the grid; the learner sees 100 % and downloads the signed certificate,
which poppler's ``pdfsig`` validates; a stranger checks it at /verify/; staff revoke it in the
admin; the verification page then says it is revoked.

Every page visited is checked with axe-core (no serious or critical violations) and watched for
CSP violations; the upload and the grid are driven with the keyboard alone (Tab, Space, Enter).
Each step is screenshotted; the screenshots are kept under test-artifacts/ when the test fails.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from academy.tests.factories import UserFactory
from certificates.baking import badge_png_credential
from certificates.models import Certificate
from certificates.services import credential_bytes
from partners.models import PartnerMembership
from partners.tests.factories import PartnerMembershipFactory, PartnerOrganisationFactory
from programmes.models import Cohort, Enrolment, Programme
from programmes.tests.factories import CompetencyFactory, CoreDomainFactory, CourseDomainFactory, ProgrammeFactory
from tests.browser.support import assert_accessible, make_login_ready, sign_in
from tests.support.workers import (
    celery_worker_process,
    redis_flushdb,
    require_worker_services,
    signing_keys_use,
    worker_env_for_tests,
)

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-walk-by-the-canal-2026"
LEARNER_EMAIL = "zoe.obrien@example.org"
LEARNER_NAME = "Zoë Ó'Brien-Łukasz"


@pytest.fixture(scope="module")
def signing_keys(tmp_path_factory):
    from certificates.keys import development_keys_create

    return development_keys_create(tmp_path_factory.mktemp("journey-keys"))


@pytest.fixture
def academy(settings, signing_keys):
    """What staff set up beforehand: a framework, an open programme linked to a partner, people."""
    signing_keys_use(settings, signing_keys)
    partner = PartnerOrganisationFactory(name="Hackney Community Voices", slug="hackney-community-voices")
    programme = ProgrammeFactory(
        title="Lived Experience of Poverty", slug="lived-experience", partners=[partner], status=Programme.Status.OPEN
    )
    ethics = CoreDomainFactory(name="Ethics")
    methods = CoreDomainFactory(name="Research methods")
    interviewing = CourseDomainFactory(name="Peer interviewing", programme=programme)
    competencies = [
        CompetencyFactory(domain=ethics, statement="Obtains informed consent in plain words."),
        CompetencyFactory(domain=ethics, statement="Keeps personal information private."),
        CompetencyFactory(domain=methods, statement="Turns a community question into a research question."),
        CompetencyFactory(domain=interviewing, statement="Runs a peer interview with care."),
    ]
    coordinator = PartnerMembershipFactory(
        user__email="cora@example.org", user__full_name="Cora Coordinator", organisation=partner
    ).user
    facilitator = UserFactory(email="fay@example.org", full_name="Fay Facilitator")
    staff = UserFactory(email="sam@example.org", full_name="Sam Staff", staff=True)
    for person in (coordinator, facilitator, staff):
        make_login_ready(person, PASSWORD)
    assert PartnerMembership.objects.get(user=coordinator).role == PartnerMembership.Role.COORDINATOR
    return {
        "partner": partner,
        "programme": programme,
        "competencies": competencies,
        "coordinator": coordinator,
        "facilitator": facilitator,
        "staff": staff,
    }


@pytest.fixture
def worker(academy):
    """A real Celery worker process on this test's database and broker."""
    require_worker_services()
    redis_flushdb(settings.CELERY_BROKER_URL)
    with celery_worker_process(env=worker_env_for_tests()) as process:
        process.mail_dir = Path(settings.MEDIA_ROOT).parent / "mail"  # where its e-mails are written
        yield process
    redis_flushdb(settings.CELERY_BROKER_URL)


# --- Keyboard helpers ----------------------------------------------------------------------------


def focused(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement; return {
            tag: e.tagName.toLowerCase(), type: e.type || "", name: e.name || "", id: e.id || "",
            text: (e.innerText || e.value || "").trim().slice(0, 80), checked: !!e.checked }; }"""
    )


def tab_to(page, matches, *, limit: int = 80, what: str = "") -> dict:
    """Press Tab until the focused element satisfies ``matches``; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
    pytest.fail(f"Tab never reached {what or 'the element'} in {limit} presses on {page.url}", pytrace=False)


def progress_bars(page) -> list[tuple[str, str]]:
    """(value, max) of every progress bar on the page."""
    return page.eval_on_selector_all(
        "progress", "bars => bars.map(b => [b.getAttribute('value'), b.getAttribute('max')])"
    )


def wait_for(condition, *, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    log = f"\nThe worker's log ends:\n{worker.log()[-3000:]}" if worker else ""
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}{log}", pytrace=False)


def invitation_link(mail_dir: Path, email_address: str, worker) -> str:
    """The set-a-password link from the invitation the worker e-mailed (file backend)."""

    def find():
        for path in sorted(mail_dir.glob("*")) if mail_dir.is_dir() else []:
            # The file backend writes each message followed by a line of 79 dashes.
            for raw in path.read_text(encoding="utf-8").split("-" * 79):
                message = email.message_from_string(raw.strip(), policy=email.policy.default)
                if email_address.lower() not in str(message.get("To", "")).lower():
                    continue
                body = message.get_body(preferencelist=("plain",))
                match = re.search(r"https?://\S+?(/welcome/\S+/)", body.get_content() if body else "")
                if match:
                    return match.group(1)
        return None

    return wait_for(find, timeout=45, what=f"the invitation e-mail to {email_address}", worker=worker)


# --- The journey ----------------------------------------------------------------------------------


def test_from_enrolment_to_revoked_certificate(browsing, academy, worker, tmp_path):
    today = timezone.localdate()

    # 1. The coordinator signs in and starts a cohort.
    coordinator = browsing.new_page("coordinator")
    coordinator.goto("/accounts/login/")
    assert_accessible(coordinator)
    sign_in(coordinator, "cora@example.org", PASSWORD)
    coordinator.goto("/partners/")
    coordinator.shot("portal")
    assert_accessible(coordinator)
    with coordinator.expect_navigation():
        coordinator.get_by_role("link", name="Start a new cohort").click()
    assert_accessible(coordinator)
    coordinator.get_by_label("Programme").select_option(label="Lived Experience of Poverty")
    coordinator.get_by_label("Name of the cohort").fill("Hackney spring cohort")
    coordinator.get_by_label("Starts on").fill(today.isoformat())
    coordinator.get_by_label("Ends on").fill((today + datetime.timedelta(days=60)).isoformat())
    coordinator.get_by_label("Community venue").fill("Bethnal Green Library, Room 2")
    coordinator.get_by_label("Number of places").fill("12")
    coordinator.shot("cohort-form")
    with coordinator.expect_navigation():
        coordinator.get_by_role("button", name="Create cohort").click()
    cohort = Cohort.objects.get(name="Hackney spring cohort")
    assert cohort.partner == academy["partner"]
    coordinator.shot("cohort-created")
    assert_accessible(coordinator)

    # 2. Upload a CSV of learners, keyboard only, check the preview and confirm.
    csv_file = tmp_path / "learners.csv"
    csv_file.write_text(
        f"\ufeffFull name,Email address\r\n{LEARNER_NAME},{LEARNER_EMAIL}\r\nAmir Haddad,amir.haddad@example.org\r\n",
        encoding="utf-8",
    )
    coordinator.goto(f"/partners/cohorts/{cohort.pk}/enrol/upload/")
    assert_accessible(coordinator)
    tab_to(coordinator, lambda e: e["type"] == "file", what="the file field")
    with coordinator.expect_file_chooser() as chooser:
        coordinator.keyboard.press("Space")
    chooser.value.set_files(str(csv_file))
    tab_to(coordinator, lambda e: e["tag"] == "button" and "Check the file" in e["text"], what="Check the file")
    coordinator.shot("upload-chosen")
    with coordinator.expect_navigation():
        coordinator.keyboard.press("Enter")
    coordinator.wait_for_url(re.compile(r"/enrol/upload/[0-9a-f-]+/$"))
    coordinator.shot("upload-preview")
    assert_accessible(coordinator)
    assert "2 learners are ready to enrol" in coordinator.content()
    assert Enrolment.objects.filter(cohort=cohort).count() == 0  # nothing written before confirming
    tab_to(coordinator, lambda e: e["tag"] == "button" and "Enrol 2 learners" in e["text"], what="Enrol 2 learners")
    with coordinator.expect_navigation():
        coordinator.keyboard.press("Enter")
    coordinator.shot("enrolled")
    assert_accessible(coordinator)
    enrolment = Enrolment.objects.select_related("learner").get(cohort=cohort, learner__email=LEARNER_EMAIL)
    assert enrolment.learner.full_name == LEARNER_NAME
    assert Enrolment.objects.filter(cohort=cohort).count() == 2

    # Staff assign the cohort's facilitator (an admin task outside this journey).
    cohort.facilitators.add(academy["facilitator"])

    # 3. The learner opens the link from the invitation e-mail, chooses a password, sees 0 %.
    link = invitation_link(worker.mail_dir, LEARNER_EMAIL, worker)
    learner = browsing.new_page("learner")
    learner.goto(link)
    learner.wait_for_load_state()
    learner.shot("welcome")
    assert_accessible(learner)
    password_fields = learner.locator("input[type=password]")
    assert password_fields.count() == 2
    password_fields.nth(0).fill(PASSWORD)
    password_fields.nth(1).fill(PASSWORD)
    with learner.expect_navigation():
        learner.locator("form").filter(has=password_fields.first).get_by_role("button").first.click()
    learner.shot("dashboard-at-start")
    assert_accessible(learner)
    total = len(academy["competencies"])
    assert learner.get_by_text(f"0 of {total} competencies shown").is_visible()
    overall = learner.get_by_role("progressbar", name=re.compile("competencies shown"))
    assert (overall.get_attribute("value"), overall.get_attribute("max")) == ("0", str(total))
    assert all(value == "0" for value, _max in progress_bars(learner))
    assert "Not yet" in learner.content()

    # 4. The facilitator ticks every competency in the grid, keyboard only.
    facilitator = browsing.new_page("facilitator")
    sign_in(facilitator, "fay@example.org", PASSWORD)
    facilitator.goto(f"/cohorts/{cohort.pk}/progress/")
    facilitator.shot("grid-empty")
    assert_accessible(facilitator)
    boxes = facilitator.locator("input[type=checkbox][name=tick]")
    assert boxes.count() == 2 * total
    # The grid is one Tab stop; the arrow keys move between its boxes (left to right along the
    # first row, then down and back along the second).
    tab_to(facilitator, lambda e: e["type"] == "checkbox" and e["name"] == "tick", what="a grid box")
    for row in range(2):
        for column in range(total):
            assert not focused(facilitator)["checked"]
            facilitator.keyboard.press("Space")
            assert focused(facilitator)["checked"]
            if column < total - 1:
                facilitator.keyboard.press("ArrowRight" if row == 0 else "ArrowLeft")
        facilitator.keyboard.press("ArrowDown")
    tab_to(facilitator, lambda e: e["tag"] == "textarea" or (e["tag"] == "input" and "evidence" in e["name"]))
    facilitator.keyboard.type("Shown during the fieldwork weekend.")
    tab_to(facilitator, lambda e: e["tag"] == "button" and "Save progress" in e["text"], what="Save progress")
    facilitator.shot("grid-ticked")
    with facilitator.expect_navigation():
        facilitator.keyboard.press("Enter")
    facilitator.shot("grid-saved")
    assert_accessible(facilitator)
    assert facilitator.locator("input[type=checkbox][name=tick]:checked").count() == 2 * total
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED

    # 5. The worker issues the certificate; the learner sees 100 % and downloads it.
    certificate = wait_for(
        lambda: Certificate.objects.filter(enrolment=enrolment, status=Certificate.Status.ISSUED).first(),
        timeout=90,
        what="the worker to issue the certificate",
        worker=worker,
    )
    learner.reload()
    learner.wait_for_load_state()
    learner.shot("dashboard-complete")
    assert_accessible(learner)
    assert learner.get_by_text(f"{total} of {total} competencies shown").is_visible()
    assert (overall.get_attribute("value"), overall.get_attribute("max")) == (str(total), str(total))
    assert all(value == maximum for value, maximum in progress_bars(learner))
    with learner.expect_download() as download_info:
        learner.get_by_role("link", name=re.compile("Download your certificate")).click()
    pdf = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    pdfsig = shutil.which("pdfsig")
    assert pdfsig, "poppler-utils (pdfsig) is needed to check the signature"
    checked = subprocess.run([pdfsig, str(pdf)], capture_output=True, text=True, timeout=60)
    assert "Signature is Valid" in checked.stdout, checked.stdout + checked.stderr

    # 5b. The learner shares it: the public link and its "Copy link" button, "Add to LinkedIn",
    # and the badge image with the credential baked in.
    share = learner.locator("section.certificate-share").first
    share.get_by_role("button", name="Copy link").click()
    status = share.locator(".share-copy-status")
    status.filter(has_text=re.compile("Link copied|Could not copy")).wait_for(timeout=5000)
    linkedin = share.get_by_role("link", name=re.compile("Add to LinkedIn")).get_attribute("href")
    assert linkedin.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    assert f"certId={certificate.verification_code}" in linkedin
    with learner.expect_download() as badge_info:
        share.get_by_role("link", name=re.compile("Download the badge image")).click()
    badge = tmp_path / "badge.png"
    badge_info.value.save_as(badge)
    certificate.refresh_from_db()
    assert badge_png_credential(badge.read_bytes()) == credential_bytes(certificate.credential)

    # 6. A stranger checks the certificate at /verify/.
    stranger = browsing.new_page("stranger")
    stranger.goto("/verify/")
    stranger.shot("verify-start")
    assert_accessible(stranger)
    stranger.locator("main form").first.get_by_role("textbox").first.fill(certificate.verification_code)
    with stranger.expect_navigation():
        stranger.get_by_role("button", name="Check the code").click()
    stranger.shot("verify-valid")
    assert_accessible(stranger)
    verify_url = stranger.url
    page_text = stranger.locator("main").inner_text()
    assert LEARNER_NAME in page_text
    assert "Lived Experience of Poverty" in page_text
    assert "revoked" not in page_text.lower()

    # 7. Staff revoke it in the admin.
    staff = browsing.new_page("staff")
    sign_in(staff, "sam@example.org", PASSWORD)
    staff.goto("/admin/certificates/certificate/")
    staff.shot("admin-certificates")
    assert_accessible(staff)
    staff.locator(f"input[name=_selected_action][value='{certificate.pk}']").check()
    staff.locator("select[name=action]").select_option("revoke_action")
    with staff.expect_navigation():
        staff.locator("button[name=index]").click()
    staff.shot("admin-revoke-form")
    assert_accessible(staff)
    staff.get_by_label(re.compile("reason", re.I)).fill("Issued in error: the fieldwork was not observed.")
    with staff.expect_navigation():
        staff.get_by_role("button", name="Revoke").click()
    staff.shot("admin-revoked")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED

    # 8. The verification page now says it is revoked. The stranger's browser may keep the page it
    # saw for VERIFICATION_MAX_AGE seconds; reloading asks the server again (with its ETag).
    assert stranger.url == verify_url
    stranger.reload()
    stranger.shot("verify-revoked")
    assert_accessible(stranger)
    assert "revoked" in stranger.locator("main").inner_text().lower()
