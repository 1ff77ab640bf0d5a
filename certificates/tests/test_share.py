"""Sharing a certificate on its public page: the LinkedIn link, the Open Graph tags, the share
block (issued only), and the baked badge download (/verify/<code>/badge.png)."""

import hashlib
import io
import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from PIL import Image

from certificates.baking import badge_png_credential
from certificates.models import Certificate
from certificates.services import credential_bytes
from certificates.share import certificate_share, linkedin_add_url

SITE = "https://academy.example.org"
CREDENTIAL = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "name": "Zoë"}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.SITE_NAME = "Citizen Science Academy"


def _certificate(enrolment, status=Certificate.Status.ISSUED, code="SHARE-0TEST-C0DE1-AAAAA", **extra):
    fields = {
        "enrolment": enrolment,
        "verification_code": code,
        "status": status,
        "learner_name": enrolment.learner.full_name,
        "programme_title": "Lived Experience of Poverty & Health",
        "cohort_name": enrolment.cohort.name,
        "partner_name": enrolment.cohort.partner.name,
        "sha256": "a" * 64,
        "issued_at": datetime(2026, 3, 5, 10, tzinfo=UTC),
        "credential": CREDENTIAL,
        "credential_sha256": hashlib.sha256(credential_bytes(CREDENTIAL)).hexdigest(),
    }
    if status == Certificate.Status.REVOKED:
        fields["revoked_at"] = datetime(2026, 4, 1, tzinfo=UTC)
    if status in (Certificate.Status.PENDING, Certificate.Status.FAILED):
        fields.update(sha256="", issued_at=None, credential=None, credential_sha256="")
    fields.update(extra)
    return Certificate.objects.create(**fields)


def test_linkedin_url_carries_the_certificate():
    url = linkedin_add_url(
        programme_title="Air & water: a course?",
        issued_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
        verify_url=f"{SITE}/verify/ABCDE-12345/",
        code="ABCDE-12345",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    params = parse_qs(parts.query, strict_parsing=True)
    assert params == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Air & water: a course?"],
        "organizationName": ["Citizen Science Academy"],
        "issueYear": ["2026"],
        "issueMonth": ["11"],
        "certUrl": [f"{SITE}/verify/ABCDE-12345/"],
        "certId": ["ABCDE-12345"],
    }


def test_issue_month_is_the_academys_local_month(settings):
    settings.TIME_ZONE = "Europe/London"
    url = linkedin_add_url(
        programme_title="P", issued_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC), verify_url="u", code="c"
    )
    assert parse_qs(urlsplit(url).query)["issueMonth"] == ["7"]  # 00:30 on 1 July in London


@pytest.mark.parametrize("status", [Certificate.Status.PENDING, Certificate.Status.FAILED, Certificate.Status.REVOKED])
def test_nothing_to_share_unless_issued(enrolment, status):
    assert certificate_share(_certificate(enrolment, status=status)) is None
    assert certificate_share(None) is None


def _meta(body: str) -> dict[str, str]:
    return {
        key: unescape(value)
        for key, value in re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)"', body)
    }


def test_verify_page_has_open_graph_tags_and_the_share_block(client, enrolment):
    certificate = _certificate(enrolment)
    page = reverse("certificates:verify", kwargs={"code": certificate.verification_code})
    body = client.get(page).content.decode()
    meta = _meta(body)
    assert meta["og:url"] == SITE + page
    assert meta["og:title"] == f"{enrolment.learner.full_name} – Lived Experience of Poverty & Health"
    assert "5 March 2026" in meta["og:description"]
    assert meta["og:type"] == "website"
    assert meta["og:site_name"] == "Citizen Science Academy"
    assert meta["twitter:card"] == "summary"
    image = urlsplit(meta["og:image"])
    assert image.scheme == "https" and image.netloc == "academy.example.org"
    assert image.path == static("certificates/badge.png")
    assert finders.find("certificates/badge.png")  # a static file that exists
    assert 'id="share-heading-' in body
    link = re.search(r'<a id="share-link-[^"]+" href="([^"]+)"[^>]*>([^<]+)</a>', body)
    assert link.groups() == (SITE + page, SITE + page)  # the link, as visible text
    assert "Copy link" in body and "js/share.js" in body
    linkedin = re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)" rel="noopener"', body)
    params = parse_qs(urlsplit(unescape(linkedin.group(1))).query)
    assert params["certUrl"] == [SITE + page]
    assert params["certId"] == [certificate.verification_code]
    assert params["name"] == ["Lived Experience of Poverty & Health"]
    assert reverse("certificates:badge_png", kwargs={"code": certificate.verification_code}) in body


def test_revoked_page_has_no_share_block_and_no_name_in_previews(client, enrolment):
    certificate = _certificate(enrolment, status=Certificate.Status.REVOKED)
    body = client.get(reverse("certificates:verify", kwargs={"code": certificate.verification_code})).content.decode()
    assert "has been revoked" in body
    assert "linkedin.com" not in body
    assert "Copy link" not in body
    assert "/badge.png" not in body.replace(static("certificates/badge.png"), "")  # the OG image only
    meta = _meta(body)
    assert meta["og:title"] == "Revoked certificate"
    assert enrolment.learner.full_name not in meta["og:description"]


def test_badge_carries_the_stored_credential(client, enrolment, django_assert_max_num_queries):
    certificate = _certificate(enrolment)
    url = reverse("certificates:badge_png", kwargs={"code": certificate.verification_code})
    with django_assert_max_num_queries(2):
        response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="badge-{certificate.verification_code}.png"'
    cache = response["Cache-Control"]
    assert "public" in cache and "max-age=60" in cache
    png = response.content
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG"
    assert badge_png_credential(png) == credential_bytes(certificate.credential)
    again = client.get(url, headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304


def test_revoked_certificates_badge_is_served_like_its_credential(client, enrolment):
    certificate = _certificate(enrolment, status=Certificate.Status.REVOKED)
    response = client.get(reverse("certificates:badge_png", kwargs={"code": certificate.verification_code}))
    assert response.status_code == 200
    assert badge_png_credential(response.content) == credential_bytes(CREDENTIAL)


@pytest.mark.parametrize("status", [Certificate.Status.PENDING, Certificate.Status.FAILED, None])
def test_badge_404_for_unknown_pending_failed(client, enrolment, status):
    code = "SHARE-0TEST-C0DE1-BBBBB"
    if status is not None:
        _certificate(enrolment, status=status, code=code)
    response = client.get(reverse("certificates:badge_png", kwargs={"code": code}))
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"
    assert "No issued certificate" in response.content.decode()


def test_badge_404_for_a_code_not_written_canonically(client, enrolment):
    certificate = _certificate(enrolment)
    response = client.get(reverse("certificates:badge_png", kwargs={"code": certificate.verification_code.lower()}))
    assert response.status_code == 404
