"""Reading a coordinator's list of learners from an uploaded CSV or XLSX file.

``read_learner_file`` checks the file's size and real type (its content, not only its name),
decodes it, finds the email and name columns whatever their case, order or common synonym, and
returns one ``FileRow`` per non-blank row with the row number the coordinator sees in their
spreadsheet (the heading row is row 1). Anything it cannot read raises ``UploadRefused`` with a
message that says what to do; nothing is stored or written by this module.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _

# Defaults; academy/settings.py may override them (PARTNER_UPLOAD_MAX_BYTES, PARTNER_UPLOAD_MAX_ROWS).
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000
# A real workbook of 5,000 short rows unpacks to a few megabytes; refuse zip bombs well before.
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024

ACCEPTED_EXTENSIONS = (".csv", ".txt", ".xlsx")

# Header synonyms, compared after lower-casing and removing everything but letters and digits.
EMAIL_HEADERS = {"email", "emailaddress", "mail", "emailadress", "learneremail", "participantemail", "emails"}
FULL_NAME_HEADERS = {
    "fullname",
    "name",
    "learnername",
    "learnersname",
    "participantname",
    "participantsname",
    "nameoncertificate",
    "fullnameoncertificate",
    "fullnameasitshouldappearonthecertificate",
}
FIRST_NAME_HEADERS = {"firstname", "forename", "forenames", "givenname", "givennames", "firstnames"}
LAST_NAME_HEADERS = {"lastname", "surname", "familyname", "secondname"}

TEMPLATE_HEADERS = ["Email address", "Full name"]


class UploadRefused(ValidationError):
    """The whole file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class FileRow:
    row: int  # as numbered in the coordinator's spreadsheet: the heading row is row 1
    email: str
    full_name: str


