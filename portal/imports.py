"""Reading a coordinator's list of learners from an uploaded CSV or XLSX file.

``read_learner_file`` checks the file's size and real type (its content, not only its name),
decodes it, finds the email and name columns whatever their case, order or common synonym, and
returns one ``FileRow`` per non-blank row with the row number the coordinator sees in their
spreadsheet (the heading row is row 1). Anything it cannot read raises ``UploadRefused`` with a
message that says what to do; nothing is stored or written by this module.

Hostile files cannot tie up a web worker. The reader stops after ``last_row()`` rows, blank rows
included; it looks for the heading in the first ``MAX_COLUMNS`` columns only; and it gives up
after ``read_seconds()``. A workbook is read by streaming its XML (``defusedxml``: no DTDs, no
entities) straight out of the zip, never through a library that trusts the sheet's declared
``<dimension>``: only the cells of the columns the heading names are decoded, shared strings are
loaded only as far as the cells use them, and anything malformed is "not a workbook we can read".
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import posixpath
import re
import time
import zipfile
import zlib
from dataclasses import dataclass
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

from defusedxml.expatreader import create_parser as create_sax_parser
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Defaults; academy/settings.py may override them (PARTNER_UPLOAD_MAX_BYTES, PARTNER_UPLOAD_MAX_ROWS,
# PARTNER_UPLOAD_READ_SECONDS).
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000
# Reading a real file of 5,000 learners takes a fraction of a second; past this, give up.
DEFAULT_READ_SECONDS = 5.0
# A real workbook of 5,000 short rows unpacks to a few megabytes; refuse zip bombs well before.
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
# Blank rows a file may have besides its heading and learners (above, between or below them)
# before we stop reading: see ``last_row``.
BLANK_ROWS_ALLOWED = 1000
# The heading row is looked for in this many columns; anything to the right is ignored.
MAX_COLUMNS = 200
# Excel's own limits (column XFD, row 1,048,576): a cell beyond them is a damaged workbook.
XLSX_MAX_COLUMN = 16384
XLSX_MAX_ROW = 1048576
# No real workbook part nests elements this deep.
MAX_XML_DEPTH = 64

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


def read_seconds() -> float:
    return getattr(settings, "PARTNER_UPLOAD_READ_SECONDS", DEFAULT_READ_SECONDS)


def last_row() -> int:
    """The last row of a file we read: the heading, ``max_rows()`` learners and
    ``BLANK_ROWS_ALLOWED`` blank rows. A file that goes on further is refused."""
    return max_rows() + 1 + BLANK_ROWS_ALLOWED


class _Deadline:
    """Raises ``UploadRefused`` once reading has taken longer than ``read_seconds()``."""

    def __init__(self, what: str):
        self.what = what
        self.at = time.monotonic() + read_seconds()

    def check(self) -> None:
        if time.monotonic() >= self.at:
            if self.what == "workbook":
                message = _(
                    "This workbook took too long to read, so we stopped. Copy just the email addresses and "
                    "names into a new workbook, or save them as “CSV UTF-8”, and upload that."
                )
            else:
                message = _(
                    "This file took too long to read, so we stopped. Save just the email addresses and names "
                    "as “CSV UTF-8” and upload that."
                )
            raise UploadRefused(message, code="too_slow")


def _too_many_rows(limit: int) -> UploadRefused:
    return UploadRefused(
        _(
            "The file has more than %(limit)s learners. We accept up to %(limit)s rows at a time: "
            "split the list into smaller files and upload them one after the other."
        )
        % {"limit": number_format(limit, force_grouping=True)},
        code="too_many_rows",
    )


def _past_last_row() -> UploadRefused:
    return UploadRefused(
        _(
            "This file goes on past row %(last)s. We read up to %(last)s rows, blank rows included "
            "(up to %(limit)s learners at a time). Delete the empty rows between and below your learners, "
            "or copy just the list into a new file, or split it into smaller files."
        )
        % {
            "last": number_format(last_row(), force_grouping=True),
            "limit": number_format(max_rows(), force_grouping=True),
        },
        code="too_many_rows",
    )


def _header_key(value) -> str:
    return re.sub(r"[^0-9a-z]", "", str(value or "").replace("\ufeff", "").lower())


def _clean(value) -> str:
    """A cell as trimmed text (spreadsheets give numbers and dates as such; None is blank)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).replace("\u00a0", " ").split())


