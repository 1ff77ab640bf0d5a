"""Admin building blocks every app's admin may use: a crafted id never reaches a query.

The admin takes object ids from the URL (history pages) and from the POST (the ids an action is
applied to, the value of an autocomplete field). Django's own change and delete views check the id
first; these mixins give the same care to the places that do not, so a staff member who follows a
broken link or a tampered form gets a page with a message instead of a server error:

- ``BadIdsMixin`` (for ``ModelAdmin`` classes, also django-simple-history's): a history page for an
  id that is not one goes back to the list with a message; an action on ids that are not ids changes
  nothing and says so.
- ``SafeAutocompleteMixin`` (for ``ModelAdmin`` and inline classes): an autocomplete field shown
  again with an invalid value (the form's own error says what is wrong) renders without it.

Only public APIs: ``ModelAdmin`` hooks, ``Field.to_python`` and the autocomplete widgets' documented
``optgroups``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _


def converts(field, value) -> bool:
    """Whether ``value`` (a string from a URL or a form) is a possible value of the model ``field``."""
    try:
        field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


class BadIdsMixin:
    """For ``ModelAdmin`` classes: ids from the URL or the POST that are not ids get a clear answer."""

    def _not_found_redirect(self, request, object_id):
        opts = self.model._meta
        self.message_user(
            request,
            _("There is no %(name)s with the ID “%(id)s”. Perhaps it was deleted, or the link is wrong.")
            % {"name": opts.verbose_name, "id": object_id[:50]},
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist"))

    def history_view(self, request, object_id, extra_context=None):
        # The history of a deleted object stays visible (django-simple-history finds it in its
        # records), so only an id the primary key cannot hold is refused here.
        if not converts(self.model._meta.pk, unquote(object_id)):
            return self._not_found_redirect(request, unquote(object_id))
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """django-simple-history's page of one historical version (only its admins route here)."""
        history_model = getattr(self.model, self.model._meta.simple_history_manager_attribute).model
        if not (
            converts(self.model._meta.pk, unquote(object_id)) and converts(history_model._meta.pk, unquote(version_id))
        ):
            return self._not_found_redirect(request, unquote(object_id))
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        pk = self.model._meta.pk
        if not all(converts(pk, value) for value in selected):
            self.message_user(
                request,
                _(
                    "Some of the selected items could not be found (the page may be out of date). "
                    "No items have been changed: reload the list and select them again."
                ),
                messages.WARNING,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)


class _ConvertibleValuesMixin:
    """An autocomplete widget that leaves out of its rendered options the values its related
    model's field cannot hold (the form reports them as invalid choices)."""

    def optgroups(self, name, value, attr=None):
        remote_field = self.field.remote_field
        opts = remote_field.model._meta
        target = opts.get_field(getattr(remote_field, "field_name", None) or opts.pk.name)
        value = [v for v in value if v in (None, "") or converts(target, v)]
        return super().optgroups(name, value, attr)


class SafeAutocompleteSelect(_ConvertibleValuesMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ConvertibleValuesMixin, AutocompleteSelectMultiple):
    pass


class SafeAutocompleteMixin:
    """For ``ModelAdmin`` and inline classes with ``autocomplete_fields``: the autocomplete widgets
    render a form shown again with an invalid value (``programme=abc``) instead of failing."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SafeAdminMixin(BadIdsMixin, SafeAutocompleteMixin):
    """Both of the above, for a ``ModelAdmin``."""
