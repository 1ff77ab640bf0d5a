"""Core pages: the home page, the health check, accepting an invitation, the profile."""

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView, redirect_to_login
from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from programmes import selectors as programme_selectors

from . import services
from .context_processors import user_is_partner
from .forms import InvitationRequestForm, ProfileForm, WelcomeSetPasswordForm
from .tokens import invitation_token_generator


def _certificates_by_enrolment(enrolment_ids: list[int]) -> dict:
    """The certificate (if any) of each enrolment, in one query."""
    from certificates.models import Certificate

    if not enrolment_ids:
        return {}
    return {
        c.enrolment_id: c
        for c in Certificate.objects.filter(enrolment_id__in=enrolment_ids).only(
            "id", "enrolment_id", "status", "verification_code", "version", "issued_at", "revoked_at"
        )
    }


@require_GET
def home(request):
    """Anyone: the Academy's front page. A signed-in learner sees their dashboard (their own
    enrolments only); staff, facilitators and partners also see links to their tools."""
    if not request.user.is_authenticated:
        return render(request, "academy/home.html")
    return _dashboard(request)


def _dashboard(request):
    progress = programme_selectors.learner_dashboard(learner=request.user)
    certificates = _certificates_by_enrolment([p.enrolment.pk for p in progress])
    for item in progress:
        item.certificate = certificates.get(item.enrolment.pk)
    context = {
        "progress": progress,
        "facilitated": list(programme_selectors.cohorts_facilitated(user=request.user)[:50]),
        "is_partner": user_is_partner(request),
    }
    return render(request, "academy/dashboard.html", context)


@login_required
@require_GET
def enrolment_detail(request, enrolment_id: int):
    """The learner whose enrolment it is: everything about their progress in one programme.
    Anyone else signed in (another learner, partner, facilitator, even staff) gets 404: staff
    use the admin and facilitators the cohort's grid."""
    item = programme_selectors.learner_enrolment_progress(learner=request.user, enrolment_id=enrolment_id)
    if item is None:
        raise Http404
    item.certificate = _certificates_by_enrolment([item.enrolment.pk]).get(item.enrolment.pk)
    return render(request, "academy/enrolment_detail.html", {"item": item})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in person, about themselves only: the name printed on certificates (a change
    after a certificate was issued asks staff to reissue), and a link to download their data."""
    from .models import NameChangeRequest

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
    return render(request, "academy/profile.html", {"form": form, "pending_request": pending})


def _personal_data(user) -> dict:
    """Everything the Academy holds about ``user``, as plain JSON-ready data (bounded queries)."""
    from allauth.account.models import EmailAddress

    from certificates.models import Certificate
    from partners.models import PartnerMembership
    from programmes.models import Achievement, Enrolment

    from .models import NameChangeRequest

    def when(value):
        return value.isoformat() if value else None

    enrolments = list(Enrolment.objects.filter(learner=user).select_related("cohort", "cohort__partner", "programme"))
    achievements = Achievement.objects.filter(enrolment__learner=user).select_related("competency", "recorded_by")
    by_enrolment: dict[int, list] = {}
    for a in achievements:
        by_enrolment.setdefault(a.enrolment_id, []).append(
            {
                "competency": a.competency.statement,
                "achieved_on": when(a.achieved_on),
                "recorded_by": a.recorded_by.full_name if a.recorded_by else None,
                "evidence": a.evidence,
            }
        )
    certificates = {c.enrolment_id: c for c in Certificate.objects.filter(enrolment__learner=user)}
    return {
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "date_joined": when(user.date_joined),
            "last_login": when(user.last_login),
            "is_staff": user.is_staff,
            "email_addresses": [
                {"email": e.email, "verified": e.verified, "primary": e.primary}
                for e in EmailAddress.objects.filter(user=user)
            ],
        },
        "partner_memberships": [
            {"organisation": m.organisation.name, "role": m.role, "since": when(m.created_at)}
            for m in PartnerMembership.objects.filter(user=user).select_related("organisation")
        ],
        "cohorts_facilitated": [
            {"cohort": c.name, "programme": c.programme.title}
            for c in programme_selectors.cohorts_facilitated(user=user)
        ],
        "enrolments": [
            {
                "programme": e.programme.title,
                "cohort": e.cohort.name,
                "partner": e.cohort.partner.name,
                "venue": e.cohort.venue,
                "starts_on": when(e.cohort.starts_on),
                "ends_on": when(e.cohort.ends_on),
                "status": e.status,
                "enrolled_at": when(e.enrolled_at),
                "completed_at": when(e.completed_at),
                "withdrawn_at": when(e.withdrawn_at),
                "achievements": by_enrolment.get(e.pk, []),
                "certificate": (
                    {
                        "verification_code": certificates[e.pk].verification_code,
                        "status": certificates[e.pk].status,
                        "version": certificates[e.pk].version,
                        "name_on_certificate": certificates[e.pk].learner_name,
                        "issued_at": when(certificates[e.pk].issued_at),
                        "revoked_at": when(certificates[e.pk].revoked_at),
                    }
                    if e.pk in certificates
                    else None
                ),
            }
            for e in enrolments
        ],
        "name_change_requests": [
            {
                "requested_name": r.requested_name,
                "reason": r.reason,
                "status": r.status,
                "asked": when(r.created_at),
            }
            for r in NameChangeRequest.objects.filter(user=user)
        ],
    }


@never_cache
@login_required
@require_GET
def personal_data(request):
    """The signed-in person only: download everything the Academy holds about them as JSON."""
    response = JsonResponse(_personal_data(request.user), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = 'attachment; filename="my-academy-data.json"'
    return response


def _broker_answers() -> bool:
    from academy.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return True


@never_cache
@require_GET
def healthz(request):
    """Anyone (load balancers): 200 only when the database and, if configured, the broker answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.CELERY_BROKER_URL:
        try:
            _broker_answers()
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


