"""Facilitators' and staff's pages: the cohort progress grid, one learner's checklist, inviting
learners to a cohort."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .forms import CohortInviteForm, CohortProgressForm
from .models import Cohort


def _domain_param(request) -> int | None:
    raw = request.GET.get("domain", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _facilitated_cohort(request, cohort_id: int):
    cohort = selectors.cohort_for_facilitator(user=request.user, cohort_id=cohort_id)
    if cohort is None:
        raise Http404
    return cohort


@login_required
@require_http_methods(["GET", "POST"])
def cohort_progress(request, cohort_id: int):
    """Staff and the cohort's facilitators: see and record which learners have shown which
    competencies (``?domain=<id>`` shows one domain). Everyone else gets 404 (anonymous visitors
    are sent to sign in)."""
    cohort = _facilitated_cohort(request, cohort_id)
    domain_id = _domain_param(request)
    grid = selectors.cohort_progress_grid(cohort=cohort, domain_id=domain_id)
    here = reverse("programmes:cohort_progress", args=[cohort.pk])
    if grid.domain is not None:
        here += "?" + urlencode({"domain": grid.domain.pk})
    return _progress_page(request, cohort, grid, "programmes/cohort_progress.html", here)


@login_required
@require_http_methods(["GET", "POST"])
def learner_checklist(request, cohort_id: int, enrolment_id: int):
    """One learner's competencies, grouped by domain, as a checklist that works on a phone: the
    same people as the grid (staff and the cohort's facilitators), the same save. A learner who
    is not taking part in this cohort (another cohort's, withdrawn, unknown) is 404."""
    cohort = _facilitated_cohort(request, cohort_id)
    grid = selectors.cohort_progress_grid(cohort=cohort, enrolment_id=enrolment_id)
    if not grid.rows:
        raise Http404
    here = reverse("programmes:learner_checklist", args=[cohort.pk, enrolment_id])
    return _progress_page(request, cohort, grid, "programmes/learner_checklist.html", here)


def _progress_page(request, cohort, grid, template: str, here: str):
    """The grid's and the checklist's form: save, or first ask before undoing achievements, or
    draw the boxes again as they were left (errors, "go back", a row or column ticked)."""
    form = CohortProgressForm(request.POST or None, grid=grid)
    context = {"cohort": cohort, "grid": grid, "form": form, "here": here}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        grid.show_posted(posted=data["posted"], before=data["before"])
        if "back" in request.POST:
            return render(request, template, context)
        if "tick_row" in request.POST or "tick_column" in request.POST:
            _tick_all(request, grid)
            return render(request, template, context)
        removals = grid.removals(data["unticks"])
        if removals and "confirm" not in request.POST and not any(row.locked for row, _cells in removals):
            context["removals"] = removals
            context["removal_count"] = sum(len(cells) for _row, cells in removals)
            context["posted"] = sorted(
                data["posted"] | {(r.enrolment.pk, c.competency.pk) for r in grid.rows for c in r.cells if c.locked}
            )
            return render(request, "programmes/progress_confirm.html", context)
        try:
            result = services.cohort_progress_save(
                cohort=cohort,
                ticks=data["ticks"],
                unticks=data["unticks"],
                recorded_by=request.user,
                evidence=data["evidence"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            _announce(request, result)
            return redirect(here)
    return render(request, template, context)


def _tick_all(request, grid) -> None:
    """Without JavaScript, "Tick all" buttons draw the page again with a row or column ticked."""
    raw = request.POST.get("tick_row") or request.POST.get("tick_column") or ""
    if not raw.isdigit() or len(raw) > 12:
        messages.error(request, _("The form was not sent correctly. Reload the page and try again."))
        return
    if "tick_row" in request.POST:
        row = grid.tick_row(int(raw))
        if row is not None:
            messages.info(
                request,
                _("Every box for %(learner)s is ticked. Nothing is saved until you press “Save progress”.")
                % {"learner": row.enrolment.learner.full_name or row.enrolment.learner.email},
            )
            return
    else:
        competency = grid.tick_column(int(raw))
        if competency is not None:
            messages.info(
                request,
                _("“%(competency)s” is ticked for every learner. Nothing is saved until you press “Save progress”.")
                % {"competency": competency.statement},
            )
            return
    messages.error(
        request, _("This cohort's learners or competencies changed while you were working. Reload the page.")
    )


MAX_NAMED = 10


def _announce(request, result) -> None:
    """Say what changed, naming the learners: "Saved: 3 achievements recorded for Amira Okafor,
    1 removed for Tom Baker." """
    if not result["changes"]:
        messages.info(request, _("Nothing changed: no boxes were ticked or unticked."))
        return
    parts = []
    for change in result["changes"][:MAX_NAMED]:
        learner = change["enrolment"].learner
        who = learner.full_name or learner.email
        recorded, removed = change["recorded"], change["removed"]
        if recorded and removed:
            part = ngettext(
                "%(n)d achievement recorded and %(m)d removed for %(learner)s",
                "%(n)d achievements recorded and %(m)d removed for %(learner)s",
                recorded,
            )
        elif recorded:
            part = ngettext(
                "%(n)d achievement recorded for %(learner)s", "%(n)d achievements recorded for %(learner)s", recorded
            )
        else:
            part = ngettext(
                "%(m)d achievement removed for %(learner)s", "%(m)d achievements removed for %(learner)s", removed
            )
        parts.append(part % {"n": recorded, "m": removed, "learner": who})
    more = len(result["changes"]) - MAX_NAMED
    if more > 0:
        parts.append(ngettext("and %(n)d more learner", "and %(n)d more learners", more) % {"n": more})
    messages.success(request, _("Saved: %(changes)s.") % {"changes": ", ".join(parts)})
    for enrolment in result["completed"]:
        messages.success(
            request,
            _("%(learner)s has now completed the programme. Their certificate is being prepared.")
            % {"learner": enrolment.learner},
        )
    for enrolment in result["reopened"]:
        messages.warning(
            request, _("%(learner)s is no longer complete: a competency was undone.") % {"learner": enrolment.learner}
        )


@login_required
@require_http_methods(["GET", "POST"])
def cohort_invite(request, cohort_id: int):
    """Staff only: invite one or several people to this cohort (creating their accounts if needed)
    and enrol them, all or nothing. Anyone else signed in gets 404."""
    from academy.services import learner_invite

    if not request.user.is_staff:
        raise Http404
    cohort = get_object_or_404(Cohort.objects.select_related("programme", "partner"), pk=cohort_id)
    form = CohortInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                for full_name, email in form.cleaned_data["people"]:
                    learner = learner_invite(email=email, full_name=full_name, invited_by=request.user)
                    services.enrolment_create(learner=learner, cohort=cohort, enrolled_by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("people", message)
        else:
            count = len(form.cleaned_data["people"])
            messages.success(
                request,
                ngettext("%(n)d person invited to %(cohort)s.", "%(n)d people invited to %(cohort)s.", count)
                % {"n": count, "cohort": cohort.name},
            )
            return redirect("programmes:cohort_invite", cohort_id=cohort.pk)
    return render(request, "programmes/cohort_invite.html", {"cohort": cohort, "form": form})