def _found(header: list) -> str:
    """The heading row's names for a message: the first twenty, then “…”."""
    names = (name for name in map(_clean, header) if name)
    shown = [f"“{name}”" for name in itertools.islice(names, 20)]
    if not shown:
        return _("nothing")
    return ", ".join(shown) + (", …" if next(names, None) is not None else "")


def _find_columns(header: list) -> tuple[int, int | None, int | None, int | None]:
    """Indexes of (email, full name, first name, last name); raises when a needed one is missing."""
    keys = [_header_key(h) for h in header]

    def find(names: set[str]) -> int | None:
        return next((i for i, k in enumerate(keys) if k in names), None)

    email, full_name = find(EMAIL_HEADERS), find(FULL_NAME_HEADERS)
    first, last = find(FIRST_NAME_HEADERS), find(LAST_NAME_HEADERS)
    if email is None:
        raise UploadRefused(
            _(
                "We could not find the email address column. The first row of the file must name the "
                "columns, for example “Email address” and “Full name”. The first row has: %(found)s."
            )
            % {"found": _found(header)},
            code="no_email_column",
        )
    if full_name is None and first is None:
        raise UploadRefused(
            _(
                "We could not find the learners’ names. Add a column called “Full name” (or two columns, "
                "“First name” and “Last name”). The first row has: %(found)s."
            )
            % {"found": _found(header)},
            code="no_name_column",
        )
    return email, full_name, first, last


def _rows_from_table(records, *, deadline: _Deadline, on_header=None) -> list[FileRow]:
    """``records`` yields ``(row number, list of cell values)``; the first non-blank row is the
    heading row. ``on_header`` is told the indexes of the columns found, so that a reader can
    skip the others."""
    limit = max_rows()
    last = last_row()
    header = None
    columns = None
    rows: list[FileRow] = []
    data_rows = 0
    for number, record in records:
        deadline.check()
        if number > last:
            raise _past_last_row()
        cells = list(record or [])
        if not any(_clean(c) for c in cells):
            continue
        if header is None:
            header = cells[:MAX_COLUMNS]
            columns = _find_columns(header)
            if on_header is not None:
                on_header(columns)
            continue
        data_rows += 1
        if data_rows > limit:
            raise _too_many_rows(limit)
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


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _looks_binary(text: str) -> bool:
    """Control characters other than tab, line breaks and form feeds, anywhere in the text (a NUL
    could not even be stored)."""
    return _CONTROL.search(text) is not None


def _csv_records(text: str):
    # The right delimiter is the one whose heading row names the columns we need; the ones that
    # appear most in that row are tried first. (Not csv.Sniffer: its regular expressions take
    # hours on a crafted line of a few hundred kilobytes.)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    candidates = sorted((",", ";", "\t"), key=lambda d: -first_line.count(d))
    for delimiter in candidates:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        try:
            _find_columns(header)
        except UploadRefused:
            continue
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return csv.reader(io.StringIO(text, newline=""), delimiter=candidates[0])


def _read_csv(data: bytes) -> list[FileRow]:
    deadline = _Deadline("file")
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
        return _rows_from_table(enumerate(_csv_records(text), start=1), deadline=deadline)
    except csv.Error as exc:
        raise UploadRefused(
            _("We could not read this CSV file (%(problem)s). Save it again from your spreadsheet as CSV UTF-8.")
            % {"problem": exc},
            code="bad_csv",
        ) from exc


def _not_a_workbook() -> UploadRefused:
    return UploadRefused(
        _(
            "This file is named .xlsx but it is not an Excel workbook we can read. Open it in your "
            "spreadsheet and save it again as “Excel Workbook (.xlsx)” or as “CSV UTF-8”."
        ),
        code="not_xlsx",
    )


class _Malformed(Exception):
    """The workbook breaks the file format (the reader turns this into ``_not_a_workbook``)."""


