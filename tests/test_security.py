"""Security headers, the production configuration, and templates that a strict CSP cannot break.

The Content-Security-Policy is ``'self'`` only, with no ``unsafe-inline``: a template with an
inline script, a ``style=""`` attribute or an ``on…=`` handler would silently break under it, so
the template scan below fails the build instead.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:")


def parse_csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture
def page_response(client, db):
    """An ordinary HTML page (the sign-in page) as an anonymous visitor sees it."""
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response


def test_csp_header_is_sent_and_strict(page_response):
    csp = parse_csp(page_response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "default-src"):
        for source in csp[directive]:
            assert source not in UNSAFE_SOURCES, f"{directive} allows {source}"
    assert csp["script-src"] == ["'self'"]


def test_security_headers_on_a_normal_page(page_response):
    assert page_response["X-Content-Type-Options"] == "nosniff"
    assert page_response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert page_response["X-Frame-Options"] == "DENY"
    assert page_response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = page_response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions


def test_permissions_policy_follows_the_setting(client, db, settings):
    settings.PERMISSIONS_POLICY = "camera=()"
    assert client.get("/healthz/")["Permissions-Policy"] == "camera=()"
    settings.PERMISSIONS_POLICY = ""
    assert "Permissions-Policy" not in client.get("/healthz/")


def _production_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(60)[:60],
        ALLOWED_HOSTS="academy.example.org",
        DEBUG="false",
        DJANGO_SETTINGS_MODULE="academy.settings",
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
call_command("migrate", verbosity=0)
# collectstatic has not run here, so the manifest storage would have no entries: plain storage.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
from django.test import Client
client = Client(HTTP_HOST="academy.example.org")
plain = client.get("/accounts/login/")
secure = client.get("/accounts/login/", secure=True)
# Signing in for real sets the session cookie.
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
person = get_user_model().objects.create_user(email="probe@example.org", password="probe-password-0123")
EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
signed_in = client.post(
    "/accounts/login/", {"login": person.email, "password": "probe-password-0123"}, secure=True
)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "secure_status": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csp": secure.get("Content-Security-Policy", ""),
    "permissions": secure.get("Permissions-Policy", ""),
    "referrer": secure.get("Referrer-Policy", ""),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]) if "csrftoken" in secure.cookies else None,
    "session_cookie": {k: bool(signed_in.cookies["sessionid"][k]) for k in ("secure", "httponly")}
    if "sessionid" in signed_in.cookies else None,
    "signed_in_status": signed_in.status_code,
}))
"""


def test_production_serves_https_only_with_hsts_and_secure_cookies(tmp_path):
    """The production settings themselves, in a fresh process: redirect to HTTPS, HSTS, and the cookies
    a real sign-in sets are Secure (and the session's HttpOnly)."""
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=_production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}", REDIS_URL="", CACHE_URL=""),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["plain_status"] == 301
    assert probe["plain_location"].startswith("https://academy.example.org/")
    assert probe["secure_status"] == 200
    assert "max-age=31536000" in probe["hsts"]
    assert "includeSubDomains" in probe["hsts"]
    assert "preload" in probe["hsts"]
    assert "script-src 'self'" in probe["csp"]
    assert "camera=()" in probe["permissions"]
    assert probe["referrer"] == "strict-origin-when-cross-origin"
    assert probe["csrf_cookie_secure"] is True
    assert probe["signed_in_status"] == 302
    assert probe["session_cookie"] == {"secure": True, "httponly": True}


# --- Templates a strict CSP cannot break ---------------------------------------------------------

# Templates that are never shown by a browser under the site's CSP, so inline styles are fine there:
# e-mail bodies (mail clients ignore stylesheets) and the certificate, which WeasyPrint renders to PDF.
NOT_SERVED_TO_BROWSERS = (
    re.compile(r"(^|/)emails?/"),
    re.compile(r"(^|/)body\.html$"),
    re.compile(r"_message\.html$"),
    re.compile(r"^certificates/(pdf|certificate)"),
    re.compile(r"(^|/)pdf/"),  # rendered by WeasyPrint into a PDF, never served as a page
)

TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
HANDLER = re.compile(r"(?:^|\s)on[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"(?:^|\s)style\s*=", re.I)


def browser_templates() -> list[Path]:
    folders = [
        ROOT / "templates",
        *(ROOT / app / "templates" for app in ("academy", "partners", "programmes", "certificates")),
    ]
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.html")) if folder.is_dir() else []:
            relative = path.relative_to(folder).as_posix()
            if not any(pattern.search(relative) for pattern in NOT_SERVED_TO_BROWSERS):
                found.append(path)
    return found


def csp_problems(source: str) -> list[str]:
    problems = []
    for match in SCRIPT.finditer(source):
        attributes, body = match.group(1), match.group(2)
        if body.strip() and "application/json" not in attributes:
            problems.append(f"inline <script> with code: {body.strip()[:60]!r}")
    if re.search(r"<style\b", source, re.I):
        problems.append("inline <style> element")
    for match in TAG.finditer(source):
        attributes = match.group(2)
        if STYLE_ATTR.search(attributes):
            problems.append(f"style attribute in <{match.group(1)}{attributes[:60]}>")
        if HANDLER.search(attributes):
            problems.append(f"event-handler attribute in <{match.group(1)}{attributes[:60]}>")
    if re.search(r"href\s*=\s*[\"']\s*javascript:", source, re.I):
        problems.append("javascript: URL")
    return problems


def test_scanner_finds_what_csp_would_block():
    """The scanner itself: each kind of inline code is caught, the allowed forms are not."""
    assert csp_problems("<script>alert(1)</script>")
    assert csp_problems('<p style="color: red">x</p>')
    assert csp_problems('<button type="button" onclick="go()">x</button>')
    assert csp_problems('<a href="javascript:go()">x</a>')
    assert csp_problems("<style>p { color: red }</style>")
    assert not csp_problems("<script src=\"{% static 'js/grid.js' %}\"></script>")
    assert not csp_problems('<script type="application/json" id="data">{"a": 1}</script>')
    assert not csp_problems('<p class="lead" data-on="x">Based on=this</p>')


def test_no_template_needs_unsafe_inline():
    templates = browser_templates()
    assert any(path.name == "base.html" for path in templates)
    problems = {
        str(path.relative_to(ROOT)): found
        for path in templates
        if (found := csp_problems(path.read_text(encoding="utf-8")))
    }
    assert not problems, f"Templates that the Content-Security-Policy would break: {problems}"


# --- Uploads are judged by what they contain, not by their names ---------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f80f00000101000518d84e0000000049454e44ae426082"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4
ZIP_NOT_XLSX = bytes.fromhex(
    "504b0304140000000000000000000000000000000000000000000500000068656c6c6f504b0506000000000000000000000000000000000000"
)
CSV_TEXT = b"Full name,Email address\r\nAmir Haddad,amir@example.org\r\n"


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("learners.csv", PNG),
        ("learners.csv", ELF),
        ("learners.xlsx", CSV_TEXT),
        ("learners.xlsx", ZIP_NOT_XLSX),
        ("learners.png", CSV_TEXT),
    ],
    ids=["png-named-csv", "program-named-csv", "csv-named-xlsx", "zip-named-xlsx", "csv-named-png"],
)
def test_learner_upload_is_refused_by_content_and_nothing_is_kept(client, coordinator, cohort, filename, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal.models import EnrolmentUpload
    from programmes.models import Enrolment

    client.force_login(coordinator)
    response = client.post(
        f"/partners/cohorts/{cohort.pk}/enrol/upload/", {"file": SimpleUploadedFile(filename, content)}
    )
    assert response.status_code == 200  # the form again, with the reason
    assert response.context["form"].errors["file"]
    assert not EnrolmentUpload.objects.exists()
    assert not Enrolment.objects.filter(cohort=cohort).exists()


def test_certificate_check_judges_the_bytes_not_the_name(client, db):
    """A file named .pdf that is not one of our certificates is told so; the name proves nothing."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    for content in (PNG, b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"):
        response = client.post("/verify/file/", {"file": SimpleUploadedFile("certificate.pdf", content)})
        assert response.status_code == 200
        assert response.context["certificate"] is None
        assert response.context["outcome"] != "genuine"
        signature = response.context["signature"]  # None: the bytes are not a PDF at all
        assert signature is None or not (signature.intact and signature.valid)
