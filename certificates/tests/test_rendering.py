"""Rendering: the text, fonts, metadata and safety of the certificate PDF (in-process)."""

import base64
import html
import io
import logging
import re
import subprocess

import pytest
import segno
import zxingcpp
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from certificates import rendering
from certificates.models import Certificate
from certificates.tests.conftest import complete_and_issue
from certificates.tests.samples import SAMPLE_URL, certificate_context_sample

BUNDLED_FAMILIES = (
    "EB-Garamond-Academy",
    "Noto-Sans-Academy",
    "Noto-Sans-Greek-Cyrillic-Academy",
    "Noto-Sans-Arabic-Academy",
    "Noto-Sans-Bengali-Academy",
    "Noto-Sans-Devanagari-Academy",
)


def pdf_tool(tool, path, *args):
    """Run a poppler tool on ``path`` and return what it prints."""
    command = [tool, *args, str(path)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_pdf_has_the_learner_programme_domains_and_verification_details(completed_certificate, cohort):
    certificate = completed_certificate
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    text = pdf_tool("pdftotext", certificate.pdf.path, "-layout")
    flat = " ".join(text.split())
    assert "Zoë Ó'Brien-Łukasz" in flat
    assert "Lived Experience of Poverty" in flat
    assert "Hackney spring cohort, run with Hackney Community Voices" in flat
    for domain in ("Ethics", "Research methods", "Peer interviewing"):
        assert domain in flat
    squashed = "".join(text.split())  # a long address may wrap onto two lines
    assert certificate.verification_code in squashed
    assert f"https://academy.example.org/verify/{certificate.verification_code}/" in squashed
    assert "Professor Ada Example" in flat and "Director, Citizen Science Academy" in flat
    assert "has shown the competencies of a citizen social scientist" in flat
    assert certificate.issued_at.strftime("%Y") in flat


def test_only_the_bundled_fonts_are_embedded(completed_certificate):
    fonts = pdf_tool("pdffonts", completed_certificate.pdf.path).splitlines()[2:]
    assert fonts, "no fonts listed"
    for line in fonts:
        name, *_rest = line.split()
        # A certificate in Latin letters needs only the Latin sans (the others are fallbacks) for its
        # text and the serif display face for its title, name and programme.
        assert name.split("+", 1)[-1] in {
            "Noto-Sans-Academy",
            "Noto-Sans-Academy-Bold",
            "EB-Garamond-Academy",
            "EB-Garamond-Academy-Semi-Bold",
        }, line
        assert " yes yes yes " in line, f"font not embedded and subset: {line}"
    assert "DejaVu" not in "\n".join(fonts)


def test_pdf_is_tagged_landscape_a4_with_title_and_language(completed_certificate):
    info = pdf_tool("pdfinfo", completed_certificate.pdf.path)
    assert "Tagged:          yes" in info
    assert "Title:           Certificate: Zoë Ó'Brien-Łukasz, Lived Experience of Poverty" in info
    assert "Pages:           1" in info
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts \(A4\)", info).groups()
    assert float(width) > float(height)  # landscape
    with completed_certificate.pdf.open("rb") as handle:
        reader = PdfFileReader(io.BytesIO(handle.read()))
    assert str(reader.root["/Lang"]) == "en-GB"
    assert "/StructTreeRoot" in reader.root


def test_the_printed_qr_code_reads_as_the_verification_address(completed_certificate, tmp_path):
    """What a phone sees: the page drawn at 100 dpi, the QR code found and decoded."""
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", completed_certificate.pdf.path, str(tmp_path / "page")],
        check=True,
    )
    found = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    assert [result.text for result in found] == [
        f"https://academy.example.org/verify/{completed_certificate.verification_code}/"
    ]
    images = pdf_tool("pdfimages", completed_certificate.pdf.path, "-list").splitlines()[2:]
    assert len(images) == 1 and " jpeg " in images[0] and " gray " in images[0], images