# What reading a damaged zip or XML part raises: zipfile (BadZipFile, EOFError, NotImplementedError
# for an unknown compression, RuntimeError for encryption, zlib.error), the SAX parser
# (SAXException), defusedxml (its DTDForbidden and EntitiesForbidden are ValueErrors), and ours.
_DAMAGED = (
    _Malformed,
    zipfile.BadZipFile,
    zlib.error,
    SAXException,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    KeyError,
    IndexError,
)

# Parts are fed to the parser this much at a time; the deadline is checked between pieces.
_CHUNK = 64 * 1024


def _local(name: str) -> str:
    """An element's name without its prefix (some writers use "x:c" for "c")."""
    return name.rpartition(":")[2]


class _Part(ContentHandler):
    """Reads one XML part of the workbook with a SAX parser that refuses DTDs and entities
    (defusedxml), fed a piece at a time: ``pieces()`` yields after each piece, so that the caller
    can take what the handler has collected so far and stop whenever it has enough."""

    def __init__(self, archive: zipfile.ZipFile, name: str, deadline: _Deadline):
        super().__init__()
        self._archive = archive
        self._name = name
        self._deadline = deadline
        self._depth = 0
        self._text: list[str] | None = None  # character data being collected, if any

    def pieces(self):
        parser = create_sax_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
        parser.setContentHandler(self)
        with self._archive.open(self._name) as stream:
            while piece := stream.read(_CHUNK):
                self._deadline.check()
                parser.feed(piece)
                yield
            parser.close()
        yield

    def startElement(self, name, attrs):
        self._depth += 1
        if self._depth > MAX_XML_DEPTH:
            raise _Malformed("elements nested too deeply")
        self.start(_local(name), attrs)

    def endElement(self, name):
        self._depth -= 1
        self.end(_local(name))

    def characters(self, content):
        if self._text is not None:
            self._text.append(content)

    def collect(self) -> None:
        self._text = []

    def collected(self) -> str:
        text, self._text = "".join(self._text or []), None
        return text

    def start(self, name, attrs):
        pass

    def end(self, name):
        pass


class _WorkbookSheets(_Part):
    """xl/workbook.xml: the relationship ids of its sheets, in order."""

    def __init__(self, *args):
        super().__init__(*args)
        self.ids: list[str | None] = []
        self.done = False

    def start(self, name, attrs):
        if name == "sheet":
            self.ids.append(next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), None))

    def end(self, name):
        if name == "sheets":
            self.done = True


class _Relationships(_Part):
    """xl/_rels/workbook.xml.rels: each relationship's id, kind ("worksheet", "sharedStrings", …)
    and the path of the part it points to."""

    def __init__(self, *args):
        super().__init__(*args)
        self.targets: dict[str, tuple[str, str]] = {}

    def start(self, name, attrs):
        if name != "Relationship" or attrs.get("TargetMode") == "External":
            return
        target = attrs.get("Target") or ""
        path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target))
        self.targets[attrs.get("Id") or ""] = ((attrs.get("Type") or "").rpartition("/")[2], path)


def _read_all(part: _Part, *, until=lambda: False) -> None:
    for _piece in part.pieces():
        if until():
            return


def _workbook_parts(archive: zipfile.ZipFile, names: set[str], deadline: _Deadline) -> tuple[str, str | None]:
    """The first worksheet's part, and the shared strings' part if there is one."""
    sheets = _WorkbookSheets(archive, "xl/workbook.xml", deadline)
    _read_all(sheets, until=lambda: sheets.done)
    relationships = _Relationships(archive, "xl/_rels/workbook.xml.rels", deadline)
    if "xl/_rels/workbook.xml.rels" in names:
        _read_all(relationships)
    targets = relationships.targets
    sheet = next(
        (targets[i][1] for i in sheets.ids if i in targets and targets[i][0] == "worksheet" and targets[i][1] in names),
        "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else None,
    )
    if sheet is None:
        raise _Malformed("no worksheet")
    strings = next((path for kind, path in targets.values() if kind == "sharedStrings"), "xl/sharedStrings.xml")
    return sheet, (strings if strings in names else None)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescaped(match: re.Match) -> str:
    """Excel writes a carriage return as _x000D_ and a literal "_x" as _x005F_x. Only characters
    XML could hold are decoded: a control character, NUL or surrogate stays as written (it could
    not be stored, and no name has one)."""
    code = int(match.group(1), 16)
    if code in (0x09, 0x0A, 0x0D) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD:
        return chr(code)
    return match.group(0)