class WelcomeView(PasswordResetConfirmView):
    """Anyone holding a valid invitation link: choose a first password, then be signed in.

    Like Django's password reset, the token is moved into the session and the address rewritten,
    so it never leaks through the Referer header. An expired or used link renders a plain page
    with a form to ask for a new one.
    """

    form_class = WelcomeSetPasswordForm
    token_generator = invitation_token_generator
    template_name = "academy/welcome.html"
    reset_url_token = "set-password"  # noqa: S105 - a URL segment, not a secret
    success_url = reverse_lazy("home")
    post_reset_login = False  # we sign the learner in ourselves, after the service has run

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # Only accounts still waiting for their first password can use an invitation link.
        if user is not None and (user.has_usable_password() or not user.is_active):
            return None
        return user

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["request_form"] = InvitationRequestForm()
        return context

    def form_valid(self, form):
        user = services.learner_invitation_accept(user=form.user, password=form.cleaned_data["new_password1"])
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        auth_login(self.request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_request(request):
    """Anyone: ask for a new invitation link by email address. The answer is the same whether
    or not the address has an invitation (no account enumeration); rate limited per address and
    per IP address (``ACCOUNT_RATE_LIMITS["invitation_request"]``)."""
    form = InvitationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if not ratelimit.consume(request, action="invitation_request", key=email):
            return render(request, "academy/invitation_request.html", {"form": form, "limited": True}, status=429)
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is not None and not user.has_usable_password():
            services.learner_invitations_queue(learners=[user])
        return render(request, "academy/invitation_request_done.html")
    return render(request, "academy/invitation_request.html", {"form": form})


@never_cache
def admin_login(request, extra_context=None):
    """Anyone: the admin's own sign-in form is replaced by allauth's, so staff sign in through
    the same rate limits, email verification and codes as everyone else. ``?next=`` is kept."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME) or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    return redirect_to_login(next_url or reverse("admin:index"), login_url=reverse("account_login"))


@login_required
@require_http_methods(["GET", "POST"])
def name_change_requests(request):
    """Staff only: learners' requests to correct the name on an issued certificate. Approving
    corrects the account's name; the certificate is then reissued from the certificates admin.
    Anyone else signed in gets 404."""
    from .models import NameChangeRequest

    if not request.user.is_staff:
        raise Http404
    if request.method == "POST":
        req = NameChangeRequest.objects.filter(pk=request.POST.get("request_id")).first()
        decision = request.POST.get("decision")
        if req is None or decision not in {"approve", "decline"}:
            raise Http404
        services.name_change_request_resolve(
            name_change_request=req,
            resolved_by=request.user,
            approve=decision == "approve",
            staff_note=request.POST.get("staff_note", ""),
        )
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
    return render(request, "academy/name_change_requests.html", {"open_requests": open_requests, "recent": recent})
