"""The partner portal. Thin views: selectors read, services write.

Every page and export is personal (names, email addresses, progress): ``never_cache`` sends
``Cache-Control: private, no-store`` (and ``no-cache``) so no browser or shared cache keeps it.

Who may see what (``portal/tests/test_permissions.py`` walks every URL for every role):
- anonymous visitors are sent to sign in;
- people with no partner membership (learners) get 404 everywhere;
- viewers read their own organisations' pages; every page that changes something gives them 403
  with a page saying they can look but not change (academy.permissions.ReadOnlyAccess);
- coordinators read and act on their own organisations' cohorts and learners;
- staff read and act on every organisation's pages, as a coordinator would;
- anything of another organisation gives 404;
- a pending upload (preview and confirm) belongs to the person who uploaded it: 404 for anyone else.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from academy.permissions import ReadOnlyAccess
from partners import selectors as partner_selectors
from programmes import selectors as programme_selectors
from programmes import services as programme_services
from programmes.models import Enrolment
from programmes.services import enrolment_reinstate, enrolment_withdraw

from . import exports, imports, selectors, services
from .forms import CohortForm, LearnerForm, LearnerFormSet, UploadForm

GET_POST = require_http_methods(["GET", "POST"])


def _posted(request):
    """The submitted data, or None for GET (an empty POST is still a submission to check)."""
    return request.POST if request.method == "POST" else None


def _cohort(request, cohort_id, *, write=False):
    cohort = selectors.cohorts_for(user=request.user, write=write).filter(pk=cohort_id).first()
    if cohort is None and write:
        # A viewer of the cohort's own organisation is told they can look but not change (403);
        # anyone else still gets 404, so nobody learns that another organisation's cohort exists.
        readable = selectors.cohorts_for(user=request.user).filter(pk=cohort_id).first()
        if readable is not None:
            raise ReadOnlyAccess(
                organisation_name=readable.partner.name,
                back_url=reverse("partners:cohort_detail", kwargs={"cohort_id": readable.pk}),
            )
    if cohort is None:
        raise Http404
    return cohort


def _enrolment(cohort, enrolment_id):
    return get_object_or_404(Enrolment.objects.select_related("learner", "cohort"), pk=enrolment_id, cohort=cohort)


def _cohort_context(request, cohort, **extra):
    return {
        "cohort": cohort,
        "organisation": cohort.partner,
        "can_act": partner_selectors.can_act(user=request.user, organisation=cohort.partner),
        **extra,
    }


def _enrolled_message(request, enrolments, cohort):
    messages.success(
        request,
        ngettext(
            "%(count)s learner enrolled in “%(cohort)s”. They will get an email inviting them to set a password.",
            "%(count)s learners enrolled in “%(cohort)s”. They will get an email inviting them to set a password.",
            len(enrolments),
        )
        % {"count": len(enrolments), "cohort": cohort.name},
    )


# --- Organisations and cohorts ------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def portal(request):
    """Members of a partner organisation (any role) and staff: organisations, cohorts, counts."""
    if not partner_selectors.is_member(user=request.user):
        raise Http404
    return render(request, "portal/portal.html", {"organisations": selectors.portal_organisations(user=request.user)})


@never_cache
@login_required
@GET_POST
def cohort_create(request, org_slug):
    """Coordinators of the organisation, and staff: start a cohort."""
    organisation = partner_selectors.organisations_for(user=request.user, write=True).filter(slug=org_slug).first()
    if organisation is None:
        readable = partner_selectors.organisations_for(user=request.user).filter(slug=org_slug).first()
        if readable is not None:  # a viewer: they can look but not change (others get 404)
            raise ReadOnlyAccess(organisation_name=readable.name, back_url=reverse("partners:portal"))
        raise Http404
    form = CohortForm(_posted(request), organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = programme_services.cohort_create(
                organisation=organisation, created_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("Cohort “%(name)s” created. You can now enrol learners.") % {"name": cohort.name}
            )
            return redirect("partners:cohort_detail", cohort_id=cohort.pk)
    return render(request, "portal/cohort_form.html", {"form": form, "organisation": organisation})


@never_cache
@login_required
@GET_POST
def cohort_edit(request, cohort_id):
    """Coordinators of the cohort's organisation, and staff: change the cohort's details."""
    cohort = _cohort(request, cohort_id, write=True)
    form = CohortForm(_posted(request), organisation=cohort.partner, cohort=cohort)
    if request.method == "POST" and form.is_valid():
        try:
            programme_services.cohort_update(cohort=cohort, changed_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Cohort details saved."))
            return redirect("partners:cohort_detail", cohort_id=cohort.pk)
    return render(request, "portal/cohort_form.html", {"form": form, "organisation": cohort.partner, "cohort": cohort})


def _add_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.error_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@never_cache
@login_required
@require_GET
def cohort_detail(request, cohort_id):
    """Members of the cohort's organisation (any role), and staff: the cohort's learners, searched,
    filtered, sorted and in pages of 50 as the GET parameters ask."""
    page = selectors.cohort_page(user=request.user, cohort_id=cohort_id, query=request.GET)
    if page is None:
        raise Http404
    cohort = page.cohort
    context = {
        "cohort": cohort,
        "organisation": cohort.partner,
        "can_act": cohort.can_act,
        "list": page,
        "enrolments": page.enrolments,
        "places_left": max(cohort.capacity - cohort.n_enrolled, 0),
        "status_choices": selectors.STATUS_CHOICES,
        "progress_choices": selectors.PROGRESS_CHOICES,
        "sort_choices": selectors.SORT_CHOICES,
    }
    return render(request, "portal/cohort_detail.html", context)


# --- Enrolling ----------------------------------------------------------------------------------


def _apply_row_errors(forms_by_row, checked):
    """Put the checks' messages next to the fields they are about. Returns True if all is well."""
    ok = True
    for row in checked:
        form = forms_by_row[row["row"]]
        for error in row["errors"]:
            ok = False
            form.add_error(error["field"], error["message"])
    return ok


