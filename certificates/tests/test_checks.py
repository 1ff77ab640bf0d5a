"""``certificates.W001``: a signing key that would make pyHanko declare certificates PDF 2.0."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from certificates.checks import signing_key_keeps_pdf_a


def self_signed(key, path, algorithm):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Academy test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, algorithm)
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_the_development_key_is_rsa_and_passes(settings, signing_key_files):
    settings.CERTIFICATE_SIGNING_PKCS12 = ""
    settings.CERTIFICATE_SIGNING_CERT = str(signing_key_files.signing_cert)
    assert signing_key_keeps_pdf_a() == []


def test_an_ecdsa_certificate_is_warned_about(settings, tmp_path):
    settings.CERTIFICATE_SIGNING_PKCS12 = ""
    settings.CERTIFICATE_SIGNING_CERT = self_signed(
        ec.generate_private_key(ec.SECP256R1()), tmp_path / "ec.pem", hashes.SHA256()
    )
    [warning] = signing_key_keeps_pdf_a()
    assert warning.id == "certificates.W001"
    assert "PDF/A-3" in warning.msg and "RSA" in warning.hint


def test_an_ed25519_certificate_is_warned_about(settings, tmp_path):
    settings.CERTIFICATE_SIGNING_PKCS12 = ""
    settings.CERTIFICATE_SIGNING_CERT = self_signed(ed25519.Ed25519PrivateKey.generate(), tmp_path / "ed.pem", None)
    assert [w.id for w in signing_key_keeps_pdf_a()] == ["certificates.W001"]


def test_a_missing_certificate_is_left_to_the_signing_error(settings, tmp_path):
    settings.CERTIFICATE_SIGNING_PKCS12 = ""
    settings.CERTIFICATE_SIGNING_CERT = str(tmp_path / "missing.pem")
    assert signing_key_keeps_pdf_a() == []
