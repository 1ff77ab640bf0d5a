"""Building upload files for the partner portal's tests."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook


def csv_bytes(rows, *, encoding="utf-8", delimiter=",", bom=False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def csv_file(rows, name="learners.csv", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(rows, **kwargs), content_type="text/csv")


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_file(rows, name="learners.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, xlsx_bytes(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def learners(n, start=0, domain="example.org"):
    return [[f"learner{i}@{domain}", f"Learner Number {i}"] for i in range(start, start + n)]
