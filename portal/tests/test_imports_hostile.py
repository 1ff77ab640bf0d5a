"""Hostile spreadsheets: each is refused with a clear message, or read correctly when it is in
fact a list of learners, without tying up the web worker.

The workbooks are built here, part by part, with ``zipfile`` (no binary fixtures). The catalogue
``hostile_files()`` is also what ``bench/enrol.py`` times.

How these tests tell a reader that does far too much work from one that does not, without timing
anything: ``cells_budget`` counts the cells the reader cleans (``portal.imports._clean``) and
stops a reader that goes past the budget; ``tracemalloc`` measures what reading a huge shared-
strings table keeps in memory; and the CSV test makes ``csv.Sniffer`` fail, since its regular
expressions take hours on a crafted line of a few hundred kilobytes.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal import imports
from portal.imports import FileRow, UploadRefused, read_learner_file

from .helpers import xlsx_bytes

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# ---------------------------------------------------------------------------------------------
# Building workbooks part by part


def inline(reference: str, text: str) -> str:
    """A cell holding an inline string (as openpyxl writes text)."""
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def shared(reference: str, index) -> str:
    """A cell holding shared string number ``index`` (as Excel writes text)."""
    return f'<c r="{reference}" t="s"><v>{index}</v></c>'


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def learner_row(number: int, email: str, name: str) -> str:
    return row(number, inline(f"A{number}", email), inline(f"B{number}", name))


HEADER = row(1, inline("A1", "Email address"), inline("B1", "Full name"))
ANN = learner_row(2, "ann@example.org", "Ann Example")


def sheet_xml(rows: str, *, dimension: str | None = None, before: str = "") -> str:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}">{declared}{before}<sheetData>{rows}</sheetData></worksheet>'


def strings_xml(strings) -> str:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}">{items}</sst>'


def workbook(sheet: str, *, strings: str | None = None, parts: dict[str, bytes | str] | None = None) -> bytes:
    """A minimal .xlsx: content types, relationships, a workbook of one sheet, and optionally a
    shared-strings table; ``parts`` replaces or adds parts as they are."""
    overrides = [
        ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"),
    ]
    relationships = [("rId1", "worksheet", "worksheets/sheet1.xml")]
    if strings is not None:
        overrides.append(
            ("/xl/sharedStrings.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")
        )
        relationships.append(("rId2", "sharedStrings", "sharedStrings.xml"))
    content = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides)
            + "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
            f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
            '<sheets><sheet name="Learners" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
            + "".join(
                f'<Relationship Id="{rid}" Type="{RELATIONSHIPS}/{kind}" Target="{target}"/>'
                for rid, kind, target in relationships
            )
            + "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    if strings is not None:
        content["xl/sharedStrings.xml"] = strings
    content.update(parts or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(data: bytes, name: str = "learners.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX_TYPE if name.endswith(".xlsx") else "text/csv")


def refused(data: bytes, name: str = "learners.xlsx") -> UploadRefused:
    with pytest.raises(UploadRefused) as info:
        read_learner_file(upload(data, name))
    return info.value


ANN_ROW = FileRow(row=2, email="ann@example.org", full_name="Ann Example")

# ---------------------------------------------------------------------------------------------
# The hostile files


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


# Cells written raw: escaping would turn the entity references into text.
RAW_LOL = '<c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c>'
RAW_SECRET = '<c r="A2" t="inlineStr"><is><t>&secret;</t></is></c>'


def dimension_bomb() -> bytes:
    """The attack of issue 14: a sheet that claims A1:XFD1048576, so that a reader trusting the
    dimension widens each of its rows, blank ones included, to 16,384 columns."""
    return workbook(
        sheet_xml(HEADER + ANN + learner_row(5000, "zoe@example.org", "Zoë Example"), dimension="A1:XFD1048576")
    )


def million_blank_rows() -> bytes:
    """A heading, then a learner in row 1,000,002: a million blank rows between them."""
    return workbook(
        sheet_xml(HEADER + learner_row(1_000_002, "ann@example.org", "Ann Example"), dimension="A1:B1000002")
    )


def many_blank_row_elements() -> bytes:
    """10,000 rows that are present in the XML but hold only a formatted empty cell, then a learner."""
    blank = "".join(f'<row r="{n}"><c r="A{n}" s="1"/></row>' for n in range(2, 10_002))
    return workbook(sheet_xml(HEADER + blank + learner_row(10_002, "ann@example.org", "Ann Example")))


def repeated_row_numbers() -> bytes:
    """10,000 rows that all claim to be row 2 (so that a row number alone never passes the limit)."""
    return workbook(sheet_xml(HEADER + "".join('<row r="2"><c r="A2" s="1"/></row>' for _ in range(10_000))))


def wide_heading_row() -> bytes:
    """A heading row of 16,384 cells: the two that matter, then 16,382 more."""
    extra = "".join(f'<c t="inlineStr"><is><t>Column {n}</t></is></c>' for n in range(3, 16_385))
    return workbook(sheet_xml(row(1, inline("A1", "Email address"), inline("B1", "Full name"), extra) + ANN))


def wide_learner_row() -> bytes:
    """A learner's row with 16,384 cells."""
    extra = "".join(f'<c t="inlineStr"><is><t>x{n}</t></is></c>' for n in range(3, 16_385))
    return workbook(sheet_xml(HEADER + row(2, inline("A2", "ann@example.org"), inline("B2", "Ann Example"), extra)))