def test_the_qr_code_jpeg_holds_exactly_the_two_grey_levels_of_its_modules():
    uri = rendering.qr_data_uri(SAMPLE_URL)
    assert uri.startswith("data:image/jpeg;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    matrix = segno.make(SAMPLE_URL, error="m").matrix
    scale = rendering.QR_MODULE_PIXELS
    assert image.mode == "L" and image.size == (len(matrix) * scale, len(matrix) * scale)
    expected = bytes(
        rendering.QR_DARK if matrix[y // scale][x // scale] else 0xFF
        for y in range(image.height)
        for x in range(image.width)
    )
    assert image.tobytes() == expected  # lossless: no pixel differs from its module's grey


@pytest.mark.parametrize(
    "name",
    [
        '<img src="file:///etc/passwd"> Eve',
        "Eve</p><style>@import url(file:///etc/hostname);</style>",
        'Eve url("file:///etc/passwd") url(http://127.0.0.1:9/x.png)',
    ],
)
def test_a_hostile_name_is_printed_as_text_and_fetches_nothing(
    name, learner, enrolment, framework, facilitator, django_capture_on_commit_callbacks, monkeypatch
):
    learner.full_name = name
    learner.save(update_fields=["full_name"])
    fetched = []
    original = rendering.SafeURLFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(rendering.SafeURLFetcher, "fetch", spy)
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    # Long names wrap: compare without whitespace.
    squashed = "".join(pdf_tool("pdftotext", certificate.pdf.path).split())
    assert "".join(name.split()) in squashed
    # Only the images the code embeds and the bundled crest.
    crest = (rendering.static_root() / "certificates" / "crest.svg").resolve().as_uri()
    assert all(url.startswith("data:image/") or url == crest for url in fetched), fetched
    assert not any("/etc/" in url or "127.0.0.1:9" in url for url in fetched)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://example.org/font.ttf",
        "data:text/css,body{}",
        "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
    ],
)
def test_the_fetcher_refuses_anything_but_bundled_files(url):
    fetcher = rendering.SafeURLFetcher(rendering.allowed_roots())
    with pytest.raises(ValueError):
        fetcher(url)
    assert fetcher.refused[-1] == url


def test_the_fetcher_serves_the_bundled_font():
    fetcher = rendering.SafeURLFetcher(rendering.allowed_roots())
    font = (rendering.static_root() / "fonts" / "NotoSans-Academy-Regular.ttf").resolve()
    response = fetcher(font.as_uri())
    assert response.read(4) == b"\x00\x01\x00\x00"
    response.close()
    traversal = font.parent.as_uri() + "/../../academy/settings.py"
    with pytest.raises(ValueError):
        fetcher(traversal)


def test_no_system_font_is_available_to_the_renderer(tmp_path):
    """A character outside the bundled fonts is not taken from a system font, and a page that asks
    for a system font by name (DejaVu Sans, installed here) does not get it either: the renderer's
    Fontconfig knows only static/fonts (static/fonts/fonts.conf)."""
    assert rendering.fontconfig_file().is_file()
    html = (
        '<html lang="en-GB"><head><title>t</title></head><body><p>Zoë ✓ 漢</p>'
        "<p style=\"font-family: 'DejaVu Sans', sans-serif\">Asked for DejaVu Sans</p>"
        '<p style="font-family: serif">and for serif</p></body></html>'
    )
    path = tmp_path / "fonts.pdf"
    path.write_bytes(rendering.pdf_render(html))
    embedded = pdf_tool("pdffonts", path).splitlines()[2:]
    assert embedded
    for line in embedded:
        name = line.split()[0].split("+", 1)[-1]
        # The bundled files under their own names ("Noto Sans", "EB Garamond") or the stylesheet's
        # families: "serif" can only be the bundled serif.
        assert name.startswith(("Noto-Sans", "EB-Garamond")), line
    assert "DejaVu" not in "\n".join(embedded) and "CJK" not in "\n".join(embedded)


def test_the_bundled_font_configuration_leaves_the_environment_as_it_was(monkeypatch):
    monkeypatch.setenv("FONTCONFIG_FILE", "/etc/fonts/fonts.conf")
    rendering.bundled_font_configuration()
    import os

    assert os.environ["FONTCONFIG_FILE"] == "/etc/fonts/fonts.conf"
    monkeypatch.delenv("FONTCONFIG_FILE")
    rendering.bundled_font_configuration()
    assert "FONTCONFIG_FILE" not in os.environ


