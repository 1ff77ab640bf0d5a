"""Names in two directions on a real certificate: each prints in its own order, and nothing in a
name reorders the text around it (issue 14, item 6). Read back with ``pdftotext -bbox``: the
position of each word on the page, Arabic words as their glyphs stand (visually, right to left)."""

import html
import re

from certificates import rendering
from certificates.tests.samples import certificate_context_sample

from .test_rendering import pdf_tool

SARA_ARABIC = "سارا"


def _lines(pdf_path) -> list[list[tuple[float, str]]]:
    """Each printed line, its words left to right as (x, text). Arabic glyphs stand higher than
    Latin ones, so a word belongs to the line whose height holds its middle."""
    xhtml = pdf_tool("pdftotext", pdf_path, "-bbox")
    words = [
        (float(x), float(top), float(bottom), html.unescape(text))
        for x, top, bottom, text in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', xhtml
        )
    ]
    lines: list[tuple[float, float, list[tuple[float, str]]]] = []
    for x, top, bottom, text in sorted(words, key=lambda w: w[2] - w[1], reverse=True):
        middle = (top + bottom) / 2
        for line_top, line_bottom, line_words in lines:
            if line_top <= middle <= line_bottom:
                line_words.append((x, text))
                break
        else:
            lines.append((top, bottom, [(x, text)]))
    return [sorted(line_words) for _top, _bottom, line_words in sorted(lines)]


def _line_with(lines, word) -> list[str]:
    (line,) = [[t for _x, t in words] for words in lines if any(word in t for _x, t in words)]
    return line


def _render(tmp_path, **certificate):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(rendering.certificate_pdf_render(certificate_context_sample(**certificate)))
    return path


def _arabic(word: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in word)


def test_a_name_that_starts_in_arabic_prints_right_to_left(tmp_path):
    # "سارا Khan" read right to left: سارا first (on the right), then Khan (on its left).
    lines = _lines(_render(tmp_path, learner_name=f"{SARA_ARABIC} Khan", partner_name="Hackney Community Voices"))
    line = _line_with(lines, "Khan")
    assert line[0] == "Khan" and _arabic(line[1]) and len(line) == 2


def test_a_name_that_starts_in_latin_keeps_its_order_left_to_right(tmp_path):
    lines = _lines(_render(tmp_path, learner_name=f"Sara {SARA_ARABIC} Khan"))
    line = _line_with(lines, "Sara")
    assert line[0] == "Sara" and _arabic(line[1]) and line[2] == "Khan"


def test_a_name_cannot_reorder_the_sentence_around_it(tmp_path):
    # Texts stored before names were checked may hold a right-to-left override: it stays inside
    # its own text; "run with" and the partner's name still read left to right.
    lines = _lines(_render(tmp_path, cohort_name="\u202eevil", partner_name="Hackney Community Voices"))
    assert _line_with(lines, "run") == ["live,", "run", "with", "Hackney", "Community", "Voices"]
    assert _line_with(lines, "certifies") == ["This", "certifies", "that"]


def test_an_arabic_partner_name_does_not_move_the_words_before_it(tmp_path):
    lines = _lines(_render(tmp_path, cohort_name="Spring 2026", partner_name=f"{SARA_ARABIC} 2"))
    line = _line_with(lines, "run")
    assert line[:4] == ["Spring", "2026,", "run", "with"]
    assert "2" in line[4:] and any(_arabic(w) for w in line[4:])


def test_the_isolating_characters_are_printed_as_nothing(tmp_path):
    text = pdf_tool("pdftotext", _render(tmp_path))
    assert "Zoë Ó'Brien-Łukasz" in text
    assert rendering.FIRST_STRONG_ISOLATE not in text and rendering.POP_DIRECTIONAL_ISOLATE not in text
    fonts = {
        line.split()[0].split("+", 1)[-1]
        for line in pdf_tool("pdffonts", tmp_path / "certificate.pdf").splitlines()[2:]
    }
    # no fallback font for them: only the Latin sans and the serif display face
    assert fonts <= {
        "Noto-Sans-Academy",
        "Noto-Sans-Academy-Bold",
        "EB-Garamond-Academy",
        "EB-Garamond-Academy-Semi-Bold",
    }
