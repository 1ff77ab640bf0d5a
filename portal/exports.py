"""Exports of a cohort's progress as CSV and XLSX.

Both go through ``progress_table`` and ``safe_cell``: a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with a single quote, so a spreadsheet never
runs a learner's name (or any other text) as a formula.
"""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from .selectors import CohortProgress

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise text a spreadsheet would take for a formula; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def progress_table(progress: CohortProgress) -> list[list]:
    """The heading row and one row per learner, every cell already made safe."""
    header = [_("Learner"), _("Email address"), _("Status")]
    for _id, name, required in progress.domains:
        header.append(_("%(domain)s (achieved of %(required)s)") % {"domain": name, "required": required})
    header += [_("Total achieved"), _("Total required"), _("Enrolled on"), _("Completed on"), _("Certificate issued")]
    rows = [header]
    for learner in progress.learners:
        enrolment = learner.enrolment
        row = [enrolment.learner.full_name, enrolment.learner.email, enrolment.get_status_display()]
        row += [cell.achieved for cell in learner.cells]
        row += [
            learner.achieved,
            learner.required,
            enrolment.enrolled_at.date().isoformat(),
            enrolment.completed_at.date().isoformat() if enrolment.completed_at else "",
            _("Yes") if learner.certified else _("No"),
        ]
        rows.append(row)
    return [[safe_cell(value) for value in row] for row in rows]


def progress_csv(progress: CohortProgress) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows accented names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(progress_table(progress))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def progress_xlsx(progress: CohortProgress) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Progress")[:31])
    for index, row in enumerate(progress_table(progress)):
        if index == 0:
            from openpyxl.cell import WriteOnlyCell

            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=value)
                cell.font = Font(bold=True)
                cells.append(cell)
            sheet.append(cells)
        else:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