def beyond_column_xfd() -> bytes:
    return workbook(sheet_xml(HEADER + row(2, inline("A2", "ann@example.org"), inline("XFE2", "Ann Example"))))


def too_many_cells_in_a_row() -> bytes:
    """16,385 cells all claiming to be cell A2: more cells than a row has columns."""
    return workbook(sheet_xml(HEADER + row(2, *([inline("A2", "x")] * 16_385))))


def huge_shared_strings() -> bytes:
    """A table of a million shared strings, of which the sheet uses the first four."""
    strings = ["Email address", "Full name", "ann@example.org", "Ann Example"] + ["xy"] * 1_000_000
    sheet = sheet_xml(row(1, shared("A1", 0), shared("B1", 1)) + row(2, shared("A2", 2), shared("B2", 3)))
    return workbook(sheet, strings=strings_xml(strings))


def untyped_formula_with_text() -> bytes:
    """A formula cell without a type whose cached value is not a number (issue 14's 500)."""
    return workbook(
        sheet_xml(HEADER + row(2, '<c r="A2"><f>LOWER(C2)</f><v>ann@example.org</v></c>', inline("B2", "Ann")))
    )


def number_that_is_text() -> bytes:
    return workbook(sheet_xml(HEADER + row(2, '<c r="A2" t="n"><v>abc</v></c>', inline("B2", "Ann"))))


def shared_string_out_of_range() -> bytes:
    sheet = sheet_xml(HEADER + row(2, shared("A2", 0), shared("B2", 99)))
    return workbook(sheet, strings=strings_xml(["ann@example.org"]))


def shared_string_not_a_number() -> bytes:
    sheet = sheet_xml(HEADER + row(2, shared("A2", 0), shared("B2", "one")))
    return workbook(sheet, strings=strings_xml(["ann@example.org"]))


def unclosed_xml() -> bytes:
    return workbook(sheet_xml(HEADER + ANN).replace("</sheetData>", "<row r='3'><c r='A3'>"))


def billion_laughs_in_sheet() -> bytes:
    sheet = BILLION_LAUGHS + f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER}{row(2, RAW_LOL)}</sheetData></worksheet>'
    return workbook(sheet)


def billion_laughs_in_shared_strings() -> bytes:
    strings = BILLION_LAUGHS + f'<sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>'
    return workbook(sheet_xml(HEADER + row(2, shared("A2", 0), inline("B2", "Ann"))), strings=strings)


def external_entity() -> bytes:
    sheet = (
        '<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER}{row(2, inline("A2", "&secret;"))}</sheetData></worksheet>'
    )
    return workbook(sheet)


def deeply_nested() -> bytes:
    depth = 100_000
    return workbook(sheet_xml(HEADER + ANN, before="<extLst>" * depth + "</extLst>" * depth))


def zip_bomb() -> bytes:
    """A sheet that unpacks to 60 MB of spaces: the file is well under 2 MB."""
    return workbook(sheet_xml(HEADER + ANN, before=" " * (60 * 1024 * 1024)))


def time_box_workbook() -> bytes:
    """4.8 million empty formatted cells (48 MB of XML in a 105 KB file): not refused by any limit
    but the time box, since its rows and columns are all within bounds. Not used by the tests
    (reading it takes the whole time box); ``bench/enrol.py`` times it."""
    cells = '<c s="1"/>' * 1600
    return workbook(sheet_xml(HEADER + "".join(f'<row r="{n}">{cells}</row>' for n in range(2, 3002))))


