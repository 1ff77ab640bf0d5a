"""The certificate's design (issue 15, item 8): the bundled serif display face for the title, the
name and the programme beside the sans for the text, the Academy's crest at the head of the page,
the partner organisation's logo beside it, and the sample mark of a staff preview. In-process."""

import io
import subprocess

import pytest
from PIL import Image

from certificates import rendering, services
from certificates.models import Certificate
from certificates.tests.conftest import complete_and_issue
from certificates.tests.samples import certificate_context_sample, signature_uri_sample

SERIF = {"EB-Garamond-Academy", "EB-Garamond-Academy-Semi-Bold"}
SANS = {"Noto-Sans-Academy", "Noto-Sans-Academy-Bold"}


def _tool(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout


def _fonts(path):
    return {line.split()[0].split("+", 1)[-1] for line in _tool("pdffonts", str(path)).splitlines()[2:]}


def test_the_title_and_name_are_in_the_bundled_serif_and_the_text_in_the_bundled_sans(tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(rendering.certificate_pdf_render(certificate_context_sample()))
    fonts = _fonts(path)
    assert fonts >= SERIF  # the title (regular) and the name and programme (semibold)
    assert "Noto-Sans-Academy" in fonts
    assert fonts <= SERIF | SANS  # bundled fonts only, and no fallback for Latin text
    for line in _tool("pdffonts", str(path)).splitlines()[2:]:
        assert " yes yes yes " in line, f"font not embedded and subset: {line}"


def test_the_serif_is_bundled_with_its_licence_and_named_by_the_stylesheet():
    fonts = rendering.static_root() / "fonts"
    for name in ("EBGaramond-Academy-Regular.ttf", "EBGaramond-Academy-SemiBold.ttf"):
        assert (fonts / name).is_file()
    assert "SIL Open Font License" in (fonts / "OFL-EBGaramond.txt").read_text()
    css = (rendering.static_root() / "certificates" / "certificate.css").read_text()
    assert "EBGaramond-Academy-Regular.ttf" in css and "EBGaramond-Academy-SemiBold.ttf" in css
    # Fontconfig still knows the bundled folder only.
    assert '<dir prefix="relative">.</dir>' in rendering.fontconfig_file().read_text()


def test_the_crest_is_drawn_at_the_head_of_the_page_from_the_bundled_folder(tmp_path, monkeypatch):
    fetched = []
    original = rendering.SafeURLFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(rendering.SafeURLFetcher, "fetch", spy)
    context = {**certificate_context_sample(), "signature_uri": signature_uri_sample()}
    document = rendering.document_render(rendering.certificate_html({**context, "text_size": ""}))
    crest = (rendering.static_root() / "certificates" / "crest.svg").resolve()
    assert crest.as_uri() in fetched
    assert not any("crest" in url for url in rendering.renderer_get().fetcher.refused)
    svg = crest.read_text()
    assert "<script" not in svg and "href" not in svg  # self-contained: nothing to fetch from it
    (page,) = document.pages
    assert not rendering.text_runs_into_footer(document)
    # The crest is the first thing on the page: its box starts above the title's.
    html = rendering.certificate_html({**context, "text_size": ""})
    assert html.index('class="crest"') < html.index("<h1>")
    assert 0 < page.anchors[rendering.TEXT_END_ANCHOR][1] < page.anchors[rendering.FOOTER_ANCHOR][1]


def test_a_sample_is_marked_across_the_page_and_still_fits(tmp_path):
    path = tmp_path / "sample.pdf"
    path.write_bytes(rendering.certificate_pdf_render({**certificate_context_sample(), "sample": True}))
    # In place of the verification code (as text), and across the page (rotated).
    text = " ".join(_tool("pdftotext", str(path), "-").split())
    assert "Verification code SAMPLE – NOT A CERTIFICATE" in text
    document = rendering.document_render(
        rendering.certificate_html({**certificate_context_sample(), "sample": True, "text_size": ""})
    )
    assert "sample-mark" in document.pages[0].anchors
    assert "Pages: 1" in " ".join(_tool("pdfinfo", str(path)).split())
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(rendering.certificate_pdf_render(certificate_context_sample()))
    assert "SAMPLE" not in _tool("pdftotext", str(plain), "-")


def image_bytes(size=(400, 160), colour=(11, 93, 81)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.django_db
def test_the_partners_logo_is_printed_on_its_certificates(
    enrolment, framework, facilitator, partner, django_capture_on_commit_callbacks, tmp_path
):
    def images(path):
        listed = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True, timeout=30
        ).stdout.splitlines()[2:]
        return [line.split() for line in listed]

    partner.logo.save("logo.png", io.BytesIO(image_bytes(size=(600, 240), colour=(200, 30, 30))))
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    with_logo = images(certificate.pdf.path)

    # The same certificate drawn without the logo: one image fewer, and it is the logo's size.
    plain = tmp_path / "plain.pdf"
    context = services.certificate_context(certificate)
    plain.write_bytes(rendering.certificate_pdf_render({**context, "partner_logo_uri": ""}))
    without = images(plain)
    assert len(with_logo) == len(without) + 1
    sizes = {(row[3], row[4]) for row in with_logo} - {(row[3], row[4]) for row in without}
    assert sizes == {("600", "240")}
    text = subprocess.run(["pdftotext", certificate.pdf.path, "-"], capture_output=True, text=True, check=True).stdout
    assert "Hackney Community Voices" in text


@pytest.mark.django_db
def test_a_logo_that_cannot_be_read_any_more_is_left_out_not_fatal(partner, caplog):
    partner.logo.save("broken.png", io.BytesIO(b"no longer an image"))
    assert rendering.partner_logo_data_uri(partner.logo) == ""
    assert "could not be read as an image" in caplog.text
