"""A report as CSV, XLSX and the printable funder PDF.

CSV and XLSX hold the report's sections (``reports.sections``), one after another in the CSV and
one sheet each in the XLSX. Every cell goes through ``safe_cell``, as the portal's exports do: a
text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a
single quote, so a spreadsheet never runs a learner's name (or a cohort's, a domain's) as a formula.

The funder PDF is rendered by WeasyPrint with the bundled fonts only and a URL fetcher that reads
nothing but ``static/fonts`` (``certificates.rendering``'s font configuration and safe fetcher),
the charts embedded as SVG.
"""

from __future__ import annotations

import csv
import io
import re
import threading

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .sections import Section

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise text a spreadsheet would take for a formula; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return value
    return safe_cell(str(value))


def sections_table(sections: list[Section], *, heading: list[str]) -> list[list]:
    """Everything as one table for the CSV: the report's heading lines, then each section's title,
    summary, header and rows, with a blank row between sections."""
    rows: list[list] = [[line] for line in heading] + [[]]
    for section in sections:
        rows.append([section.title])
        rows.append([section.summary])
        rows.append(list(section.header))
        rows.extend(section.rows)
        rows.extend([[note] for note in section.notes])
        rows.append([])
    return [[_cell(value) for value in row] for row in rows]


def report_csv(sections: list[Section], *, heading: list[str]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows accented names correctly."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(sections_table(sections, heading=heading))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_NAME_FORBIDDEN.sub(" ", title).strip()[:28] or _("Sheet")
    name, number = base, 2
    while name.lower() in used:
        name, number = f"{base[:25]} {number}", number + 1
    used.add(name.lower())
    return name


def report_xlsx(sections: list[Section], *, heading: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    about = workbook.create_sheet(title=_sheet_title(_("About this report"), used))
    for line in heading:
        about.append([_cell(line)])
    for section in sections:
        sheet = workbook.create_sheet(title=_sheet_title(section.title, used))
        title = WriteOnlyCell(sheet, value=_cell(section.title))
        title.font = Font(bold=True, size=13)
        sheet.append([title])
        sheet.append([_cell(section.summary)])
        header = []
        for value in section.header:
            cell = WriteOnlyCell(sheet, value=_cell(value))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in section.rows:
            sheet.append([_cell(value) for value in row])
        for note in section.notes:
            sheet.append([_cell(note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The funder report (PDF) -------------------------------------------------------------------

_pdf_lock = threading.Lock()
_pdf_renderer = None


def _renderer():
    """Fonts (the bundled ones only) and the safe fetcher, made once per process."""
    global _pdf_renderer
    with _pdf_lock:
        if _pdf_renderer is None:
            from certificates.rendering import SafeURLFetcher, allowed_roots, bundled_font_configuration, static_root

            fonts = (static_root() / "fonts").resolve()
            _pdf_renderer = (bundled_font_configuration(), SafeURLFetcher(allowed_roots()), fonts.as_uri() + "/")
        return _pdf_renderer


def funder_pdf(context: dict) -> bytes:
    """The funder report: ``templates/reports/pdf/funder.html`` (its print stylesheet inside, fonts from
    ``static/fonts``) with every chart drawn as SVG for print."""
    from weasyprint import HTML

    font_config, fetcher, base_url = _renderer()
    charted = [{"section": section, "svg": section.svg(for_print=True)} for section in context["sections"]]
    html = render_to_string("reports/pdf/funder.html", {**context, "charted": charted})
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(font_config=font_config)
    return document.write_pdf()