def sniffer_backtracking_csv() -> bytes:
    """A CSV whose second line makes csv.Sniffer's regular expressions backtrack for hours."""
    return ("Email address,Full name\r\nann@example.org,Ann Example\r\n" + 'a, "' * 100_000 + "\r\n").encode()


def million_blank_lines_csv() -> bytes:
    return b"Email address,Full name\r\n" + b"\r\n" * 1_000_000 + b"ann@example.org,Ann Example\r\n"


def nul_after_20000_characters_csv() -> bytes:
    """UTF-16 text (which may hold NUL bytes) with a NUL character far into the file."""
    text = "Email address\tFull name\r\n" + "".join(f"l{n}@example.org\tL {n}\r\n" for n in range(1000))
    return (text + "ann@example.org\tAnn\x00Example\r\n").encode("utf-16")


@dataclass(frozen=True)
class Hostile:
    label: str
    build: object  # () -> bytes
    refused_with: str | None  # the UploadRefused code, or None: a list of learners, read correctly
    rows: tuple[FileRow, ...] = ()
    filename: str = "learners.xlsx"


def hostile_files() -> list[Hostile]:
    zoe = FileRow(row=5000, email="zoe@example.org", full_name="Zoë Example")
    return [
        Hostile("dimension A1:XFD1048576 (issue 14), rows 1, 2, 5,000", dimension_bomb, None, (ANN_ROW, zoe)),
        Hostile("a million blank rows, then a learner", million_blank_rows, "too_many_rows"),
        Hostile("10,000 formatted blank rows, then a learner", many_blank_row_elements, "too_many_rows"),
        Hostile("10,000 rows all numbered 2", repeated_row_numbers, "too_many_rows"),
        Hostile("a heading row of 16,384 cells", wide_heading_row, None, (ANN_ROW,)),
        Hostile("a learner row of 16,384 cells", wide_learner_row, None, (ANN_ROW,)),
        Hostile("a cell beyond column XFD", beyond_column_xfd, "not_xlsx"),
        Hostile("16,385 cells in one row", too_many_cells_in_a_row, "not_xlsx"),
        Hostile("a million shared strings, four used", huge_shared_strings, None, (ANN_ROW,)),
        Hostile("formula cell, no type, text value", untyped_formula_with_text, "not_xlsx"),
        Hostile('t="n" cell holding "abc"', number_that_is_text, "not_xlsx"),
        Hostile("shared string index out of range", shared_string_out_of_range, "not_xlsx"),
        Hostile("shared string index not a number", shared_string_not_a_number, "not_xlsx"),
        Hostile("sheet XML cut short", unclosed_xml, "not_xlsx"),
        Hostile("billion laughs in the sheet", billion_laughs_in_sheet, "not_xlsx"),
        Hostile("billion laughs in the shared strings", billion_laughs_in_shared_strings, "not_xlsx"),
        Hostile("external entity (XXE)", external_entity, "not_xlsx"),
        Hostile("elements nested 100,000 deep", deeply_nested, "not_xlsx"),
        Hostile("zip bomb: a sheet of 60 MB", zip_bomb, "too_big_unpacked"),
        Hostile("CSV: a line csv.Sniffer backtracks on", sniffer_backtracking_csv, None, filename="learners.csv"),
        Hostile(
            "CSV: a NUL after 20,000 characters", nul_after_20000_characters_csv, "binary", filename="learners.csv"
        ),
        Hostile(
            "CSV: a million blank lines, then a learner",
            million_blank_lines_csv,
            "too_many_rows",
            filename="learners.csv",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The tests


class CellsBudgetExceeded(BaseException):
    """Not an Exception, so that no ``except Exception`` in the reader can swallow it."""


@pytest.fixture
def cells_budget(monkeypatch):
    """Stops the reader once it has cleaned more than ``budget.limit`` cells (default 50,000: a few
    for each of the rows a file may have, far fewer than 16,384 for each of them)."""

    class Budget:
        limit = 50_000
        used = 0

    budget = Budget()
    clean = imports._clean

    def counting_clean(value):
        budget.used += 1
        if budget.used > budget.limit:
            raise CellsBudgetExceeded(f"the reader cleaned more than {budget.limit} cells")
        return clean(value)

    monkeypatch.setattr(imports, "_clean", counting_clean)
    return budget


@pytest.mark.parametrize("hostile", hostile_files(), ids=lambda h: h.label)
def test_each_hostile_file_is_refused_or_read_correctly(hostile, cells_budget):
    data = hostile.build()
    assert len(data) < imports.max_bytes()
    if hostile.refused_with is None:
        rows = read_learner_file(upload(data, hostile.filename))
        if hostile.rows:
            assert tuple(rows) == hostile.rows
        else:
            assert rows[0] == ANN_ROW
    else:
        assert refused(data, hostile.filename).code == hostile.refused_with


def test_the_declared_dimension_is_ignored(cells_budget):
    """A reader that trusts the dimension cleans 16,384 cells for each of the 4,997 blank rows."""
    assert read_learner_file(upload(dimension_bomb())) == [
        ANN_ROW,
        FileRow(row=5000, email="zoe@example.org", full_name="Zoë Example"),
    ]
    assert cells_budget.used < 100


def test_a_million_blank_rows_stop_the_reading_with_a_clear_message():
    error = refused(million_blank_rows())
    assert error.code == "too_many_rows"
    assert "This file goes on past row 6,001." in error.message
    assert "blank rows included" in error.message
    assert "Delete the empty rows" in error.message


def test_blank_rows_count_towards_the_limit(settings):
    settings.PARTNER_UPLOAD_MAX_ROWS = 10
    last = 10 + 1 + imports.BLANK_ROWS_ALLOWED
    assert imports.last_row() == last
    sheet = HEADER + learner_row(last, "ann@example.org", "Ann Example")
    assert read_learner_file(upload(workbook(sheet_xml(sheet)))) == [
        FileRow(row=last, email="ann@example.org", full_name="Ann Example")
    ]
    sheet = HEADER + learner_row(last + 1, "ann@example.org", "Ann Example")
    assert refused(workbook(sheet_xml(sheet))).code == "too_many_rows"


def test_a_declared_dimension_smaller_than_the_data_is_ignored_too():
    """openpyxl's read-only mode stops at the declared last row, dropping the learners below it."""
    sheet = sheet_xml(HEADER + ANN + learner_row(3, "zoe@example.org", "Zoë Example"), dimension="A1:B2")
    assert read_learner_file(upload(workbook(sheet))) == [
        ANN_ROW,
        FileRow(row=3, email="zoe@example.org", full_name="Zoë Example"),
    ]


def test_blank_rows_between_learners_are_fine():
    blank = "".join(f'<row r="{n}"><c r="A{n}" s="1"/></row>' for n in range(3, 503))
    rows = read_learner_file(upload(workbook(sheet_xml(HEADER + ANN + blank + learner_row(503, "b@example.org", "B")))))
    assert [r.row for r in rows] == [2, 503]


def test_the_same_limit_applies_to_csv_blank_lines():
    error = refused(million_blank_lines_csv(), "learners.csv")
    assert error.code == "too_many_rows"
    assert "past row 6,001" in error.message


def test_a_wide_heading_row_is_read_and_only_its_first_columns_looked_at(cells_budget):
    cells_budget.limit = 2 * imports.MAX_COLUMNS + 100
    assert read_learner_file(upload(wide_heading_row())) == [ANN_ROW]


def test_a_wide_heading_row_without_the_columns_lists_twenty_of_them():
    extra = "".join(f'<c t="inlineStr"><is><t>Column {n}</t></is></c>' for n in range(1, 16_385))
    error = refused(workbook(sheet_xml(row(1, extra) + ANN)))
    assert error.code == "no_email_column"
    assert error.message.endswith("“Column 19”, “Column 20”, ….")


def test_columns_other_than_the_learners_are_not_decoded():
    """Only the cells of the columns the heading names are decoded, however wide the rows: here
    every other cell is damaged (a number that is not one), and the list is still read."""
    damaged = "".join(f'<c t="n"><v>abc{n}</v></c>' for n in range(3, 1003))
    rows = [row(n, inline(f"A{n}", f"l{n}@example.org"), inline(f"B{n}", f"L {n}"), damaged) for n in range(2, 102)]
    heading = row(1, inline("A1", "Email address"), inline("B1", "Full name"), inline("C1", "Notes"))
    assert len(read_learner_file(upload(workbook(sheet_xml(heading + "".join(rows)))))) == 100


def test_a_huge_shared_strings_table_is_read_only_as_far_as_needed():
    data = huge_shared_strings()
    tracemalloc.start()
    try:
        assert read_learner_file(upload(data)) == [ANN_ROW]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Loading the whole table (a million strings) takes over 50 MB.
    assert peak < 10 * 1024 * 1024


@pytest.mark.parametrize(
    "build",
    [
        untyped_formula_with_text,
        number_that_is_text,
        shared_string_out_of_range,
        shared_string_not_a_number,
        unclosed_xml,
        billion_laughs_in_sheet,
        billion_laughs_in_shared_strings,
        external_entity,
        deeply_nested,
        beyond_column_xfd,
    ],
)
def test_a_malformed_workbook_is_not_a_workbook_we_can_read(build):
    error = refused(build())
    assert error.code == "not_xlsx"
    assert "not an Excel workbook we can read" in error.message


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B2" t="s"><v>-1</v></c>',
        '<c r="B2" t="b"><v>yes</v></c>',
        '<c r="B2" t="weird"><v>1</v></c>',
        '<c r="B2" t="n"><v>' + "9" * 5000 + "</v></c>",
        '<c r="2B" t="inlineStr"><is><t>Ann</t></is></c>',
    ],
)
def test_other_damaged_cells_are_refused(cell):
    sheet = sheet_xml(HEADER + row(2, inline("A2", "ann@example.org"), cell))
    assert refused(workbook(sheet, strings=strings_xml(["x"]))).code == "not_xlsx"


