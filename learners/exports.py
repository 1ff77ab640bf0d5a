"""A person's data export, beside the JSON: a CSV (one row per value) and a readable PDF.

Both are made from ``academy.personal_data.collect`` (every app's section), flattened the same way:
each section is a list of items (a section that is one object is one item), each item a list of
(field, value) pairs, nested values named by their path ("Email addresses 1: email").

The CSV is formula-safe, as the portal's exports are: a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with a single quote. The PDF is laid out by
WeasyPrint with the certificates' renderer: the bundled fonts only and a URL fetcher that reads
nothing but the bundled files (``certificates.rendering``), so nothing in a person's data (a name
containing HTML or ``url(...)``) can make it fetch anything.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# The sections' titles in the PDF and the CSV (a section not named here gets its key, readable).
SECTION_TITLES = {
    "account": gettext_lazy("Your account"),
    "name_change_requests": gettext_lazy("Name corrections you asked for"),
    "invitations": gettext_lazy("Invitations"),
    "partner_memberships": gettext_lazy("Partner organisations you belong to"),
    "cohorts_facilitated": gettext_lazy("Cohorts you facilitate"),
    "enrolments": gettext_lazy("Your programmes"),
    "certificates": gettext_lazy("Your certificates"),
}


def safe_cell(value):
    """Neutralise text a spreadsheet would take for a formula; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _label(key) -> str:
    return str(key).replace("_", " ").strip().capitalize()


def _text(value) -> str:
    if value is None:
        return "–"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    return str(value)


def _flatten(value, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        pairs = []
        for key, inner in value.items():
            pairs += _flatten(inner, f"{path}: {_label(key).lower()}" if path else _label(key))
        return pairs or [(path, "–")]
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return [(path, ", ".join(_text(v) for v in value) or "–")]
        pairs = []
        for number, inner in enumerate(value, start=1):
            pairs += _flatten(inner, f"{path} {number}")
        return pairs
    return [(path, _text(value))]


@dataclass
class Section:
    key: str
    title: str
    items: list[list[tuple[str, str]]]


def sections(data: dict) -> list[Section]:
    """The export's sections, each a list of items of (field, value) pairs."""
    listed = []
    for key, value in data.items():
        entries = value if isinstance(value, list) else [value]
        items = [_flatten(entry) if isinstance(entry, dict) else [(_label(key), _text(entry))] for entry in entries]
        listed.append(Section(key=key, title=str(SECTION_TITLES.get(key, _label(key))), items=items))
    return listed


def personal_data_csv(data: dict) -> bytes:
    """One row per value: section, item number, field, value (UTF-8 with a BOM for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Section"), _("Item"), _("Field"), _("Value")])
    for section in sections(data):
        if not section.items:
            writer.writerow([section.title, "", "", _("Nothing")])
        for number, item in enumerate(section.items, start=1):
            for field, value in item:
                writer.writerow([safe_cell(section.title), number, safe_cell(field), safe_cell(value)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


EXPORT_CSS = """
@font-face { font-family: "Noto Sans Academy"; font-weight: 400; src: url("../fonts/NotoSans-Academy-Regular.ttf"); }
@font-face { font-family: "Noto Sans Academy"; font-weight: 700; src: url("../fonts/NotoSans-Academy-Bold.ttf"); }
@font-face { font-family: "Noto Sans Greek Cyrillic Academy"; font-weight: 400; src: url("../fonts/NotoSansGreekCyrillic-Academy-Regular.ttf"); }
@font-face { font-family: "Noto Sans Greek Cyrillic Academy"; font-weight: 700; src: url("../fonts/NotoSansGreekCyrillic-Academy-Bold.ttf"); }
@font-face { font-family: "Noto Sans Arabic Academy"; font-weight: 400; src: url("../fonts/NotoSansArabic-Academy-Regular.ttf"); }
@font-face { font-family: "Noto Sans Arabic Academy"; font-weight: 700; src: url("../fonts/NotoSansArabic-Academy-Bold.ttf"); }
@font-face { font-family: "Noto Sans Bengali Academy"; font-weight: 400; src: url("../fonts/NotoSansBengali-Academy-Regular.ttf"); }
@font-face { font-family: "Noto Sans Bengali Academy"; font-weight: 700; src: url("../fonts/NotoSansBengali-Academy-Bold.ttf"); }
@font-face { font-family: "Noto Sans Devanagari Academy"; font-weight: 400; src: url("../fonts/NotoSansDevanagari-Academy-Regular.ttf"); }
@font-face { font-family: "Noto Sans Devanagari Academy"; font-weight: 700; src: url("../fonts/NotoSansDevanagari-Academy-Bold.ttf"); }
@page { size: A4; margin: 18mm 16mm; @bottom-right { content: counter(page) " / " counter(pages); font-size: 9pt; } }
body { font-family: "Noto Sans Academy", "Noto Sans Greek Cyrillic Academy", "Noto Sans Arabic Academy",
       "Noto Sans Bengali Academy", "Noto Sans Devanagari Academy";
       font-size: 10.5pt; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 20pt; color: #0b4f6c; margin: 0 0 4pt; }
h2 { font-size: 14pt; color: #0b4f6c; margin: 16pt 0 6pt; border-bottom: 1.5pt solid #0b4f6c; }
p.meta { color: #444; margin: 0 0 10pt; }
table { width: 100%; border-collapse: collapse; margin-bottom: 8pt; page-break-inside: avoid; }
th, td { text-align: left; vertical-align: top; padding: 3pt 5pt; border-bottom: .5pt solid #ccc; }
th { width: 38%; font-weight: 700; }
"""


def personal_data_pdf(data: dict, *, user) -> bytes:
    """The export as a tagged PDF with the bundled fonts (nothing fetched but bundled files)."""
    from weasyprint import CSS, HTML

    from certificates.rendering import renderer_get

    renderer = renderer_get()
    html = render_to_string(
        "learners/pdf/personal_data.html",
        {"sections": sections(data), "person": user, "made_at": timezone.localtime()},
    )
    stylesheet = CSS(
        string=EXPORT_CSS, base_url=renderer.base_url, url_fetcher=renderer.fetcher, font_config=renderer.font_config
    )
    document = HTML(string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher)
    return document.write_pdf(stylesheets=[stylesheet], font_config=renderer.font_config, pdf_tags=True)