@pytest.mark.parametrize(
    "name, family",
    [
        ("Ελένη Παπαδοπούλου", "Noto-Sans-Greek-Cyrillic-Academy"),
        ("Олена Петренко-Ґудзь", "Noto-Sans-Greek-Cyrillic-Academy"),
        ("Nguyễn Thị Ánh", "Noto-Sans-Academy"),
        ("محمد علی", "Noto-Sans-Arabic-Academy"),
        ("রহিম উদ্দিন", "Noto-Sans-Bengali-Academy"),
        ("सीमा शर्मा", "Noto-Sans-Devanagari-Academy"),
    ],
)
def test_names_in_other_scripts_print_with_a_bundled_font(name, family, tmp_path, caplog):
    assert rendering.unprintable_characters(name) == []
    path = tmp_path / "name.pdf"
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        path.write_bytes(rendering.pdf_render(f'<html lang="en-GB"><title>t</title><p>Zoë {name}</p></html>'))
    assert ".notdef" not in caplog.text  # no empty box, not even for a space inside the name
    fonts = [line.split()[0].split("+", 1)[-1] for line in pdf_tool("pdffonts", path).splitlines()[2:]]
    assert family in fonts
    assert set(fonts) <= set(BUNDLED_FAMILIES)
    if family.startswith(
        ("Noto-Sans-Academy", "Noto-Sans-Greek")
    ):  # left to right, unshaped: the text comes back (pdftotext
        # may split a letter with a stacked accent from its word, so compare without spaces)
        assert "".join(name.split()) in "".join(pdf_tool("pdftotext", path).split())


def test_characters_no_bundled_font_has_are_found():
    assert rendering.unprintable_characters("Zoë Ó'Brien-Łukasz") == []
    assert rendering.unprintable_characters("王芳 (Wang Fang)\u200d 芳 ✓") == ["王", "芳", "✓"]


def _fill(text, length):
    return (text * (length // len(text) + 1))[:length]


def _longest_context(domains=14):
    """Every text as long as the Academy's forms allow (200 characters; the wording 300), and many
    long competency domains."""
    return certificate_context_sample(
        learner_name=_fill("Wolfeschlegelsteinhausenbergerdorff Zoë Ó'Brien-Łukasz ", 200),
        programme_title=_fill("Lived Experience of Poverty and Housing Insecurity ", 200),
        cohort_name=_fill("Hackney spring evening cohort ", 200),
        partner_name=_fill("Tower Hamlets Residents' Research Collective ", 200),
        wording=_fill("has shown the competencies of a citizen social scientist in fieldwork ", 300),
        competencies=[{"domain": _fill(f"Domain {i} of participatory research ", 60)} for i in range(domains)],
    )


def _words(pdf_path):
    """(text, top, bottom, height) of every word of page 1, in pdftotext's reading order."""
    xhtml = pdf_tool("pdftotext", pdf_path, "-bbox")
    return [
        (html.unescape(text), float(top), float(bottom), float(bottom) - float(top))
        for top, bottom, text in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', xhtml)
    ]


def test_the_longest_text_is_printed_smaller_and_clear_of_the_footer(tmp_path, monkeypatch):
    sizes = []
    template = rendering.certificate_html
    monkeypatch.setattr(rendering, "certificate_html", lambda c: sizes.append(c["text_size"]) or template(c))
    normal, longest = tmp_path / "normal.pdf", tmp_path / "longest.pdf"
    normal.write_bytes(rendering.certificate_pdf_render(certificate_context_sample()))
    assert sizes == [""]  # an ordinary certificate is laid out once, at full size
    longest.write_bytes(rendering.certificate_pdf_render(_longest_context()))
    assert sizes[1:] == list(rendering.TEXT_SIZES)
    assert "Pages:           1" in pdf_tool("pdfinfo", longest)

    words = _words(longest)
    footer_starts = next(i for i, word in enumerate(words) if word[0] in {"Professor", "Check"})
    text, footer = words[:footer_starts], words[footer_starts:]
    assert "13" in {word for word, *_ in text}  # the last domain ("Domain 13 ...") is above the footer
    assert max(bottom for _, _, bottom, _ in text) < min(top for _, top, _, _ in footer)
    assert {"7K3QM-2XWPA-9D4FT-HB6RC", "Issued"} <= {word for word, *_ in footer}

    def name_height(path):
        return max(height for word, _, _, height in _words(path) if word.startswith("Wolfeschlegel") or word == "Zoë")

    assert name_height(longest) < 0.7 * name_height(normal)


def test_the_footer_and_the_end_of_the_text_are_found_on_the_page():
    """What the text-fits check reads (``Page.anchors``): both markers on the one page, the end of
    an ordinary certificate's text well above the footer."""
    document = rendering.document_render(rendering.certificate_html({**certificate_context_sample(), "text_size": ""}))
    (page,) = document.pages
    text_end, footer = page.anchors[rendering.TEXT_END_ANCHOR][1], page.anchors[rendering.FOOTER_ANCHOR][1]
    assert 0 < text_end < footer < page.height
    assert not rendering.text_runs_into_footer(document)


def test_text_that_fits_at_no_size_is_refused():
    with pytest.raises(rendering.CertificateTooLongError):
        rendering.certificate_pdf_render(_longest_context(domains=60))