def _enrol_from_forms(request, cohort, forms):
    """Check the filled-in forms against the cohort, then enrol them all. Returns the
    enrolments, or None when some form now carries an error."""
    forms_by_row = dict(enumerate(forms, start=1))
    rows = [
        {"row": i, "email": f.cleaned_data["email"], "full_name": f.cleaned_data["full_name"]}
        for i, f in forms_by_row.items()
    ]
    if not _apply_row_errors(forms_by_row, programme_selectors.enrolment_rows_check(cohort=cohort, rows=rows)):
        return None
    try:
        return services.learners_enrol(
            cohort=cohort,
            learners=[(r["email"], r["full_name"]) for r in rows],
            enrolled_by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None


def _refuse_if_closed(request, cohort):
    problem = programme_selectors.enrolment_problem(cohort=cohort)
    if problem:
        messages.error(request, problem)
        return redirect("partners:cohort_detail", cohort_id=cohort.pk)
    return None


@never_cache
@login_required
@GET_POST
def enrol_one(request, cohort_id):
    """Coordinators of the cohort's organisation, and staff: enrol one learner."""
    cohort = _cohort(request, cohort_id, write=True)
    if refused := _refuse_if_closed(request, cohort):
        return refused
    form = LearnerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        enrolments = _enrol_from_forms(request, cohort, [form])
        if enrolments:
            _enrolled_message(request, enrolments, cohort)
            return redirect("partners:cohort_detail", cohort_id=cohort.pk)
    return render(request, "portal/enrol_one.html", _cohort_context(request, cohort, form=form))


@never_cache
@login_required
@GET_POST
def enrol_several(request, cohort_id):
    """Coordinators of the cohort's organisation, and staff: enrol up to 50 learners by form."""
    cohort = _cohort(request, cohort_id, write=True)
    if refused := _refuse_if_closed(request, cohort):
        return refused
    formset = LearnerFormSet(_posted(request))
    if request.method == "POST" and formset.is_valid():
        filled = [f for f in formset.forms if f.cleaned_data]
        enrolments = _enrol_from_forms(request, cohort, filled)
        if enrolments:
            _enrolled_message(request, enrolments, cohort)
            return redirect("partners:cohort_detail", cohort_id=cohort.pk)
    return render(request, "portal/enrol_several.html", _cohort_context(request, cohort, formset=formset))


@never_cache
@login_required
@GET_POST
def enrol_upload(request, cohort_id):
    """Coordinators of the cohort's organisation, and staff: upload a CSV or XLSX file. The
    file is read and checked, and the result shown in a preview; nothing is enrolled yet."""
    cohort = _cohort(request, cohort_id, write=True)
    if refused := _refuse_if_closed(request, cohort):
        return refused
    form = UploadForm(_posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        upload = services.enrolment_upload_create(
            cohort=cohort, uploaded_by=request.user, filename=form.cleaned_data["file"].name, rows=form.rows
        )
        return redirect("partners:enrol_preview", cohort_id=cohort.pk, upload_id=upload.pk)
    return render(
        request,
        "portal/enrol_upload.html",
        _cohort_context(
            request,
            cohort,
            form=form,
            max_rows=number_format(imports.max_rows(), force_grouping=True),
            max_bytes=imports.max_bytes(),
            email_headers=["Email address", "Email", "E-mail"],
            name_headers=["Full name", "Name"],
        ),
    )


def _pending_upload(request, cohort, upload_id):
    upload = selectors.upload_for(user=request.user, cohort=cohort, upload_id=upload_id)
    if upload is None:
        raise Http404
    return upload


@never_cache
@login_required
@require_GET
def enrol_preview(request, cohort_id, upload_id):
    """The coordinator (or staff member) who uploaded the file: every row, valid or with its
    errors, and a button to confirm. Anyone else: 404."""
    cohort = _cohort(request, cohort_id, write=True)
    upload = _pending_upload(request, cohort, upload_id)
    if upload.expires_at < timezone.now():
        messages.error(request, _("That preview has expired. Upload the file again."))
        return redirect("partners:enrol_upload", cohort_id=cohort.pk)
    return render(
        request,
        "portal/enrol_preview.html",
        _cohort_context(request, cohort, upload=upload, valid_rows=upload.valid_rows, invalid_rows=upload.invalid_rows),
    )


@never_cache
@login_required
@require_POST
def enrol_confirm(request, cohort_id, upload_id):
    """The person who uploaded the file: enrol every valid row, all or nothing."""
    cohort = _cohort(request, cohort_id, write=True)
    upload = _pending_upload(request, cohort, upload_id)
    try:
        enrolments = services.enrolment_upload_confirm(upload=upload, confirmed_by=request.user)
    except ValidationError as exc:
        messages.error(
            request,
            _("Nothing was saved. Something changed since you checked the file: %(problems)s")
            % {"problems": " ".join(exc.messages)},
        )
        if selectors.upload_for(user=request.user, cohort=cohort, upload_id=upload_id) is None:
            return redirect("partners:enrol_upload", cohort_id=cohort.pk)
        services.enrolment_upload_recheck(upload=upload)
        return redirect("partners:enrol_preview", cohort_id=cohort.pk, upload_id=upload.pk)
    _enrolled_message(request, enrolments, cohort)
    return redirect("partners:cohort_detail", cohort_id=cohort.pk)


@never_cache
@login_required
@require_GET
def enrol_template(request):
    """Members of any partner organisation, and staff: the CSV template to fill in."""
    if not partner_selectors.is_member(user=request.user):
        raise Http404
    return HttpResponse(
        imports.template_csv().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="learners-template.csv"'},
    )


# --- Withdraw and re-send -----------------------------------------------------------------------


@never_cache
@login_required
@GET_POST
def enrolment_withdraw_view(request, cohort_id, enrolment_id):
    """Coordinators of the cohort's organisation, and staff: GET asks first (naming the learner),
    POST withdraws them (kept in history, and can be undone)."""
    cohort = _cohort(request, cohort_id, write=True)
    enrolment = _enrolment(cohort, enrolment_id)
    if request.method == "GET":
        return render(request, "portal/withdraw_confirm.html", _cohort_context(request, cohort, enrolments=[enrolment]))
    try:
        enrolment_withdraw(enrolment=enrolment, withdrawn_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "%(learner)s has been withdrawn from the cohort. Their record is kept: choose “Reinstate” "
                "beside their name to undo this."
            )
            % {"learner": enrolment.learner},
        )
    return redirect("partners:cohort_detail", cohort_id=cohort.pk)


@never_cache
@login_required
@require_POST
def enrolment_reinstate_view(request, cohort_id, enrolment_id):
    """Coordinators of the cohort's organisation, and staff: undo a withdrawal."""
    cohort = _cohort(request, cohort_id, write=True)
    enrolment = _enrolment(cohort, enrolment_id)
    try:
        enrolment = enrolment_reinstate(enrolment=enrolment, reinstated_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(learner)s is back in the cohort (%(status)s).")
            % {"learner": enrolment.learner, "status": enrolment.get_status_display().lower()},
        )
    return redirect("partners:cohort_detail", cohort_id=cohort.pk)


WITHDRAWABLE = (Enrolment.Status.INVITED, Enrolment.Status.ACTIVE)


@never_cache
@login_required
@GET_POST
def enrolments_withdraw_view(request, cohort_id):
    """Coordinators of the cohort's organisation, and staff: withdraw several learners. The
    cohort page's checkboxes open this page (GET), which lists them and asks; POST withdraws
    them all, or none if one cannot be."""
    cohort = _cohort(request, cohort_id, write=True)
    data = request.POST if request.method == "POST" else request.GET
    enrolments = selectors.enrolments_chosen(
        cohort=cohort, enrolment_ids=data.getlist("enrolment"), statuses=WITHDRAWABLE
    )
    error = ""
    if request.method == "POST":
        if enrolments:
            try:
                withdrawn = programme_services.enrolments_withdraw(
                    cohort=cohort, enrolment_ids=[e.pk for e in enrolments], withdrawn_by=request.user
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)s learner has been withdrawn. Their record is kept: choose “Reinstate” beside "
                        "a name to undo this.",
                        "%(count)s learners have been withdrawn. Their records are kept: choose “Reinstate” "
                        "beside a name to undo this.",
                        len(withdrawn),
                    )
                    % {"count": len(withdrawn)},
                )
                return redirect("partners:cohort_detail", cohort_id=cohort.pk)
        else:
            error = _("Nobody was withdrawn: choose at least one learner who is invited or taking part.")
    return render(
        request,
        "portal/withdraw_confirm.html",
        _cohort_context(request, cohort, enrolments=enrolments, bulk=True, error=error),
    )