@pytest.mark.parametrize("row_number", ["0", "two", "1048577", "²"])
def test_bad_row_numbers_are_refused(row_number):
    sheet = sheet_xml(HEADER + f'<row r="{row_number}">{inline("A2", "ann@example.org")}</row>')
    assert refused(workbook(sheet)).code == "not_xlsx"


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    data = zip_bomb()
    assert len(data) < 200 * 1024
    error = refused(data)
    assert error.code == "too_big_unpacked"
    assert "unpacks to more data than we accept" in error.message


def test_an_old_xls_or_password_protected_workbook_is_explained():
    error = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000)
    assert error.code == "not_xlsx"
    assert "protected with a password" in error.message


def test_reading_is_time_boxed(settings):
    settings.PARTNER_UPLOAD_READ_SECONDS = 0
    error = refused(xlsx_bytes([["Email address", "Full name"], ["ann@example.org", "Ann Example"]]))
    assert error.code == "too_slow"
    assert "This workbook took too long to read" in error.message
    error = refused(b"Email address,Full name\r\nann@example.org,Ann Example\r\n", "learners.csv")
    assert error.code == "too_slow"
    assert "This file took too long to read" in error.message


def test_the_csv_delimiter_is_found_without_csv_sniffer(monkeypatch):
    """csv.Sniffer backtracks for hours on lines like ``a, "a, "…``: the reader must not use it."""

    class NoSniffer:
        def sniff(self, *args, **kwargs):
            raise AssertionError("csv.Sniffer is quadratic on hostile lines")

    monkeypatch.setattr(csv, "Sniffer", NoSniffer)
    rows = read_learner_file(upload(sniffer_backtracking_csv(), "learners.csv"))
    assert rows[0] == ANN_ROW
    semicolons = b"Email address;Full name\r\nann@example.org;Ann Example\r\n"
    assert read_learner_file(upload(semicolons, "learners.csv")) == [ANN_ROW]


