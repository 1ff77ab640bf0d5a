"""Refusals that deserve their own page rather than a bare 404."""

from django.core.exceptions import PermissionDenied


class ReadOnlyAccess(PermissionDenied):
    """Someone who may see this object but not change it (a partner organisation's viewer on a
    page that changes something of their own organisation): a 403 page saying they can look but
    not change (templates/403_read_only.html). Never for another organisation's objects: those
    stay 404, so nobody learns whether they exist."""

    def __init__(self, *, organisation_name: str = "", back_url: str = ""):
        super().__init__("read only")
        self.organisation_name = organisation_name
        self.back_url = back_url
