"""Template tags for sharing a certificate (the public page and the learner's dashboard)."""

from django import template

from .. import share

register = template.Library()


@register.simple_tag
def certificate_share(certificate, programme_title=None):
    """The certificate's share links (``certificates.share.CertificateShare``), or None when it
    is not issued."""
    return share.certificate_share(certificate, programme_title=programme_title)


@register.simple_tag
def absolute_url(path):
    """``path`` on the Academy's public address (``SITE_URL``)."""
    return share.absolute_url(path)


@register.simple_tag
def badge_image_url():
    """The absolute URL of the Academy's badge image (Open Graph image)."""
    return share.badge_image_url()


@register.simple_tag
def site_name():
    """The Academy's name (``SITE_NAME``)."""
    from django.conf import settings

    return settings.SITE_NAME
