"""An issued certificate's record stays true (issue 16, item 1).

The case that used to break: a facilitator unticked one box for a learner who had completed and
been certified; the enrolment went back to "Taking part" while the public page still said the
certificate was valid and the partner page showed "Taking part | Certificate issued". Now the
achievements behind an issued certificate are locked (the certificates app tells programmes
through ``programmes.achievement_locks``): the service, the grid, the checklist and the admin
refuse until staff have revoked the certificate, with a reason. This walks the story through
every page that tells it: the grid, the learner's dashboard, the partner portal, the admin and
the public verification page.
"""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from certificates.models import Certificate
from certificates.services import certificate_revoke
from certificates.tests.samples import issued_certificate_saved
from programmes.models import Achievement, Enrolment
from programmes.services import achievement_record, achievement_remove, cohort_progress_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def certified(settings, tmp_path, enrolment, framework, facilitator):
    """The learner has shown every competency and their certificate is issued."""
    settings.MEDIA_ROOT = tmp_path
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    Certificate.objects.filter(enrolment=enrolment).delete()  # the pending one, issued below as the worker would
    return issued_certificate_saved(enrolment, code="GR1D0-0TEST-C0DE1-AAAAA")


def _as(user):
    client = Client()
    client.force_login(user)
    return client


def _grid_post(client, cohort, enrolment, keep, achieved, **extra):
    return client.post(
        reverse("programmes:cohort_progress", args=[cohort.pk]),
        {
            "tick": [f"{enrolment.pk}-{c.pk}" for c in keep],
            f"before-{enrolment.pk}": ",".join(str(c.pk) for c in achieved),
            "evidence": "",
            **extra,
        },
    )


def _pages(*, learner, coordinator, staff_user, facilitator, enrolment, certificate):
    """What each page says about the learner and their certificate."""
    dashboard = _as(learner).get("/").content.decode()
    portal = _as(coordinator).get(reverse("partners:cohort_detail", args=[enrolment.cohort_id])).content.decode()
    admin = _as(staff_user).get(reverse("admin:programmes_enrolment_change", args=[enrolment.pk])).content.decode()
    verify = Client().get(reverse("certificates:verify", args=[certificate.verification_code])).content.decode()
    grid = _as(facilitator).get(reverse("programmes:cohort_progress", args=[enrolment.cohort_id])).content.decode()
    return {"dashboard": dashboard, "portal": portal, "admin": admin, "verify": verify, "grid": grid}


def _tells_completed_and_valid(pages):
    assert "Completed" in pages["dashboard"] and "Download your certificate" in pages["dashboard"]
    assert "Completed" in pages["portal"] and "Certificate issued" in pages["portal"]
    assert "Taking part" not in pages["portal"].split("<tbody", 1)[-1]
    assert "Completed" in pages["admin"]
    assert "This certificate is valid" in pages["verify"]
    assert "Certificate issued: locked" in pages["grid"] and " disabled" in pages["grid"]


def test_the_story_through_every_page(
    certified, learner, enrolment, cohort, framework, facilitator, coordinator, staff_user
):
    c = framework["competencies"]
    who = {
        "learner": learner,
        "coordinator": coordinator,
        "staff_user": staff_user,
        "facilitator": facilitator,
        "enrolment": enrolment,
        "certificate": certified,
    }
    _tells_completed_and_valid(_pages(**who))

    # The facilitator unticks one box (the old broken case), even past the confirmation: refused.
    response = _grid_post(_as(facilitator), cohort, enrolment, keep=c[1:], achieved=c, confirm="yes")
    assert response.status_code == 200
    assert "revoke the certificate first" in response.content.decode()
    assert Achievement.objects.filter(enrolment=enrolment).count() == 6
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    _tells_completed_and_valid(_pages(**who))  # every page still tells the same, true story

    # Staff revoke the certificate, with a reason (audited); then the achievement can be undone.
    certificate_revoke(certificate=certified, revoked_by=staff_user, reason="Consent competency recorded in error")
    assert certified.history.first().history_user == staff_user
    grid = _as(facilitator).get(reverse("programmes:cohort_progress", args=[cohort.pk])).content.decode()
    assert "locked" not in grid and " disabled" not in grid
    response = _grid_post(_as(facilitator), cohort, enrolment, keep=c[1:], achieved=c)
    assert "Undo 1 achievement?" in response.content.decode()  # asked first
    response = _grid_post(_as(facilitator), cohort, enrolment, keep=c[1:], achieved=c, confirm="yes")
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE

    pages = _pages(**who)
    assert "Taking part" in pages["dashboard"] and "has been revoked" in pages["dashboard"]
    assert "Download your certificate" not in pages["dashboard"]
    assert "Taking part" in pages["portal"] and "Certificate issued" not in pages["portal"]
    assert "Taking part" in pages["admin"]
    assert "This certificate has been revoked" in pages["verify"] and "This certificate is valid" not in pages["verify"]
    assert "locked" not in pages["grid"]