@never_cache
@login_required
@GET_POST
def invitations_resend_all(request, cohort_id):
    """Coordinators of the cohort's organisation, and staff: GET lists the learners whose
    invitation is still pending and asks; POST sends each of them a fresh invitation."""
    from academy.services import learner_invitations_queue

    cohort = _cohort(request, cohort_id, write=True)
    pending = list(
        selectors.pending_invitations(cohort=cohort).select_related("learner").order_by("learner__full_name")
    )
    if request.method == "POST":
        if pending:
            learner_invitations_queue(learners=[e.learner_id for e in pending], invited_by=request.user)
            sent = len(pending)
            messages.success(
                request,
                ngettext(
                    "A new invitation is on its way to %(count)s learner.",
                    "New invitations are on their way to %(count)s learners.",
                    sent,
                )
                % {"count": sent},
            )
        else:
            messages.error(request, _("Nobody is waiting for an invitation, so none was sent."))
        return redirect("partners:cohort_detail", cohort_id=cohort.pk)
    return render(request, "portal/resend_confirm.html", _cohort_context(request, cohort, enrolments=pending))


@never_cache
@login_required
@require_POST
def invitation_resend(request, cohort_id, enrolment_id):
    """Coordinators of the cohort's organisation, and staff: send a learner a fresh invitation."""
    from academy.services import learner_invitation_resend

    cohort = _cohort(request, cohort_id, write=True)
    enrolment = _enrolment(cohort, enrolment_id)
    learner = enrolment.learner
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        messages.error(request, _("%(learner)s has been withdrawn, so no invitation was sent.") % {"learner": learner})
    elif learner.has_usable_password():
        messages.error(
            request,
            _(
                "%(learner)s has already set up their account, so no invitation was sent. They can sign in, "
                "or reset their password from the sign-in page."
            )
            % {"learner": learner},
        )
    else:
        learner_invitation_resend(learner=learner, invited_by=request.user)
        messages.success(request, _("A new invitation is on its way to %(email)s.") % {"email": learner.email})
    return redirect("partners:cohort_detail", cohort_id=cohort.pk)


