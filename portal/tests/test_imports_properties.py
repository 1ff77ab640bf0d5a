"""Property-based tests (Hypothesis) of the CSV/XLSX reader.

Whatever is uploaded, ``read_learner_file`` returns rows or raises ``UploadRefused``, never any
other exception (which would be a 500); and a list of learners written by a spreadsheet program
(``csv`` or openpyxl here) reads back as the same rows, after the reader's whitespace cleaning.

The budget is the root conftest's Hypothesis profile ("ci": 60 examples a test, derandomised);
the slower tests lower it further. ``HYPOTHESIS_PROFILE=dev`` explores more.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from xml.sax.saxutils import escape, quoteattr

from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from portal import imports
from portal.imports import FileRow, UploadRefused, read_learner_file

from .test_imports_hostile import MAIN, strings_xml, workbook

# Text a spreadsheet can hold in a cell: no control characters (the CSV reader refuses them as
# binary, XML cannot hold most of them), surrogates or unassigned code points.
CELL_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs", "Cn")), max_size=30)


def read_or_refuse(data: bytes, name: str):
    """The reader's answer: its rows, or the refusal. Any other exception fails the test."""
    try:
        return read_learner_file(SimpleUploadedFile(name, data))
    except UploadRefused as refusal:
        assert refusal.message
        return refusal


# ---------------------------------------------------------------------------------------------
# Never anything but rows or a refusal


@given(data=st.binary(max_size=4096), name=st.sampled_from(["learners.csv", "learners.txt", "learners.xlsx"]))
def test_any_bytes_give_rows_or_a_refusal(data, name):
    read_or_refuse(data, name)


@given(
    text=st.text(max_size=2000),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    heading=st.sampled_from(["", "Email address,Full name\r\n", "E-mail;Name\n", "Email\tFirst name\tSurname\r\n"]),
)
def test_any_text_gives_rows_or_a_refusal(text, encoding, heading):
    read_or_refuse((heading + text).encode(encoding, errors="replace"), "learners.csv")


def _valid_workbook() -> bytes:
    strings = strings_xml(["Email address", "Full name", "ann@example.org", "Ann Example", "zoë@example.org"])
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"><dimension ref="A1:C3"/><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2"><v>1.5</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>4</v></c><c r="B3" t="inlineStr"><is><t>Zoë</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    return sheet, strings


@settings(max_examples=40)
@given(
    part=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"]),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=8), st.integers(0, 8)), max_size=6),
)
def test_a_workbook_with_damaged_xml_gives_rows_or_a_refusal(part, edits):
    sheet, strings = _valid_workbook()
    data = workbook(sheet, strings=strings)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(part)
    for position, insert, delete in edits:
        position %= len(xml) + 1
        xml = xml[:position] + insert + xml[position + delete :]
    read_or_refuse(workbook(sheet, strings=strings, parts={part: xml}), "learners.xlsx")


@settings(max_examples=40)
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6))
def test_a_workbook_with_damaged_zip_bytes_gives_rows_or_a_refusal(edits):
    sheet, strings = _valid_workbook()
    data = bytearray(workbook(sheet, strings=strings))
    for position, byte in edits:
        data[position % len(data)] = byte
    read_or_refuse(bytes(data), "learners.xlsx")


ATTRIBUTE = st.one_of(
    st.none(),
    st.from_regex(r"\A[A-Z]{1,3}[0-9]{1,7}\Z"),
    st.integers(-3, 2_000_000).map(str),
    st.text(max_size=8),
)
CELL = st.fixed_dictionaries(
    {
        "r": ATTRIBUTE,
        "t": st.one_of(st.none(), st.sampled_from(["s", "n", "b", "e", "str", "inlineStr", "d", "", "x"])),
        "v": st.one_of(
            st.none(), st.integers(-3, 20).map(str), st.text(max_size=12), st.from_regex(r"\A-?[0-9.eE+]{1,8}\Z")
        ),
        "is": st.one_of(st.none(), st.text(max_size=12)),
    }
)


def _attribute(name, value) -> str:
    return "" if value is None else f" {name}={quoteattr(value)}"


def _cell_xml(cell) -> str:
    inner = "" if cell["v"] is None else f"<v>{escape(cell['v'])}</v>"
    if cell["is"] is not None:
        inner += f"<is><t>{escape(cell['is'])}</t></is>"
    return f"<c{_attribute('r', cell['r'])}{_attribute('t', cell['t'])}>{inner}</c>"


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(ATTRIBUTE, st.lists(CELL, max_size=5)), max_size=6),
    strings=st.lists(st.text(max_size=10), max_size=5),
    heading_first=st.booleans(),
)
def test_a_workbook_with_odd_cells_gives_rows_or_a_refusal(rows, strings, heading_first):
    heading = '<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="B1" t="inlineStr"><is><t>Name</t></is></c></row>'
    body = "".join(f"<row{_attribute('r', number)}>{''.join(map(_cell_xml, cells))}</row>" for number, cells in rows)
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{heading if heading_first else ""}{body}</sheetData></worksheet>'
    read_or_refuse(workbook(sheet, strings=strings_xml(strings)), "learners.xlsx")


