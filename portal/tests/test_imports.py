"""Reading uploaded learner lists: encodings, delimiters, headers, and the files we refuse."""

import io
import random
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.imports import FileRow, UploadRefused, read_learner_file, template_csv

from .helpers import csv_file, learners, xlsx_bytes, xlsx_file

ROWS = [["Email address", "Full name"], ["ann@example.org", "Ann Example"], ["zoe@example.org", "Zoë Ó'Brien"]]
EXPECTED = [
    FileRow(row=2, email="ann@example.org", full_name="Ann Example"),
    FileRow(row=3, email="zoe@example.org", full_name="Zoë Ó'Brien"),
]


def refused(uploaded) -> UploadRefused:
    with pytest.raises(UploadRefused) as info:
        read_learner_file(uploaded)
    return info.value


def test_utf8_csv_is_read_with_spreadsheet_row_numbers():
    assert read_learner_file(csv_file(ROWS)) == EXPECTED


def test_utf8_csv_with_byte_order_mark_is_read():
    assert read_learner_file(csv_file(ROWS, bom=True)) == EXPECTED


def test_excel_csv_in_windows_1252_with_semicolons_is_read():
    """Excel in many European locales saves “CSV” as Windows-1252 text separated by semicolons."""
    assert read_learner_file(csv_file(ROWS, encoding="cp1252", delimiter=";")) == EXPECTED


def test_utf16_tab_separated_unicode_text_is_read():
    data = "Email\tName\r\nann@example.org\tAnn Example\r\n".encode("utf-16")
    rows = read_learner_file(SimpleUploadedFile("learners.txt", data))
    assert rows == [FileRow(row=2, email="ann@example.org", full_name="Ann Example")]


def test_xlsx_is_read():
    assert read_learner_file(xlsx_file(ROWS)) == EXPECTED


@pytest.mark.parametrize(
    "header",
    [
        ["EMAIL ADDRESS", "FULL NAME"],
        ["E-mail", "Name"],
        ["email", "full_name"],
        [" Email Address ", "Full Name"],
    ],
)
def test_header_synonyms_in_any_case(header):
    assert read_learner_file(csv_file([header, *ROWS[1:]])) == EXPECTED


def test_columns_in_any_order_and_extra_columns_ignored():
    rows = [["Notes", "Full name", "Phone", "E-mail"], ["likes maps", "Ann Example", "0123", "ann@example.org"]]
    assert read_learner_file(csv_file(rows)) == [FileRow(row=2, email="ann@example.org", full_name="Ann Example")]


def test_first_and_last_name_columns_are_joined():
    rows = [["Surname", "First name", "Email address"], ["Example", "Ann", "ann@example.org"]]
    assert read_learner_file(xlsx_file(rows)) == [FileRow(row=2, email="ann@example.org", full_name="Ann Example")]


def test_blank_rows_are_skipped_but_keep_row_numbers():
    rows = [ROWS[0], ROWS[1], ["", ""], ROWS[2]]
    assert [r.row for r in read_learner_file(csv_file(rows))] == [2, 4]


def test_missing_email_column_is_refused_naming_the_columns_found():
    error = refused(csv_file([["Name", "Phone"], ["Ann", "0123"]]))
    assert error.code == "no_email_column"
    assert "The first row has: “Name”, “Phone”." in error.message


def test_missing_name_column_is_refused():
    error = refused(csv_file([["Email", "Phone"], ["ann@example.org", "0123"]]))
    assert error.code == "no_name_column"


def test_file_with_only_headers_is_refused():
    assert refused(csv_file([ROWS[0]])).code == "no_rows"


def test_empty_file_is_refused():
    assert refused(SimpleUploadedFile("learners.csv", b"")).code == "empty"


def test_file_over_two_megabytes_is_refused():
    data = b"Email,Name\r\n" + b"x" * (2 * 1024 * 1024)
    error = refused(SimpleUploadedFile("learners.csv", data))
    assert error.code == "too_big"
    assert "the largest we accept is 2.0\xa0MB" in error.message


def test_more_than_5000_rows_is_refused():
    error = refused(csv_file([ROWS[0], *learners(5001)]))
    assert error.code == "too_many_rows"
    assert "more than 5,000 learners" in error.message


def test_exactly_5000_rows_is_accepted():
    assert len(read_learner_file(csv_file([ROWS[0], *learners(5000)]))) == 5000


def test_row_limit_can_be_set_in_settings(settings):
    settings.PARTNER_UPLOAD_MAX_ROWS = 3
    assert refused(csv_file([ROWS[0], *learners(4)])).code == "too_many_rows"


GARBAGE = random.Random(5).randbytes(4096)


def test_binary_garbage_named_csv_is_refused():
    error = refused(SimpleUploadedFile("learners.csv", GARBAGE))
    assert error.code == "not_text"
    assert "This file is not a text (CSV) file we can read." in error.message


def test_binary_garbage_named_xlsx_is_refused():
    assert refused(SimpleUploadedFile("learners.xlsx", GARBAGE)).code == "not_xlsx"


def test_garbage_without_nul_bytes_is_refused():
    data = bytes(b for b in GARBAGE if b not in (0, 0x81, 0x8D, 0x8F, 0x90, 0x9D))
    assert refused(SimpleUploadedFile("learners.csv", data)).code in {"binary", "not_text"}


def test_control_characters_are_refused_as_binary():
    data = b"Email,Name\r\nann@example.org,Ann\x01\x02\x03\r\n"
    assert refused(SimpleUploadedFile("learners.csv", data)).code == "binary"


def test_text_named_xlsx_is_refused():
    error = refused(SimpleUploadedFile("learners.xlsx", b"Email,Name\r\nann@example.org,Ann\r\n"))
    assert error.code == "not_xlsx"
    assert "not an Excel workbook" in error.message


def test_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    assert refused(SimpleUploadedFile("learners.xlsx", buffer.getvalue())).code == "not_xlsx"


def test_damaged_workbook_is_refused():
    data = xlsx_bytes(ROWS)
    assert refused(SimpleUploadedFile("learners.xlsx", data[: len(data) // 2])).code == "not_xlsx"


def test_workbook_named_csv_is_refused():
    assert refused(SimpleUploadedFile("learners.csv", xlsx_bytes(ROWS))).code == "workbook_named_csv"


def test_other_extensions_are_refused():
    error = refused(SimpleUploadedFile("learners.pdf", b"%PDF-1.7"))
    assert error.code == "wrong_type"
    assert "“learners.pdf” is not a CSV or Excel (.xlsx) file" in error.message


def test_template_has_the_headers_the_reader_understands():
    uploaded = SimpleUploadedFile("t.csv", (template_csv() + "ann@example.org,Ann Example\r\n").encode("utf-8"))
    assert read_learner_file(uploaded) == [FileRow(row=2, email="ann@example.org", full_name="Ann Example")]