# ---------------------------------------------------------------------------------------------
# Workbooks as other programs write them


def test_shared_strings_with_rich_text_phonetics_and_escapes_are_read():
    strings = (
        f'<sst xmlns="{MAIN}">'
        "<si><t>Email address</t></si><si><t>Full name</t></si>"
        "<si><t>ann@example.org</t></si>"
        '<si><r><rPr><b/></rPr><t>Ann</t></r><r><t xml:space="preserve"> Ex_x005F_x0041_ample</t></r>'
        '<rPh sb="0" eb="1"><t>アン</t></rPh></si>'
        "</sst>"
    )
    sheet = sheet_xml(row(1, shared("A1", 0), shared("B1", 1)) + row(2, shared("A2", 2), shared("B2", 3)))
    assert read_learner_file(upload(workbook(sheet, strings=strings))) == [
        FileRow(row=2, email="ann@example.org", full_name="Ann Ex_x0041_ample")
    ]


def test_escapes_that_would_make_characters_a_name_cannot_hold_stay_as_written():
    strings = strings_xml(["ann@example.org", "Ann_x000D_Example_x0000__xD800__x0001_"])
    sheet = sheet_xml(HEADER + row(2, shared("A2", 0), shared("B2", 1)))
    assert read_learner_file(upload(workbook(sheet, strings=strings))) == [
        FileRow(row=2, email="ann@example.org", full_name="Ann Example_x0000__xD800__x0001_")
    ]