class _SharedStrings(_Part):
    """The workbook's shared strings, read from its XML only as far as the cells ask for."""

    def __init__(self, archive: zipfile.ZipFile, name: str | None, deadline: _Deadline):
        super().__init__(archive, name, deadline)
        self._strings: list[str] = []
        self._pieces = self.pieces() if name else iter(())
        self._parts: list[str] | None = None
        self._phonetic = 0

    def get(self, index: int) -> str:
        if index < 0:
            raise _Malformed("negative shared string index")
        while index >= len(self._strings):
            if next(self._pieces, False) is False:
                raise _Malformed("shared string index out of range")
        return self._strings[index]

    def start(self, name, attrs):
        if name == "si":
            self._parts = []
        elif name == "rPh":  # a phonetic guide (furigana): not part of the text
            self._phonetic += 1
        elif name == "t" and self._parts is not None and not self._phonetic:
            self.collect()

    def end(self, name):
        if name == "t" and self._text is not None:
            self._parts.append(self.collected())
        elif name == "rPh":
            self._phonetic -= 1
        elif name == "si" and self._parts is not None:
            self._strings.append(_ESCAPED.sub(_unescaped, "".join(self._parts)))
            self._parts = None

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()


_CELL_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _column_number(reference: str | None, previous: int) -> int:
    """The 1-based column of a cell: from its reference ("C7" is 3), else the one after the previous."""
    if reference is None:
        column = previous + 1
    else:
        match = _CELL_REFERENCE.fullmatch(reference)
        if match is None:
            raise _Malformed(f"bad cell reference {reference[:20]!r}")
        column = 0
        for letter in match.group(1).upper():
            column = column * 26 + ord(letter) - 64
    if column > XLSX_MAX_COLUMN:
        raise _Malformed("a cell beyond column XFD")
    return column


def _row_number(reference: str | None, previous: int) -> int:
    if reference is None:
        return previous + 1
    if not (reference.isascii() and reference.isdigit() and 1 <= int(reference) <= XLSX_MAX_ROW):
        raise _Malformed(f"bad row number {reference[:20]!r}")
    return int(reference)


def _number(text: str):
    # As openpyxl reads numbers: a decimal point or an exponent makes a float.
    return float(text) if ("." in text or "e" in text or "E" in text) else int(text)


