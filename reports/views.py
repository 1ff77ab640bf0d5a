"""The learner's own equality-monitoring pages: the questions (always skippable), their answers
and withdrawing consent. Only ever about the signed-in person: no URL names anyone else.

The report pages are in ``reports.views_reports``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors_monitoring, services
from .forms import EqualityMonitoringForm
from .services import ANSWER_FIELDS


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def equality_questions(request):
    """The signed-in person: answer the optional questions (with consent), or skip them."""
    if request.method == "POST" and "skip" in request.POST:
        services.equality_monitoring_skip(learner=request.user)
        messages.info(request, _("You will not be asked these questions again."))
        return redirect("home")
    existing = selectors_monitoring.own_answers(request.user)
    initial = {field: getattr(existing, field) for field in ANSWER_FIELDS} if existing else {}
    form = EqualityMonitoringForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.equality_answers_save(learner=request.user, answers=form.answers(), consent=True)
        messages.success(request, _("Thank you. Your answers are saved: you can see or withdraw them here."))
        return redirect("reports:equality_answers")
    return render(request, "reports/monitoring/questions.html", {"form": form, "answering_again": bool(existing)})


@never_cache
@login_required
@require_http_methods(["GET"])
def equality_answers(request):
    """The signed-in person: their own answers, and the button to withdraw consent."""
    answers = selectors_monitoring.own_answers(request.user)
    rows = (
        [(answers._meta.get_field(field).verbose_name, _display(answers, field)) for field in ANSWER_FIELDS]
        if answers
        else []
    )
    return render(
        request,
        "reports/monitoring/answers.html",
        {"answers": answers, "rows": rows, "invitation": selectors_monitoring.own_invitation(request.user)},
    )


def _display(answers, field: str) -> str:
    if field == "postcode_district":
        value = answers.postcode_district
        return value if value and value != "prefer_not_to_say" else _("Prefer not to say")
    return getattr(answers, f"get_{field}_display")()


@never_cache
@login_required
@require_POST
def equality_withdraw(request):
    """The signed-in person: withdraw consent; their answers are deleted."""
    services.equality_consent_withdraw(learner=request.user)
    messages.success(request, _("Your answers have been deleted. You will not be asked again."))
    return redirect("reports:equality_answers")