def test_the_service_refuses_until_the_certificate_is_revoked(certified, enrolment, framework, facilitator, staff_user):
    c = framework["competencies"]
    with pytest.raises(ValidationError, match="revoke the certificate first") as refused:
        achievement_remove(enrolment=enrolment, competency=c[0], removed_by=facilitator)
    assert refused.value.error_list[0].code == "certificate_issued"
    with pytest.raises(ValidationError, match="revoke the certificate first"):
        cohort_progress_save(
            cohort=enrolment.cohort, ticks=set(), unticks={(enrolment.pk, c[0].pk)}, recorded_by=facilitator
        )
    assert Achievement.objects.filter(enrolment=enrolment).count() == 6
    certified.refresh_from_db()
    assert certified.status == Certificate.Status.ISSUED
    certificate_revoke(certificate=certified, revoked_by=staff_user, reason="Recorded in error")
    assert achievement_remove(enrolment=enrolment, competency=c[0], removed_by=facilitator) is True


def test_a_certificate_being_reissued_still_locks(certified, enrolment, framework, facilitator, staff_user):
    from certificates.services import certificate_reissue

    certificate_reissue(certificate=certified, reissued_by=staff_user, reason="Name corrected")
    certified.refresh_from_db()
    assert certified.status == Certificate.Status.PENDING and certified.version == 2
    # The earlier version stands on the public page meanwhile, so its record stays true too.
    with pytest.raises(ValidationError, match="revoke the certificate first"):
        achievement_remove(enrolment=enrolment, competency=framework["competencies"][0], removed_by=facilitator)


def test_a_pending_or_failed_certificate_does_not_lock(settings, tmp_path, enrolment, framework, facilitator):
    settings.MEDIA_ROOT = tmp_path
    c = framework["competencies"]
    for competency in c:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=facilitator)
    assert Certificate.objects.get(enrolment=enrolment).status == Certificate.Status.PENDING
    # Not issued yet: a last tick made by mistake can still be undone (the worker then issues nothing).
    assert achievement_remove(enrolment=enrolment, competency=c[0], removed_by=facilitator) is True


def test_the_checklist_refuses_too(certified, cohort, enrolment, framework, facilitator):
    c = framework["competencies"]
    url = reverse("programmes:learner_checklist", args=[cohort.pk, enrolment.pk])
    client = _as(facilitator)
    body = client.get(url).content.decode()
    assert body.count(" disabled") == 6 and "Certificate issued: locked." in body
    response = client.post(
        url,
        {"tick": [f"{enrolment.pk}-{x.pk}" for x in c[2:]], f"before-{enrolment.pk}": ",".join(str(x.pk) for x in c)},
    )
    assert response.status_code == 200 and "revoke the certificate first" in response.content.decode()
    assert Achievement.objects.filter(enrolment=enrolment).count() == 6


def test_the_admin_refuses_to_delete_a_locked_achievement(certified, enrolment, staff_user):
    client = _as(staff_user)
    achievement = Achievement.objects.filter(enrolment=enrolment).first()
    url = reverse("admin:programmes_achievement_delete", args=[achievement.pk])
    page = client.get(url).content.decode()
    assert escape("revoke the certificate first") in page or "revoke the certificate first" in page
    client.post(url, {"post": "yes"})
    changelist = reverse("admin:programmes_achievement_changelist")
    response = client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [a.pk for a in Achievement.objects.all()], "post": "yes"},
    )
    assert response.status_code == 200 and "revoke the certificate first" in response.content.decode()
    assert Achievement.objects.filter(enrolment=enrolment).count() == 6


def test_the_admin_deletes_once_revoked(certified, enrolment, staff_user):
    certificate_revoke(certificate=certified, revoked_by=staff_user, reason="Recorded in error")
    achievement = Achievement.objects.filter(enrolment=enrolment).first()
    response = _as(staff_user).post(
        reverse("admin:programmes_achievement_delete", args=[achievement.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Achievement.objects.filter(pk=achievement.pk).exists()
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_the_grid_reads_locks_in_one_query_whatever_the_size(
    certified, cohort, facilitator, django_assert_max_num_queries
):
    client = _as(facilitator)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("programmes:cohort_progress", args=[cohort.pk]))
    assert response.status_code == 200