def max_bytes() -> int:
    return getattr(settings, "PARTNER_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_rows() -> int:
    return getattr(settings, "PARTNER_UPLOAD_MAX_ROWS", DEFAULT_MAX_ROWS)


def _header_key(value) -> str:
    return re.sub(r"[^0-9a-z]", "", str(value or "").replace("\ufeff", "").lower())


def _clean(value) -> str:
    """A cell as trimmed text (spreadsheets give numbers and dates as such; None is blank)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).replace("\u00a0", " ").split())


def _find_columns(header: list) -> tuple[int, int | None, int | None, int | None]:
    """Indexes of (email, full name, first name, last name); raises when a needed one is missing."""
    keys = [_header_key(h) for h in header]

    def find(names: set[str]) -> int | None:
        return next((i for i, k in enumerate(keys) if k in names), None)

    email, full_name = find(EMAIL_HEADERS), find(FULL_NAME_HEADERS)
    first, last = find(FIRST_NAME_HEADERS), find(LAST_NAME_HEADERS)
    found = ", ".join(f"“{_clean(h)}”" for h in header if _clean(h)) or _("nothing")
    if email is None:
        raise UploadRefused(
            _(
                "We could not find the email address column. The first row of the file must name the "
                "columns, for example “Email address” and “Full name”. The first row has: %(found)s."
            )
            % {"found": found},
            code="no_email_column",
        )
    if full_name is None and first is None:
        raise UploadRefused(
            _(
                "We could not find the learners’ names. Add a column called “Full name” (or two columns, "
                "“First name” and “Last name”). The first row has: %(found)s."
            )
            % {"found": found},
            code="no_name_column",
        )
    return email, full_name, first, last


def _rows_from_table(records) -> list[FileRow]:
    """``records`` yields lists of cell values; the first non-blank one is the heading row."""
    limit = max_rows()
    header = None
    columns = None
    rows: list[FileRow] = []
    data_rows = 0
    for number, record in enumerate(records, start=1):
        cells = list(record or [])
        if not any(_clean(c) for c in cells):
            continue
        if header is None:
            header = cells
            columns = _find_columns(header)
            continue
        data_rows += 1
        if data_rows > limit:
            raise UploadRefused(
                _(
                    "The file has more than %(limit)s learners. We accept up to %(limit)s rows at a time: "
                    "split the list into smaller files and upload them one after the other."
                )
                % {"limit": number_format(limit, force_grouping=True)},
                code="too_many_rows",
            )
        email_i, full_i, first_i, last_i = columns

        def cell(i, cells=cells):
            return _clean(cells[i]) if i is not None and i < len(cells) else ""

        full_name = cell(full_i)
        if not full_name and first_i is not None:
            full_name = " ".join(filter(None, [cell(first_i), cell(last_i)]))
        rows.append(FileRow(row=number, email=cell(email_i), full_name=full_name))
    if header is None:
        raise UploadRefused(
            _("The file is empty. Put the column names in the first row and one learner on each row below."),
            code="empty",
        )
    if not rows:
        raise UploadRefused(
            _("The file has column names but no learners. Add one learner on each row under the column names."),
            code="no_rows",
        )
    return rows


def _decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's “Unicode text”), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                pass
    raise UploadRefused(
        _(
            "This file is not a text (CSV) file we can read. In your spreadsheet choose "
            "“Save as” and pick “CSV UTF-8 (comma delimited)”, or upload the .xlsx workbook."
        ),
        code="not_text",
    )


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\t\r\n\x0b\x0c")
    return controls > 0


def _csv_records(text: str):
    sample = "\n".join(text.splitlines()[:20])
    candidates = []
    with contextlib.suppress(csv.Error):
        candidates.append(csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter)
    candidates += [d for d in (",", ";", "\t") if d not in candidates]
    # The right delimiter is the one whose heading row names the columns we need.
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    for delimiter in candidates:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        try:
            _find_columns(header)
        except UploadRefused:
            continue
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return csv.reader(io.StringIO(text, newline=""), delimiter=candidates[0])


def _read_csv(data: bytes) -> list[FileRow]:
    text = _decode_text(data)
    if _looks_binary(text):
        raise UploadRefused(
            _(
                "This file contains data that is not text, so it is not a CSV file. Save your spreadsheet "
                "as “CSV UTF-8 (comma delimited)” or upload the .xlsx workbook."
            ),
            code="binary",
        )
    try:
        return _rows_from_table(_csv_records(text))
    except csv.Error as exc:
        raise UploadRefused(
            _("We could not read this CSV file (%(problem)s). Save it again from your spreadsheet as CSV UTF-8.")
            % {"problem": exc},
            code="bad_csv",
        ) from exc


def _not_a_workbook() -> UploadRefused:
    return UploadRefused(
        _(
            "This file is named .xlsx but it is not an Excel workbook. Open it in your spreadsheet and "
            "save it again as “Excel Workbook (.xlsx)” or as “CSV UTF-8”."
        ),
        code="not_xlsx",
    )


def _read_xlsx(data: bytes) -> list[FileRow]:
    if not data.startswith(b"PK\x03\x04"):
        raise _not_a_workbook()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _not_a_workbook() from exc
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _not_a_workbook()
    if total > MAX_XLSX_UNCOMPRESSED:
        raise UploadRefused(
            _("This workbook unpacks to more data than we accept. Upload a workbook with just the list of learners."),
            code="too_big_unpacked",
        )
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of error on damaged files
        raise _not_a_workbook() from exc
    try:
        sheet = workbook.worksheets[0]
        return _rows_from_table(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def read_learner_file(uploaded) -> list[FileRow]:
    """Read an uploaded file (a Django ``UploadedFile``) into rows, or raise ``UploadRefused``."""
    name = uploaded.name or ""
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if uploaded.size > max_bytes():
        raise UploadRefused(
            _(
                "The file is %(size)s; the largest we accept is %(limit)s. Remove any columns other than "
                "email address and name, or split the list into smaller files."
            )
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(max_bytes())},
            code="too_big",
        )
    if extension not in ACCEPTED_EXTENSIONS:
        raise UploadRefused(
            _("“%(name)s” is not a CSV or Excel (.xlsx) file. Upload a .csv or .xlsx file.") % {"name": name},
            code="wrong_type",
        )
    uploaded.seek(0)
    data = uploaded.read(max_bytes() + 1)
    if len(data) > max_bytes():  # the reported size was wrong
        raise UploadRefused(
            _("The file is larger than %(limit)s, the largest we accept.") % {"limit": filesizeformat(max_bytes())},
            code="too_big",
        )
    if extension == ".xlsx":
        return _read_xlsx(data)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadRefused(
            _(
                "This file is named .csv but it is a spreadsheet workbook. Either rename it to .xlsx, or "
                "open it and choose “Save as” → “CSV UTF-8 (comma delimited)”."
            ),
            code="workbook_named_csv",
        )
    return _read_csv(data)


def template_csv() -> str:
    """The downloadable template: just the column names (an example row could be enrolled by mistake)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(TEMPLATE_HEADERS)
    return "\ufeff" + buffer.getvalue()
