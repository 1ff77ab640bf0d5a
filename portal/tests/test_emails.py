"""What learners are told when a partner enrols them: the invitation names the programme,
cohort, partner, venue and start date and says what happens next; a learner who already has an
account gets a “You have been added to …” email instead, recorded with the enrolment and sent
reliably (after commit, retried, swept). Both in text and HTML, names exactly as written."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from academy.models import User
from academy.tests.factories import UserFactory
from portal.models import EnrolmentNotice
from portal.services import enrolment_notices_send, enrolment_notices_sweep, learners_enrol
from programmes.models import Enrolment
from programmes.services import enrolment_withdraw
from programmes.tests.factories import CohortFactory, ProgrammeFactory

NAME = "Seán O'Brien & <Sons>"
ESCAPED = "Seán O&#x27;Brien &amp; &lt;Sons&gt;"


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


@pytest.fixture
def named_cohort(partner):
    partner.name = "Women's Voices & <Friends>"
    partner.save()
    programme = ProgrammeFactory(title="Health & <Research> of Ümit's street", slug="health", partners=[partner])
    return CohortFactory(
        programme=programme,
        partner=partner,
        name="Spring cohort: Łódź & Köln",
        venue="St Mary's Hall, 3 Church Road",
        starts_on=datetime.date(2031, 3, 4),
    )


def _html(message):
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def _enrol(client, cohort, email, name, callbacks):
    with callbacks(execute=True):
        response = client.post(reverse("partners:enrol_one", args=[cohort.pk]), {"email": email, "full_name": name})
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_invitation_names_the_cohort_and_says_what_happens_next(
    coordinator_client, named_cohort, mailoutbox, django_capture_on_commit_callbacks
):
    _enrol(coordinator_client, named_cohort, "new@example.org", NAME, django_capture_on_commit_callbacks)
    [message] = mailoutbox
    html = _html(message)
    assert (
        message.subject
        == "[Citizen Science Academy] You are invited to “Health & <Research> of Ümit's street” at the Citizen Science Academy"
    )
    body = message.body
    assert f"Hello {NAME}," in body
    assert (
        "Women's Voices & <Friends> has enrolled you in “Spring cohort: Łódź & Köln”, a group taking the "
        "programme “Health & <Research> of Ümit's street”." in body
    )
    assert "It starts on Tuesday 4 March 2031 at St Mary's Hall, 3 Church Road." in body
    assert "What happens next:" in body and "1. Choose a password by opening this link:" in body
    assert "Come to the sessions." in body
    assert "&amp;" not in body and "&#x27;" not in body
    assert ESCAPED in html and "Women&#x27;s Voices &amp; &lt;Friends&gt;" in html and "<Friends>" not in html
    assert "St Mary&#x27;s Hall" in html and "Tuesday 4 March 2031" in html
    assert not EnrolmentNotice.objects.exists()


def test_a_learner_with_an_account_gets_you_have_been_added(
    coordinator_client, named_cohort, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.org", full_name=NAME)  # has a password
    _enrol(coordinator_client, named_cohort, "known@example.org", "Another Name", django_capture_on_commit_callbacks)
    [message] = mailoutbox  # no invitation as well
    assert message.to == ["known@example.org"]
    assert message.subject == (
        "[Citizen Science Academy] You have been added to “Spring cohort: Łódź & Köln” "
        "(Health & <Research> of Ümit's street)"
    )
    body, html = message.body, _html(message)
    assert f"Hello {NAME}," in body  # the account's own name, as written
    assert "run by Women's Voices & <Friends>. Cora Coordinator enrolled you." in body
    assert "It starts on Tuesday 4 March 2031 at St Mary's Hall, 3 Church Road." in body
    assert "sign in as usual" in body and f"{django_settings.SITE_URL}/\n" in body
    assert ESCAPED in html and NAME not in html and "Women&#x27;s Voices &amp; &lt;Friends&gt;" in html
    notice = EnrolmentNotice.objects.get()
    assert notice.status == EnrolmentNotice.Status.SENT and notice.attempts == 1 and notice.sent_at


def test_the_notice_is_written_with_the_enrolment_and_swept_when_the_queue_lost_it(
    coordinator, named_cohort, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.org", full_name="Known Learner")
    with django_capture_on_commit_callbacks(execute=False):  # the message to the worker is lost
        learners_enrol(cohort=named_cohort, learners=[("known@example.org", "K")], enrolled_by=coordinator)
    notice = EnrolmentNotice.objects.get()
    assert notice.status == EnrolmentNotice.Status.PENDING and mailoutbox == []
    assert enrolment_notices_sweep() == []  # not yet due
    later = timezone.now() + datetime.timedelta(hours=1)
    assert enrolment_notices_sweep(now=later) == [notice.pk]
    assert [m.to for m in mailoutbox] == [["known@example.org"]]
    enrolment_notices_send(notice_ids=[notice.pk])  # a duplicate message sends nothing twice
    assert len(mailoutbox) == 1


def test_a_mail_server_failure_is_recorded_and_tried_again(coordinator, named_cohort, settings):
    UserFactory(email="known@example.org", full_name="Known Learner")
    learners_enrol(cohort=named_cohort, learners=[("known@example.org", "K")], enrolled_by=coordinator)
    notice = EnrolmentNotice.objects.get()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    assert enrolment_notices_send(notice_ids=[notice.pk]) == [notice.pk]
    notice.refresh_from_db()
    assert notice.status == EnrolmentNotice.Status.PENDING and notice.attempts == 1
    assert "mail server down" in notice.last_error and notice.sweep_after > timezone.now()
    settings.INVITATION_MAX_ATTEMPTS = 2
    assert enrolment_notices_send(notice_ids=[notice.pk]) == []
    notice.refresh_from_db()
    assert notice.status == EnrolmentNotice.Status.FAILED and notice.attempts == 2


def test_a_learner_withdrawn_before_the_email_went_is_not_told(coordinator, named_cohort, mailoutbox):
    UserFactory(email="known@example.org", full_name="Known Learner")
    [enrolment] = learners_enrol(cohort=named_cohort, learners=[("known@example.org", "K")], enrolled_by=coordinator)
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    notice = EnrolmentNotice.objects.get()
    enrolment_notices_send(notice_ids=[notice.pk])
    notice.refresh_from_db()
    assert notice.status == EnrolmentNotice.Status.SKIPPED and mailoutbox == []


def test_an_upload_of_many_records_notices_in_bounded_queries(coordinator, named_cohort, django_assert_max_num_queries):
    named_cohort.capacity = 100
    named_cohort.save()
    User.objects.bulk_create(
        [User(email=f"k{i}@example.org", full_name=f"K {i}", password="md5$x$y") for i in range(60)]
    )
    rows = [(f"k{i}@example.org", f"K {i}") for i in range(60)]
    with django_assert_max_num_queries(25):
        learners_enrol(cohort=named_cohort, learners=rows, enrolled_by=coordinator)
    assert EnrolmentNotice.objects.filter(status="pending").count() == 60
    assert Enrolment.objects.filter(cohort=named_cohort).count() == 60


def test_staff_see_each_notice_in_the_admin(client, staff_user, coordinator, named_cohort, settings):
    UserFactory(email="known@example.org", full_name="Known Learner")
    learners_enrol(cohort=named_cohort, learners=[("known@example.org", "K")], enrolled_by=coordinator)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    enrolment_notices_send(notice_ids=list(EnrolmentNotice.objects.values_list("pk", flat=True)))
    client.force_login(staff_user)
    page = client.get(reverse("admin:portal_enrolmentnotice_changelist")).content.decode()
    assert "Known Learner" in page and "Waiting to be sent" in page
    notice = EnrolmentNotice.objects.get()
    detail = client.get(reverse("admin:portal_enrolmentnotice_change", args=[notice.pk])).content.decode()
    assert "mail server down" in detail