# --- Progress -----------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def cohort_progress(request, cohort_id):
    """Members of the cohort's organisation (any role), and staff: learners × domains."""
    cohort = _cohort(request, cohort_id)
    return render(
        request,
        "portal/cohort_progress.html",
        _cohort_context(request, cohort, progress=selectors.cohort_progress(cohort=cohort)),
    )


@never_cache
@login_required
@require_GET
def learner_progress(request, cohort_id, enrolment_id):
    """Members of the cohort's organisation (any role), and staff: one learner's competencies."""
    cohort = _cohort(request, cohort_id)
    enrolment = _enrolment(cohort, enrolment_id)
    return render(
        request,
        "portal/learner_progress.html",
        _cohort_context(
            request,
            cohort,
            enrolment=enrolment,
            domains=selectors.enrolment_progress(enrolment=enrolment),
            history=selectors.enrolment_history(enrolment=enrolment),
        ),
    )


def _export_name(cohort, extension):
    return f"{slugify(cohort.name) or 'cohort'}-progress-{timezone.localdate().isoformat()}.{extension}"


@never_cache
@login_required
@require_GET
def progress_csv(request, cohort_id):
    """Members of the cohort's organisation (any role), and staff: progress as CSV."""
    cohort = _cohort(request, cohort_id)
    return HttpResponse(
        exports.progress_csv(selectors.cohort_progress(cohort=cohort)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(cohort, "csv")}"'},
    )


@never_cache
@login_required
@require_GET
def progress_xlsx(request, cohort_id):
    """Members of the cohort's organisation (any role), and staff: progress as an Excel workbook."""
    cohort = _cohort(request, cohort_id)
    return HttpResponse(
        exports.progress_xlsx(selectors.cohort_progress(cohort=cohort)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(cohort, "xlsx")}"'},
    )
