"""Authentication backends: Django's and allauth's, loading the signed-in person faster.

Every signed-in request loads the person's account (``get_user``) before anything else; with
the busiest pages served from the cache (academy/page_cache.py) that read is most of what such a
request costs. Django's ``get_user`` builds its query through the ORM each time; here one fixed
statement (``Manager.raw``) reads the same row *and* the partner organisations the person belongs
to, for about two thirds of the cost of the ORM's query alone. The organisations are left on the
account as ``partner_organisation_ids`` (current as of this request), so that "may this person
see this organisation's pages?" and "is this person a partner?" need no query of their own.
What is checked is unchanged: an unknown id or an inactive account is nobody.
"""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection

USER_WITH_ORGANISATIONS = (  # PostgreSQL
    "SELECT u.*, ARRAY(SELECT m.organisation_id FROM partners_partnermembership m WHERE m.user_id = u.id)"
    " AS partner_organisation_ids FROM academy_user u WHERE u.id = %s"
)
USER_ONLY = "SELECT * FROM academy_user WHERE id = %s"  # elsewhere (SQLite for development)


class _FastUserLoad:
    def get_user(self, user_id):
        User = get_user_model()
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        sql = USER_WITH_ORGANISATIONS if connection.vendor == "postgresql" else USER_ONLY
        user = next(iter(User._default_manager.raw(sql, [pk])), None)
        return user if user is not None and self.user_can_authenticate(user) else None


class AcademyModelBackend(_FastUserLoad, ModelBackend):
    """Django's backend (staff passwords, ``force_login``), with the faster ``get_user``."""


class AcademyAuthenticationBackend(_FastUserLoad, AuthenticationBackend):
    """allauth's backend (sign in by email address), with the faster ``get_user``."""