# ---------------------------------------------------------------------------------------------
# Round trips: what a spreadsheet wrote reads back as the same rows

LEARNERS = st.lists(st.tuples(CELL_TEXT, CELL_TEXT), min_size=1, max_size=15)


def expected_rows(learners, first_row: int = 2) -> list[FileRow]:
    """The rows the reader should give: each cell cleaned as the reader cleans it (trimmed, runs
    of whitespace made one space), and blank rows left out but counted."""
    rows = [
        FileRow(row=number, email=imports._clean(email), full_name=imports._clean(name))
        for number, (email, name) in enumerate(learners, start=first_row)
    ]
    return [r for r in rows if r.email or r.full_name]


def csv_data(rows, *, delimiter: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def openpyxl_data(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            cell.data_type = "s"  # text, even when it begins with "=" (else openpyxl makes it a formula)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def excel_like_data(rows) -> bytes:
    """As Excel writes text: a shared-strings table, with a literal "_xHHHH_" escaped as "_x005F_xHHHH_"."""
    strings: list[str] = []
    cells_xml = []
    for r, values in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(values):
            strings.append(re.sub(r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1", value))
            cells.append(f'<c r="{"AB"[c]}{r}" t="s"><v>{len(strings) - 1}</v></c>')
        cells_xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    sheet = f'<worksheet xmlns="{MAIN}"><dimension ref="A1"/><sheetData>{"".join(cells_xml)}</sheetData></worksheet>'
    return workbook(sheet, strings=f'<sst xmlns="{MAIN}">{items}</sst>')


@given(
    learners=LEARNERS,
    dialect=st.sampled_from([(",", "utf-8"), (",", "utf-8-sig"), (";", "utf-8-sig"), ("\t", "utf-16")]),
)
def test_a_csv_reads_back_as_its_rows(learners, dialect):
    delimiter, encoding = dialect
    data = csv_data([["Email address", "Full name"], *learners], delimiter=delimiter, encoding=encoding)
    expected = expected_rows(learners)
    answer = read_or_refuse(data, "learners.csv")
    if expected:
        assert answer == expected
    else:
        assert answer.code == "no_rows"


@settings(max_examples=30)
@given(learners=LEARNERS, writer=st.sampled_from([openpyxl_data, excel_like_data]))
def test_an_xlsx_reads_back_as_its_rows(learners, writer):
    data = writer([["Email address", "Full name"], *learners])
    expected = expected_rows(learners)
    answer = read_or_refuse(data, "learners.xlsx")
    if expected:
        assert answer == expected
    else:
        assert answer.code == "no_rows"


# ---------------------------------------------------------------------------------------------
# Headings: any synonym, in any case and spelling, in any order, among other columns


def spelled(key: str):
    """A heading whose letters are ``key``'s, in any case, with spaces, hyphens, dots or
    underscores anywhere (``_header_key`` ignores them)."""
    return st.lists(st.sampled_from(["", " ", "-", "_", "."]), min_size=len(key) + 1, max_size=len(key) + 1).flatmap(
        lambda gaps: st.lists(st.booleans(), min_size=len(key), max_size=len(key)).map(
            lambda upper: gaps[0]
            + "".join((ch.upper() if up else ch) + gap for ch, up, gap in zip(key, upper, gaps[1:], strict=True))
        )
    )


SYNONYMS = imports.EMAIL_HEADERS | imports.FULL_NAME_HEADERS | imports.FIRST_NAME_HEADERS | imports.LAST_NAME_HEADERS
OTHER_HEADING = st.text("abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12).filter(
    lambda h: imports._header_key(h) not in SYNONYMS
)


@settings(max_examples=40)
@given(
    email=st.sampled_from(sorted(imports.EMAIL_HEADERS)).flatmap(spelled),
    names=st.one_of(
        st.sampled_from(sorted(imports.FULL_NAME_HEADERS)).flatmap(spelled).map(lambda h: [("full", h)]),
        st.tuples(
            st.sampled_from(sorted(imports.FIRST_NAME_HEADERS)).flatmap(spelled),
            st.sampled_from(sorted(imports.LAST_NAME_HEADERS)).flatmap(spelled),
        ).map(lambda pair: [("first", pair[0]), ("last", pair[1])]),
    ),
    others=st.lists(OTHER_HEADING, max_size=3),
    order=st.randoms(use_true_random=False),
    kind=st.sampled_from(["csv", "xlsx"]),
)
def test_headings_are_found_in_any_spelling_and_order(email, names, others, order, kind):
    columns = [("email", email), *names, *(("other", h) for h in others)]
    order.shuffle(columns)
    values = {"email": "ann@example.org", "full": "Ann Example", "first": "Ann", "last": "Example", "other": "x"}
    rows = [[heading for _, heading in columns], [values[role] for role, _ in columns]]
    data = csv_data(rows, delimiter=",", encoding="utf-8") if kind == "csv" else openpyxl_data(rows)
    assert read_learner_file(SimpleUploadedFile(f"learners.{kind}", data)) == [
        FileRow(row=2, email="ann@example.org", full_name="Ann Example")
    ]
