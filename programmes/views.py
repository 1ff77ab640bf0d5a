"""Facilitators' and staff's pages: the cohort progress grid, inviting learners to a cohort."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .forms import CohortInviteForm, CohortProgressForm
from .models import Cohort


@login_required
@require_http_methods(["GET", "POST"])
def cohort_progress(request, cohort_id: int):
    """Staff and the cohort's facilitators: see and record which learners have shown which
    competencies. Everyone else gets 404 (anonymous visitors are sent to sign in)."""
    cohort = selectors.cohort_for_facilitator(user=request.user, cohort_id=cohort_id)
    if cohort is None:
        raise Http404
    grid = selectors.cohort_progress_grid(cohort=cohort)
    form = CohortProgressForm(request.POST or None, grid=grid)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.cohort_progress_save(
                cohort=cohort,
                ticks=form.cleaned_data["ticks"],
                unticks=form.cleaned_data["unticks"],
                recorded_by=request.user,
                evidence=form.cleaned_data["evidence"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            _announce(request, result)
            return redirect("programmes:cohort_progress", cohort_id=cohort.pk)
    return render(request, "programmes/cohort_progress.html", {"cohort": cohort, "grid": grid, "form": form})


def _announce(request, result) -> None:
    if not (result["recorded"] or result["removed"]):
        messages.info(request, _("Nothing changed: no boxes were ticked or unticked."))
        return
    parts = []
    if result["recorded"]:
        parts.append(ngettext("%(n)d achievement recorded.", "%(n)d achievements recorded.", result["recorded"]))
        parts[-1] = parts[-1] % {"n": result["recorded"]}
    if result["removed"]:
        parts.append(ngettext("%(n)d achievement undone.", "%(n)d achievements undone.", result["removed"]))
        parts[-1] = parts[-1] % {"n": result["removed"]}
    messages.success(request, " ".join(parts))
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