def test_prefixed_element_names_cells_without_references_and_absolute_targets_are_read():
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
        '<x:row><x:c t="inlineStr"><x:is><x:t>Email</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>Name</x:t></x:is></x:c></x:row>'
        '<x:row><x:c t="str"><x:f>A1</x:f><x:v>ann@example.org</x:v></x:c><x:c t="inlineStr"><x:is><x:t>Ann Example</x:t></x:is></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    rels = (
        f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId7" Type="{RELATIONSHIPS}/worksheet" Target="/xl/worksheets/data.xml"/></Relationships>'
    )
    book = (
        f'<workbook xmlns="{MAIN}" xmlns:rel="{RELATIONSHIPS}">'
        '<sheets><sheet name="Learners" sheetId="1" rel:id="rId7"/></sheets></workbook>'
    )
    data = workbook(
        "<broken", parts={"xl/worksheets/data.xml": sheet, "xl/_rels/workbook.xml.rels": rels, "xl/workbook.xml": book}
    )
    assert read_learner_file(upload(data)) == [ANN_ROW]


def test_numbers_booleans_and_errors_are_read_as_openpyxl_reads_them():
    cells = '<c r="A2" t="inlineStr"><is><t>ann@example.org</t></is></c><c r="B2"><v>1.5E3</v></c>'
    cells3 = '<c r="A3" t="inlineStr"><is><t>bob@example.org</t></is></c><c r="B3" t="b"><v>1</v></c>'
    cells4 = '<c r="A4" t="inlineStr"><is><t>cy@example.org</t></is></c><c r="B4" t="e"><v>#N/A</v></c>'
    sheet = sheet_xml(HEADER + row(2, cells) + row(3, cells3) + row(4, cells4))
    assert [r.full_name for r in read_learner_file(upload(workbook(sheet)))] == ["1500", "True", "#N/A"]


def test_a_row_with_something_only_in_another_column_is_kept_for_the_preview():
    sheet = sheet_xml(
        row(1, inline("A1", "Email"), inline("B1", "Name"), inline("C1", "Notes")) + row(2, inline("C2", "call back"))
    )
    assert read_learner_file(upload(workbook(sheet))) == [FileRow(row=2, email="", full_name="")]


def test_the_first_worksheet_is_read_not_a_chart_sheet():
    rels = (
        f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/chartsheet" Target="chartsheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    book = (
        f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
        '<sheet name="Chart" sheetId="1" r:id="rId1"/><sheet name="Learners" sheetId="2" r:id="rId2"/>'
        "</sheets></workbook>"
    )
    parts = {"xl/_rels/workbook.xml.rels": rels, "xl/workbook.xml": book, "xl/chartsheets/sheet1.xml": "<chartsheet/>"}
    assert read_learner_file(upload(workbook(sheet_xml(HEADER + ANN), parts=parts))) == [ANN_ROW]


# ---------------------------------------------------------------------------------------------
# Through the upload page


@pytest.mark.parametrize(
    "build, name, message",
    [
        (untyped_formula_with_text, "learners.xlsx", "not an Excel workbook we can read"),
        (shared_string_out_of_range, "learners.xlsx", "not an Excel workbook we can read"),
        (million_blank_rows, "learners.xlsx", "This file goes on past row 6,001."),
        (billion_laughs_in_sheet, "learners.xlsx", "not an Excel workbook we can read"),
        (zip_bomb, "learners.xlsx", "unpacks to more data than we accept"),
        (nul_after_20000_characters_csv, "learners.csv", "This file contains data that is not text"),
    ],
)
def test_the_upload_page_answers_a_hostile_file_with_its_message(coordinator_client, cohort, build, name, message):
    url = reverse("partners:enrol_upload", args=[cohort.pk])
    response = coordinator_client.post(url, {"file": upload(build(), name)})
    assert response.status_code == 200
    assert message in response.content.decode()
