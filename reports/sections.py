"""A report as sections: each a title, a one-sentence summary in words, a table of its data and
(for most) a chart of the same numbers. The page, the CSV and XLSX downloads and the funder PDF
all show these same sections, so the figures agree everywhere."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import charts
from .selectors import STALLED_DOWNLOADED, Report


@dataclass
class Section:
    key: str
    title: str
    summary: str
    header: list[str]
    rows: list[list]
    chart: dict | None = None  # the arguments of charts.bar_chart / line_chart, plus "kind"
    notes: list[str] = field(default_factory=list)

    def svg(self, *, for_print: bool = False):
        if not self.chart:
            return ""
        arguments = dict(self.chart)
        kind = arguments.pop("kind")
        draw = charts.line_chart if kind == "line" else charts.bar_chart
        return draw(title=self.title, summary=self.summary, for_print=for_print, **arguments)


def _n(value) -> str:
    return number_format(value, force_grouping=True)


def _month(month: datetime.date) -> str:
    return date_format(month, "M Y")


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def funnel_section(report: Report) -> Section:
    funnel = report.funnel
    if funnel.invited:
        summary = _(
            "Of %(invited)s learners enrolled in this period, %(taking_part)s took part, %(completed)s "
            "completed (%(rate)s) and %(certified)s hold a certificate; %(withdrawn)s withdrew."
        ) % {
            "invited": _n(funnel.invited),
            "taking_part": _n(funnel.taking_part),
            "completed": _n(funnel.completed),
            "rate": _percent(funnel.completion_rate),
            "certified": _n(funnel.certified),
            "withdrawn": _n(funnel.withdrawn),
        }
    else:
        summary = _("Nobody was enrolled in this period.")
    stages = funnel.stages()
    return Section(
        key="funnel",
        title=_("From invitation to certificate"),
        summary=summary,
        header=[_("Stage"), _("Learners")],
        rows=[[name, count] for name, count in stages],
        chart={
            "kind": "bar",
            "horizontal": True,
            "labels": [name for name, _count in stages],
            "series": [(_("Learners"), [count for _name, count in stages])],
        },
    )


def outcomes_section(report: Report) -> Section:
    funnel = report.funnel
    median = funnel.median_days_to_certificate
    if median is None:
        summary = _("No certificate has been issued yet for the learners enrolled in this period.")
    else:
        summary = _("Half of the certified learners had their certificate within %(days)s days of enrolling.") % {
            "days": number_format(median, decimal_pos=1)
        }
    return Section(
        key="outcomes",
        title=_("Completion"),
        summary=summary,
        header=[_("Measure"), _("Value")],
        rows=[
            [_("Completion rate (completed of everyone enrolled)"), _percent(funnel.completion_rate)],
            [_("Median days from enrolment to certificate"), "–" if median is None else median],
        ],
    )


def domains_section(report: Report) -> Section:
    rows = report.domains
    if rows:
        top = max(rows, key=lambda row: row.achievements)
        summary = ngettext(
            "%(total)s competency was shown in this period, most of them in “%(domain)s” (%(count)s).",
            "%(total)s competencies were shown in this period, most of them in “%(domain)s” (%(count)s).",
            sum(row.achievements for row in rows),
        ) % {
            "total": _n(sum(row.achievements for row in rows)),
            "domain": top.domain,
            "count": _n(top.achievements),
        }
    else:
        summary = _("No competency was recorded as shown in this period.")
    return Section(
        key="domains",
        title=_("Competencies shown, by domain"),
        summary=summary,
        header=[_("Domain"), _("Core or course-specific"), _("Competencies shown")],
        rows=[[row.domain, _("Core") if row.is_core else _("Course-specific"), row.achievements] for row in rows],
        chart={
            "kind": "bar",
            "horizontal": True,
            "labels": [row.domain for row in rows],
            "series": [(_("Competencies shown"), [row.achievements for row in rows])],
        }
        if rows
        else None,
    )


def certificates_section(report: Report) -> Section:
    months = report.certificates
    issued, revoked = sum(row.issued for row in months), sum(row.revoked for row in months)
    busiest = max(months, key=lambda row: row.issued) if months else None
    summary = _("%(issued)s certificates were issued and %(revoked)s revoked in this period.") % {
        "issued": _n(issued),
        "revoked": _n(revoked),
    }
    if busiest is not None and busiest.issued:
        summary = _(
            "%(issued)s certificates were issued and %(revoked)s revoked in this period; the most were "
            "issued in %(month)s (%(count)s)."
        ) % {"issued": _n(issued), "revoked": _n(revoked), "month": _month(busiest.month), "count": _n(busiest.issued)}
    return Section(
        key="certificates",
        title=_("Certificates issued and revoked, by month"),
        summary=summary,
        header=[_("Month"), _("Issued"), _("Revoked")],
        rows=[[_month(row.month), row.issued, row.revoked] for row in months],
        chart={
            "kind": "bar",
            "labels": [_month(row.month) for row in months],
            "series": [(_("Issued"), [row.issued for row in months]), (_("Revoked"), [row.revoked for row in months])],
        },
    )


def verification_section(report: Report) -> Section | None:
    weeks = report.verification
    if weeks is None:
        return None
    lookups = sum(row.lookups for row in weeks)
    credentials = sum(row.credential_lookups for row in weeks)
    checks = sum(row.file_checks for row in weeks)
    return Section(
        key="verification",
        title=_("Certificates checked, by week"),
        summary=_(
            "In this period the verification page was opened %(lookups)s times, credentials were "
            "fetched %(credentials)s times and files were checked %(checks)s times, across the whole Academy."
        )
        % {"lookups": _n(lookups), "credentials": _n(credentials), "checks": _n(checks)},
        header=[_("Week beginning"), _("Verification page"), _("Credential fetched"), _("File checks")],
        rows=[[date_format(row.week, "j M Y"), row.lookups, row.credential_lookups, row.file_checks] for row in weeks],
        chart={
            "kind": "line",
            "labels": [date_format(row.week, "j M") for row in weeks],
            "series": [
                (_("Verification page"), [row.lookups for row in weeks]),
                (_("Credential fetched"), [row.credential_lookups for row in weeks]),
                (_("File checks"), [row.file_checks for row in weeks]),
            ],
        }
        if weeks
        else None,
    )


def stalled_section(report: Report, *, every_one: bool = False) -> Section:
    """The stalled learners as a table (no chart). On the page only the first ones are listed."""
    shown = len(report.stalled)
    if report.stalled_total == 0:
        summary = _("Nobody taking part has gone four weeks without showing a new competency.")
    else:
        summary = ngettext(
            "%(total)s learner taking part has shown no new competency for four weeks or more.",
            "%(total)s learners taking part have shown no new competency for four weeks or more.",
            report.stalled_total,
        ) % {"total": _n(report.stalled_total)}
    notes = []
    if shown < report.stalled_total:
        if every_one:
            notes.append(
                _(
                    "The %(shown)s who have waited longest are listed; choose a programme or a cohort to "
                    "list the others."
                )
                % {"shown": _n(shown)}
            )
        else:
            notes.append(
                _("The %(shown)s who have waited longest are listed here; the downloads list up to %(most)s.")
                % {"shown": _n(shown), "most": _n(STALLED_DOWNLOADED)}
            )
    return Section(
        key="stalled",
        title=_("Learners who have stalled"),
        summary=summary,
        header=[
            _("Learner"),
            _("Email address"),
            _("Programme"),
            _("Cohort"),
            _("Partner organisation"),
            _("Last competency shown"),
            _("Days since"),
        ],
        rows=[
            [
                learner.learner_name,
                learner.learner_email,
                learner.programme_title,
                learner.cohort_name,
                learner.partner_name,
                learner.last_achieved_on.isoformat() if learner.last_achieved_on else _("None yet"),
                learner.days_since,
            ]
            for learner in report.stalled
        ],
        notes=notes,
    )


def reach_sections(report: Report) -> list[Section]:
    """The equality-monitoring tables, already suppressed by ``reports.selectors_reach`` (counts
    below 5 shown as "fewer than 5", totals adjusted); tables only, as a hidden count has no bar."""
    if report.reach is None:
        return []
    sections = []
    for table in report.reach:
        rows = [[row.label, row.cell.display] for row in table.rows]
        rows.append([_("Total"), table.total_display])
        sections.append(
            Section(
                key=f"reach-{table.question}",
                title=_("Reach: %(question)s") % {"question": table.title},
                summary=_(
                    "Of the learners of these cohorts (whenever they enrolled) who chose to answer the "
                    "optional equality questions; no count of fewer than 5 is shown."
                ),
                header=[_("Answer"), _("Learners")],
                rows=rows,
                notes=[table.note] if table.note else [],
            )
        )
    return sections


def report_sections(report: Report, *, every_stalled: bool = False) -> list[Section]:
    sections = [
        funnel_section(report),
        outcomes_section(report),
        domains_section(report),
        certificates_section(report),
        verification_section(report),
        stalled_section(report, every_one=every_stalled),
        *reach_sections(report),
    ]
    return [section for section in sections if section is not None]
