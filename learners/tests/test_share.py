"""The share block on the learner's dashboard and enrolment page: only for issued certificates,
only the learner's own, in a bounded number of queries."""

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from certificates.models import Certificate
from programmes.tests.factories import CohortFactory, EnrolmentFactory

SITE = "https://academy.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def _certificate(enrolment, code, status=Certificate.Status.ISSUED, credential=True):
    fields = {}
    if status == Certificate.Status.REVOKED:
        fields["revoked_at"] = datetime(2026, 4, 1, tzinfo=UTC)
    issued = status in (Certificate.Status.ISSUED, Certificate.Status.REVOKED)
    return Certificate.objects.create(
        enrolment=enrolment,
        verification_code=code,
        status=status,
        learner_name=enrolment.learner.full_name,
        programme_title=f"{enrolment.programme.title} (as issued)",
        cohort_name=enrolment.cohort.name,
        partner_name=enrolment.cohort.partner.name,
        sha256="a" * 64 if issued else "",
        issued_at=datetime(2026, 3, 5, 10, tzinfo=UTC) if issued else None,
        credential={"type": ["VerifiableCredential"]} if credential and issued else None,
        credential_sha256="b" * 64 if credential and issued else "",
        **fields,
    )


def _linkedin_params(body):
    return [
        parse_qs(urlsplit(unescape(url)).query)
        for url in re.findall(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', body)
    ]


def test_dashboard_shares_only_issued_certificates_of_the_learner(client, learner, enrolment):
    other_learner = EnrolmentFactory(cohort=CohortFactory()).learner
    _certificate(enrolment, "SHARE-ISSUE-D0000-AAAAA")
    revoked = EnrolmentFactory(learner=learner, cohort=CohortFactory())
    _certificate(revoked, "SHARE-REV0K-ED000-AAAAA", status=Certificate.Status.REVOKED)
    pending = EnrolmentFactory(learner=learner, cohort=CohortFactory())
    _certificate(pending, "SHARE-PEND1-NG000-AAAAA", status=Certificate.Status.PENDING)
    others = EnrolmentFactory(learner=other_learner, cohort=CohortFactory())
    _certificate(others, "SHARE-0THER-S0000-AAAAA")

    client.force_login(learner)
    body = client.get("/").content.decode()
    assert body.count('class="certificate-share') == 1
    assert body.count("Copy link") == 1
    [params] = _linkedin_params(body)
    assert params["certId"] == ["SHARE-ISSUE-D0000-AAAAA"]
    assert params["certUrl"] == [SITE + reverse("certificates:verify", kwargs={"code": "SHARE-ISSUE-D0000-AAAAA"})]
    assert params["name"] == [f"{enrolment.programme.title} (as issued)"]  # the title as printed
    assert params["issueYear"] == ["2026"] and params["issueMonth"] == ["3"]
    assert reverse("certificates:badge_png", kwargs={"code": "SHARE-ISSUE-D0000-AAAAA"}) in body
    assert "js/share.js" in body
    for code in ("SHARE-REV0K-ED000-AAAAA", "SHARE-PEND1-NG000-AAAAA", "SHARE-0THER-S0000-AAAAA"):
        assert f"/verify/{code}/badge.png" not in body
        assert f'/verify/{code}/">' not in body
    assert "SHARE-0THER-S0000-AAAAA" not in body

    client.force_login(other_learner)
    [params] = _linkedin_params(client.get("/").content.decode())
    assert params["certId"] == ["SHARE-0THER-S0000-AAAAA"]


def test_no_download_links_for_a_certificate_without_a_credential(client, learner, enrolment):
    _certificate(enrolment, "SHARE-N0CRE-D0000-AAAAA", credential=False)
    client.force_login(learner)
    body = client.get("/").content.decode()
    assert "Copy link" in body
    assert "badge.png" not in body and "credential.json" not in body


def test_enrolment_page_has_the_share_block(client, learner, enrolment):
    _certificate(enrolment, "SHARE-ENR0L-MENT0-AAAAA")
    client.force_login(learner)
    body = client.get(reverse("enrolment_detail", args=[enrolment.pk])).content.decode()
    [params] = _linkedin_params(body)
    assert params["certId"] == ["SHARE-ENR0L-MENT0-AAAAA"]
    assert "js/share.js" in body


@pytest.mark.parametrize("n", [1, 6])
def test_dashboard_queries_do_not_grow_with_shared_certificates(client, learner, n, django_assert_max_num_queries):
    for i in range(n):
        _certificate(EnrolmentFactory(learner=learner, cohort=CohortFactory()), f"SHARE-QUERY-C0DE{i}-AAAAA")
    client.force_login(learner)
    with django_assert_max_num_queries(10):
        body = client.get("/").content.decode()
    assert len(_linkedin_params(body)) == n
