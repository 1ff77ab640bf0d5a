"""Forms of the programmes app: the facilitator's progress grid, inviting learners to a cohort."""

import re

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from academy.models import User
from academy.names import name_clean

NAME_MAX_LENGTH = User._meta.get_field("full_name").max_length


class CohortProgressForm(forms.Form):
    """The grid's boxes arrive as ``tick=<enrolment>-<competency>``; each learner's row also sends
    ``before-<enrolment>`` with what was ticked when the page was drawn, so only what this person
    changed is saved (a colleague's ticks made meanwhile are never undone by accident). A locked
    box (an issued certificate) is sent as a hidden ``tick``, so it is never undone by omission.
    ``posted`` and ``before`` let the page be drawn again as the person left it."""

    evidence = forms.CharField(
        label=_("Evidence note for the boxes you have just ticked (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: “Role-play interview, session 4”."),
    )

    def __init__(self, *args, grid, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid = grid

    def clean(self):
        cleaned = super().clean()
        enrolment_ids = {row.enrolment.pk for row in self.grid.rows}
        competency_ids = {c.pk for c in self.grid.competencies}
        posted: set[tuple[int, int]] = set()
        for value in self.data.getlist("tick"):
            match = re.fullmatch(r"(\d+)-(\d+)", value)
            if not match:
                raise forms.ValidationError(_("The form was not sent correctly. Reload the page and try again."))
            pair = (int(match[1]), int(match[2]))
            if pair[0] not in enrolment_ids or pair[1] not in competency_ids:
                raise forms.ValidationError(
                    _("This cohort's learners or competencies changed while you were working. Reload the page.")
                )
            posted.add(pair)
        before: set[tuple[int, int]] = set()
        before_by_row: dict[int, list[int]] = {}
        for enrolment_id in enrolment_ids:
            raw = self.data.get(f"before-{enrolment_id}")
            if raw is None:
                continue
            before_by_row[enrolment_id] = []
            for part in filter(None, raw.split(",")):
                if not part.isdigit():
                    raise forms.ValidationError(_("The form was not sent correctly. Reload the page and try again."))
                before.add((enrolment_id, int(part)))
                before_by_row[enrolment_id].append(int(part))
        shown_rows = set(before_by_row)
        cleaned["posted"] = {p for p in posted if p[0] in shown_rows}
        cleaned["before"] = before_by_row
        cleaned["ticks"] = {p for p in posted - before if p[0] in shown_rows}
        cleaned["unticks"] = {p for p in before - posted if p[1] in competency_ids}
        return cleaned


class CohortInviteForm(forms.Form):
    """One or several people: one per line, "Full name, email" (or "email, Full name")."""

    people = forms.CharField(
        label=_("People to invite"),
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off"}),
        help_text=_("One person per line: their full name, a comma, then their email address."),
    )

    def clean_people(self):
        people = []
        seen = set()
        errors = []
        for number, line in enumerate(self.cleaned_data["people"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split(",")]
            emails = [p for p in parts if "@" in p]
            names = [p for p in parts if "@" not in p and p]
            if len(parts) != 2 or len(emails) != 1 or len(names) != 1:
                errors.append(_("Line %(n)s: write the full name, a comma, then the email address.") % {"n": number})
                continue
            try:
                validate_email(emails[0])
            except forms.ValidationError:
                errors.append(_("Line %(n)s: “%(email)s” is not an email address.") % {"n": number, "email": emails[0]})
                continue
            try:
                name = name_clean(names[0])
                if len(name) > NAME_MAX_LENGTH:
                    raise forms.ValidationError(
                        _("The name is longer than %(max)s characters. Shorten it.") % {"max": NAME_MAX_LENGTH}
                    )
            except forms.ValidationError as exc:
                errors.extend(_("Line %(n)s: %(problem)s") % {"n": number, "problem": m} for m in exc.messages)
                continue
            email = emails[0].lower()
            if email in seen:
                errors.append(_("Line %(n)s: %(email)s is listed twice.") % {"n": number, "email": email})
                continue
            seen.add(email)
            people.append((name, email))
        if errors:
            raise forms.ValidationError(errors)
        if not people:
            raise forms.ValidationError(_("Add at least one person."))
        return people
