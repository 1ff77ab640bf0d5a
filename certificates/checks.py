"""System checks (``python manage.py check``) for the certificate signing set-up.

``certificates.W001``: the PAdES signing certificate's key is not RSA. For an ECDSA key on a NIST
curve, or an EdDSA key, pyHanko registers the ISO 32002 extension and declares the signed file
PDF 2.0, so the certificate PDF is no longer PDF/A-3 (which is built on PDF 1.7). Signing still
works; the warning says what is lost and how to keep it (docs/certificates.md, "Signing key").
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import checks


def _signing_certificate():
    """The configured signing certificate (cryptography's), or None when it cannot be read here;
    a missing or unreadable file is reported when signing, with its own message."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        p12_path = str(getattr(settings, "CERTIFICATE_SIGNING_PKCS12", "") or "")
        if p12_path:
            passphrase = (getattr(settings, "CERTIFICATE_SIGNING_PASSPHRASE", "") or "").encode() or None
            return pkcs12.load_key_and_certificates(Path(p12_path).read_bytes(), passphrase)[1]
        cert_path = str(getattr(settings, "CERTIFICATE_SIGNING_CERT", "") or "")
        if not cert_path:
            return None
        data = Path(cert_path).read_bytes()
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except (OSError, ValueError):
        return None


@checks.register(checks.Tags.security)
def signing_key_keeps_pdf_a(app_configs=None, **kwargs):
    from cryptography.hazmat.primitives.asymmetric import rsa

    certificate = _signing_certificate()
    if certificate is None or isinstance(certificate.public_key(), rsa.RSAPublicKey):
        return []
    kind = type(certificate.public_key()).__name__.removeprefix("_")
    return [
        checks.Warning(
            f"The PDF signing certificate's key is not RSA ({kind}): pyHanko will declare signed "
            "certificates PDF 2.0, so they will not be PDF/A-3.",
            hint="Use an RSA signing key of 3072 bits or more (docs/certificates.md, 'Signing key'); "
            "`python manage.py create_signing_key` makes one for development.",
            id="certificates.W001",
        )
    ]
