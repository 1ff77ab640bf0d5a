"""The learner's own pages: the dashboard, an enrolment's page, the profile (the name printed on
certificates), the personal data download; and the staff page that deals with name changes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from academy import personal_data as personal_data_sections
from academy import services as account_services
from academy import views as academy_views
from academy.models import NameChangeRequest
from certificates import selectors as certificate_selectors
from certificates import share as certificate_share
from programmes import selectors as programme_selectors

from . import exports, selectors, services
from .forms import ProfileForm


@require_GET
def home(request):
    """Anyone: the Academy's front page. A signed-in learner sees their dashboard (their own
    enrolments only); staff, facilitators and partners also see links to their tools."""
    if not request.user.is_authenticated:
        return academy_views.home(request, open_programmes=selectors.open_programmes())
    return _dashboard(request)


def _shares_attach(progress) -> None:
    """Give each item with an issued certificate ``share`` (its links: public page, LinkedIn,
    badge, credential) and ``share_has_credential``; the others get ``share = None``. Reads only
    the certificates already loaded (no query)."""
    for item in progress:
        certificate = item.certificate
        issued = certificate is not None and certificate.status == "issued"
        item.share = (
            certificate_share.certificate_share(certificate, programme_title=certificate.programme_title)
            if issued
            else None
        )
        item.share_has_credential = issued and bool(certificate.credential_sha256)


@never_cache
def _dashboard(request):
    """The signed-in person's dashboard: personal, so never kept by a browser or proxy cache."""
    progress = programme_selectors.learner_dashboard(learner=request.user)
    certificates = certificate_selectors.certificates_by_enrolment([p.enrolment.pk for p in progress])
    for item in progress:
        item.certificate = certificates.get(item.enrolment.pk)
    _shares_attach(progress)
    context = {
        "progress": progress,
        "facilitated": list(programme_selectors.cohorts_facilitated(user=request.user)[:50]),
    }
    return render(request, "learners/dashboard.html", context)


@never_cache
@login_required
@require_GET
def enrolment_detail(request, enrolment_id: int):
    """The learner whose enrolment it is: everything about their progress in one programme.
    Anyone else signed in (another learner, partner, facilitator, even staff) gets 404: staff
    use the admin and facilitators the cohort's grid."""
    item = programme_selectors.learner_enrolment_progress(learner=request.user, enrolment_id=enrolment_id)
    if item is None:
        raise Http404
    item.certificate = certificate_selectors.certificates_by_enrolment([item.enrolment.pk]).get(item.enrolment.pk)
    _shares_attach([item])
    return render(request, "learners/enrolment_detail.html", {"item": item})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in person, about themselves only: the name printed on certificates (a change
    after a certificate was issued asks staff to reissue), and a link to download their data."""
    form = ProfileForm(request.POST or None, initial={"full_name": request.user.full_name})
    if request.method == "POST" and form.is_valid():
        outcome = services.profile_name_change(
            user=request.user, full_name=form.cleaned_data["full_name"], reason=form.cleaned_data["reason"]
        )
        if outcome == "changed":
            messages.success(request, _("Your name has been saved. Certificates will show it like this."))
        elif outcome == "requested":
            messages.success(
                request,
                _(
                    "Thank you. Your certificate has already been issued, so we have asked the Academy's staff "
                    "to correct your name and reissue it. We will email you when it is done."
                ),
            )
        else:
            messages.info(request, _("Your name has not changed."))
        return redirect("profile")
    pending = NameChangeRequest.objects.filter(user=request.user, status=NameChangeRequest.Status.OPEN).first()
    return render(request, "learners/profile.html", {"form": form, "pending_request": pending})


@never_cache
@login_required
@require_GET
def personal_data(request):
    """The signed-in person only: download everything the Academy holds about them as JSON."""
    response = JsonResponse(
        personal_data_sections.collect(request.user), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = 'attachment; filename="my-academy-data.json"'
    return response


@never_cache
@login_required
@require_GET
def personal_data_csv(request):
    """The signed-in person only: the same data as a CSV file, one row per value (formula-safe)."""
    response = HttpResponse(
        exports.personal_data_csv(personal_data_sections.collect(request.user)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="my-academy-data.csv"'
    return response


@never_cache
@login_required
@require_GET
def personal_data_pdf(request):
    """The signed-in person only: the same data as a readable PDF (bundled fonts)."""
    pdf = exports.personal_data_pdf(personal_data_sections.collect(request.user), user=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="my-academy-data.pdf"'
    return response


def _name_change_request(value) -> NameChangeRequest | None:
    """The request a staff form names by its id, or None for anything that is not one (``abc``,
    a number too big for the database, a negative number)."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return NameChangeRequest.objects.filter(pk=int(value)).first()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def name_change_requests(request):
    """Staff only: learners' requests to correct the name on an issued certificate. Approving
    corrects the account's name; the certificate is then reissued from the certificates admin.
    Anyone else signed in gets 404."""
    if not request.user.is_staff:
        raise Http404
    if request.method == "POST":
        req = _name_change_request(request.POST.get("request_id"))
        decision = request.POST.get("decision")
        if req is None or decision not in {"approve", "decline"}:
            raise Http404
        try:
            account_services.name_change_request_resolve(
                name_change_request=req,
                resolved_by=request.user,
                approve=decision == "approve",
                staff_note=request.POST.get("staff_note", ""),
            )
        except ValidationError as error:  # the requested name breaks the rule of names
            messages.error(
                request,
                _("Not approved: %(problem)s Decline the request and ask the learner for the name again.")
                % {"problem": " ".join(error.messages)},
            )
            return redirect("name_change_requests")
        if decision == "approve":
            messages.success(
                request,
                _("%(name)s's name is corrected. Now reissue their certificate from the certificates admin.")
                % {"name": req.requested_name},
            )
        else:
            messages.info(request, _("The request has been declined."))
        return redirect("name_change_requests")
    open_requests = NameChangeRequest.objects.filter(status=NameChangeRequest.Status.OPEN).select_related("user")
    recent = (
        NameChangeRequest.objects.exclude(status=NameChangeRequest.Status.OPEN)
        .select_related("user", "resolved_by")
        .order_by("-resolved_at")[:20]
    )
    return render(request, "learners/name_change_requests.html", {"open_requests": open_requests, "recent": recent})