class _Sheet(_Part):
    """The rows of one worksheet, streamed from its XML.

    ``rows()`` yields ``(row number, cell values)`` for each ``<row>``, ignoring any declared
    dimension. The parser keeps each cell of the first ``MAX_COLUMNS`` columns undecoded; a row
    is decoded when it is handed out: until ``use_columns`` is called, all of its kept cells (to
    find the heading); after it, the wanted columns only, plus the first other non-blank cell when
    the wanted ones are blank (so that the row still counts as not blank). A row numbered past
    ``last_row()``, or more ``<row>`` elements than that, is refused as soon as it starts; a row
    with more cells than a sheet has columns is a damaged workbook."""

    def __init__(self, archive: zipfile.ZipFile, name: str, strings: _SharedStrings, deadline: _Deadline):
        super().__init__(archive, name, deadline)
        self._strings = strings
        self._wanted: set[int] | None = None
        self._last = last_row()
        self._done: list[tuple[int, dict[int, tuple[str, str | None]]]] = []
        self._in_data = self._finished = False
        self._number = self._rows_seen = 0
        self._row: dict[int, tuple[str, str | None]] = {}
        self._column = self._cells = 0
        self._kind, self._raw, self._inline, self._in_inline, self._phonetic = "n", None, [], False, 0

    def use_columns(self, columns) -> None:
        self._wanted = {i for i in columns if i is not None}

    def rows(self):
        for _piece in self.pieces():
            for number, cells in self._done:
                yield number, self._decoded(cells)
            self._done.clear()
            if self._finished:
                return

    def start(self, name, attrs):
        if not self._in_data:
            self._in_data = name == "sheetData"
        elif name == "row":
            self._number = _row_number(attrs.get("r"), self._number)
            self._rows_seen += 1
            if self._number > self._last or self._rows_seen > self._last:
                raise _past_last_row()
            self._row, self._column, self._cells = {}, 0, 0
        elif name == "c":
            self._column = _column_number(attrs.get("r"), self._column)
            self._cells += 1
            if self._cells > XLSX_MAX_COLUMN:
                raise _Malformed("more cells in a row than a sheet has columns")
            self._kind, self._raw, self._inline = attrs.get("t", "n"), None, []
            self._in_inline, self._phonetic = False, 0
        elif name == "v":
            self.collect()
        elif name == "is":
            self._in_inline = True
        elif name == "rPh":  # a phonetic guide (furigana): not part of the text
            self._phonetic += 1
        elif name == "t" and self._in_inline and not self._phonetic:
            self.collect()

    def end(self, name):
        if not self._in_data or self._finished:
            return
        if name == "v":
            self._raw = self.collected()
        elif name == "t" and self._text is not None:
            self._inline.append(self.collected())
        elif name == "rPh":
            self._phonetic -= 1
        elif name == "is":
            self._in_inline = False
        elif name == "c" and self._column <= MAX_COLUMNS:
            raw = "".join(self._inline) if self._kind == "inlineStr" else self._raw
            self._row[self._column - 1] = (self._kind, raw)
        elif name == "row":
            self._done.append((self._number, self._row))
        elif name == "sheetData":
            self._finished = True

    def _decoded(self, cells: dict[int, tuple[str, str | None]]) -> list:
        wanted = self._wanted
        if wanted is None:
            values = {index: self._value(*cell) for index, cell in cells.items()}
        else:
            values = {index: self._value(*cells[index]) for index in wanted if index in cells}
            if not any(_clean(value) for value in values.values()):
                for index, cell in cells.items():
                    if index not in wanted and _clean(value := self._value(*cell)):
                        values[index] = value
                        break
        row = [None] * (max(values) + 1 if values else 0)
        for index, value in values.items():
            row[index] = value
        return row

    def _value(self, kind: str, raw: str | None):
        if kind == "inlineStr":
            return raw
        if not raw:
            return None
        if kind == "s":
            return self._strings.get(int(raw))
        if kind == "n":
            return _number(raw)
        if kind == "b":
            return bool(int(raw))
        if kind in ("str", "e", "d"):  # a formula's text, an error such as #N/A, an ISO date
            return raw
        raise _Malformed(f"unknown cell type {kind[:20]!r}")


def _read_xlsx(data: bytes) -> list[FileRow]:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadRefused(
            _(
                "This file is an older Excel workbook (.xls) or one protected with a password. Open it in "
                "your spreadsheet, remove any password, and save it as “Excel Workbook (.xlsx)” or as "
                "“CSV UTF-8”."
            ),
            code="not_xlsx",
        )
    if not data.startswith(b"PK\x03\x04"):
        raise _not_a_workbook()
    deadline = _Deadline("workbook")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        total = sum(info.file_size for info in archive.infolist())
    except _DAMAGED as exc:
        raise _not_a_workbook() from exc
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _not_a_workbook()
    if total > MAX_XLSX_UNCOMPRESSED:
        raise UploadRefused(
            _("This workbook unpacks to more data than we accept. Upload a workbook with just the list of learners."),
            code="too_big_unpacked",
        )
    strings = None
    try:
        sheet_name, strings_name = _workbook_parts(archive, names, deadline)
        strings = _SharedStrings(archive, strings_name, deadline)
        sheet = _Sheet(archive, sheet_name, strings, deadline)
        return _rows_from_table(sheet.rows(), deadline=deadline, on_header=sheet.use_columns)
    except UploadRefused:
        raise
    except _DAMAGED as exc:
        raise _not_a_workbook() from exc
    except Exception as exc:  # noqa: BLE001 - whatever a damaged file makes go wrong, the answer is the same
        logger.warning("Unexpected error reading an uploaded workbook", exc_info=True)
        raise _not_a_workbook() from exc
    finally:
        if strings is not None:
            strings.close()
        archive.close()


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
