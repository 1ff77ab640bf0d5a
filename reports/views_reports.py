"""The staff reports and each partner organisation's report. Thin views: the form validates the
choices, ``reports.selectors`` reads the figures (a fixed number of queries), ``reports.sections``
arranges them, ``reports.downloads`` writes CSV, XLSX and the funder PDF.

Who may see what (``tests/test_permission_matrix.py`` walks every URL for every role):
- staff reports and the funder report: staff only (``is_staff``); anonymous visitors are sent to
  sign in, everybody else gets 404;
- a partner's report: the organisation's members (coordinators and viewers) and staff; anonymous
  visitors are sent to sign in, everybody else (another organisation's members included) gets 404.

Every report names learners (the stalled list): ``never_cache`` keeps it out of every cache.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from partners import selectors as partner_selectors

from . import downloads, sections, selectors
from .forms_reports import FunderReportForm, ReportFilterForm

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _staff(request) -> None:
    if not request.user.is_staff:
        raise Http404


def _organisation(request, org_slug: str):
    """The organisation, if ``request.user`` may read its pages (member or staff); else 404."""
    return get_object_or_404(partner_selectors.organisations_for(user=request.user), slug=org_slug)


def _heading(scope: selectors.ReportScope, title: str) -> list[str]:
    lines = [title, _("From %(start)s to %(end)s") % {"start": scope.start.isoformat(), "end": scope.end.isoformat()}]
    for label, chosen in (
        (_("Partner organisation"), scope.organisation or scope.partner),
        (_("Programme"), scope.programme),
        (_("Cohort"), scope.cohort.name if scope.cohort else None),
    ):
        if chosen is not None:
            lines.append(f"{label}: {chosen}")
    lines.append(_("Made on %(day)s") % {"day": timezone.localdate().isoformat()})
    return lines


def _file_name(scope: selectors.ReportScope, stem: str, extension: str) -> str:
    return f"{slugify(stem)}-{scope.start.isoformat()}-to-{scope.end.isoformat()}.{extension}"


def _invalid(form) -> HttpResponse:
    """A download asked for with choices that are not valid: say which, plainly (400)."""
    messages = [
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".lstrip(": ")
        for name, errors in form.errors.items()
    ]
    return HttpResponse("\n".join(messages), status=400, content_type="text/plain; charset=utf-8")


def _download(form, *, title: str, stem: str, kind: str, verification: bool) -> HttpResponse:
    if not form.is_valid():
        return _invalid(form)
    scope = form.scope()
    report = selectors.report(scope, verification=verification, stalled_limit=selectors.STALLED_DOWNLOADED)
    parts = sections.report_sections(report, every_stalled=True)
    heading = _heading(scope, title)
    if kind == "csv":
        body, content_type = downloads.report_csv(parts, heading=heading), CSV_TYPE
    else:
        body, content_type = downloads.report_xlsx(parts, heading=heading), XLSX_TYPE
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_file_name(scope, stem, kind)}"'
    return response


def _page(request, form, *, template: str, title: str, verification: bool, **extra):
    context = {"form": form, "title": title, **extra}
    if form.is_valid():
        scope = form.scope()
        report = selectors.report(scope, verification=verification)
        context.update(
            report=report,
            scope=scope,
            sections=sections.report_sections(report),
            query=form.query_string(),
        )
    return render(request, template, context)


# --- Staff ---------------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def staff_report(request):
    _staff(request)
    return _page(
        request,
        ReportFilterForm(request.GET),
        template="reports/staff_report.html",
        title=_("Staff reports"),
        verification=True,
    )


@never_cache
@login_required
@require_GET
def staff_report_csv(request):
    _staff(request)
    return _download(
        ReportFilterForm(request.GET), title=_("Staff report"), stem="academy-report", kind="csv", verification=True
    )


@never_cache
@login_required
@require_GET
def staff_report_xlsx(request):
    _staff(request)
    return _download(
        ReportFilterForm(request.GET), title=_("Staff report"), stem="academy-report", kind="xlsx", verification=True
    )


@never_cache
@login_required
@require_GET
def funder_report(request):
    """The form to choose a programme and period; once chosen, the printable PDF."""
    _staff(request)
    if "programme" not in request.GET:
        return render(request, "reports/funder_form.html", {"form": FunderReportForm(None)})
    form = FunderReportForm(request.GET)
    if not form.is_valid():
        return render(request, "reports/funder_form.html", {"form": form})
    scope = form.scope()
    report = selectors.report(scope, verification=False, stalled_limit=0)
    parts = [
        part for part in sections.report_sections(report) if part.key != "stalled"
    ]  # a funder sees figures, never names
    pdf = downloads.funder_pdf(
        {"scope": scope, "report": report, "sections": parts, "heading": _heading(scope, _("Funder report"))}
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{_file_name(scope, f"funder-report-{scope.programme.slug}", "pdf")}"'
    )
    return response


# --- A partner organisation's own report ------------------------------------------------------------


@never_cache
@login_required
@require_GET
def partner_report(request, org_slug):
    organisation = _organisation(request, org_slug)
    return _page(
        request,
        ReportFilterForm(request.GET, organisation=organisation),
        template="reports/partner_report.html",
        title=_("Report for %(organisation)s") % {"organisation": organisation.name},
        verification=False,
        organisation=organisation,
    )


def _partner_download(request, org_slug, kind):
    organisation = _organisation(request, org_slug)
    return _download(
        ReportFilterForm(request.GET, organisation=organisation),
        title=_("Report for %(organisation)s") % {"organisation": organisation.name},
        stem=f"{organisation.slug}-report",
        kind=kind,
        verification=False,
    )


@never_cache
@login_required
@require_GET
def partner_report_csv(request, org_slug):
    return _partner_download(request, org_slug, "csv")


@never_cache
@login_required
@require_GET
def partner_report_xlsx(request, org_slug):
    return _partner_download(request, org_slug, "xlsx")
