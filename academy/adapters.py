"""django-allauth adapter: Academy accounts are created by invitation, not open sign-up."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        """allauth's rate limits count by the address academy.client.client_ip decides."""
        from .client import client_ip

        return client_ip(request)

    def is_open_for_signup(self, request):
        return getattr(settings, "ACCOUNT_ALLOW_SIGNUP", False)
