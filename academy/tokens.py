"""One-time, expiring links that let an invited learner set their first password.

The token hashes the user's password and last login (Django's ``PasswordResetTokenGenerator``),
so it stops working as soon as a password is set: a link cannot be used twice. It has its own
``key_salt`` (a password-reset token is not an invitation token, and vice versa) and expires after
``settings.INVITATION_TIMEOUT_DAYS`` days (default 14).
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


def invitation_timeout_seconds() -> int:
    return int(getattr(settings, "INVITATION_TIMEOUT_DAYS", 14)) * 24 * 60 * 60


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "academy.tokens.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        """Like the parent's, but the lifetime is ``INVITATION_TIMEOUT_DAYS``, not
        ``PASSWORD_RESET_TIMEOUT``."""
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if (self._num_seconds(self._now()) - ts) > invitation_timeout_seconds():
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


invitation_token_generator = InvitationTokenGenerator()
