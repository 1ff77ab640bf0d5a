"""Making a development signing key pair: a small CA and an RSA-3072 signing certificate; and
the Ed25519 key that signs certificates' Open Badges credentials (``credential_key_create``).

Used by ``python manage.py create_signing_key`` and by the tests. Production should use a PAdES key
issued by a real certification authority (PEM paths or PKCS#12 in the settings). The credential key
needs no certificate: its public half is published in the issuer's DID document.

The PAdES key is RSA, not ECDSA, so that the signed file stays a PDF 1.7 file and so PDF/A-3: for
an ECDSA key on a NIST curve (and for Ed25519) pyHanko registers the ISO 32002 extension and
declares the document PDF 2.0, which PDF/A-3 (built on PDF 1.7) does not allow.
``certificates.checks`` warns when a configured key would do that.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

# RSA-3072: 128-bit security, as NIST SP 800-57 asks of keys used beyond 2030.
RSA_KEY_SIZE = 3072


@dataclass(frozen=True)
class KeyFiles:
    directory: Path
    ca_cert: Path
    ca_key: Path
    signing_cert: Path
    signing_key: Path
    pkcs12: Path | None = None

    def settings_lines(self, passphrase: str = "") -> list[str]:
        lines = [
            f"CERTIFICATE_SIGNING_KEY={self.signing_key}",
            f"CERTIFICATE_SIGNING_CERT={self.signing_cert}",
            f"CERTIFICATE_SIGNING_CHAIN={self.ca_cert}",
        ]
        if self.pkcs12:
            lines += [
                "# or, instead of the key and certificate:",
                f"# CERTIFICATE_SIGNING_PKCS12={self.pkcs12}",
                f"# CERTIFICATE_SIGNING_PASSPHRASE={passphrase}",
            ]
        return lines


def key_files(directory: Path) -> KeyFiles:
    directory = Path(directory)
    return KeyFiles(
        directory=directory,
        ca_cert=directory / "ca-cert.pem",
        ca_key=directory / "ca-key.pem",
        signing_cert=directory / "signing-cert.pem",
        signing_key=directory / "signing-key.pem",
    )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def signing_certificate_issue(*, public_key, ca_key, ca_name: x509.Name, organisation: str, days: int, now):
    """A PDF signing certificate for ``public_key`` issued by the development CA: digital signature
    and non-repudiation, valid ``days`` from ``now``. Also used for a key made in a PKCS#11 token."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name("Citizen Science Academy Certificates", organisation))
        .issuer_name(ca_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def development_keys_create(
    directory: Path,
    *,
    organisation: str = "Citizen Science Academy (development)",
    days: int = 730,
    pkcs12_passphrase: str | None = None,
) -> KeyFiles:
    """Write a development CA and a signing certificate it issued into ``directory``."""
    files = key_files(directory)
    files.directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    ca_name = _name("Citizen Science Academy Development CA", organisation)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days * 5))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    cert = signing_certificate_issue(
        public_key=key.public_key(), ca_key=ca_key, ca_name=ca_name, organisation=organisation, days=days, now=now
    )

    pem = serialization.Encoding.PEM
    no_encryption = serialization.NoEncryption()
    _write_private(files.ca_key, ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_encryption))
    files.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    _write_private(files.signing_key, key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_encryption))
    files.signing_cert.write_bytes(cert.public_bytes(pem))
    if pkcs12_passphrase is None:
        return files
    p12_path = files.directory / "signing.p12"
    encryption = (
        serialization.BestAvailableEncryption(pkcs12_passphrase.encode()) if pkcs12_passphrase else no_encryption
    )
    _write_private(
        p12_path, pkcs12.serialize_key_and_certificates(b"academy-signing", key, cert, [ca_cert], encryption)
    )
    return KeyFiles(**{**files.__dict__, "pkcs12": p12_path})


CREDENTIAL_KEY_NAME = "credential-key.pem"


def credential_key_create(path: Path) -> Path:
    """Write a new Ed25519 private key (PKCS#8 PEM, readable by its owner only) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(path, pem)
    return path


def credential_public_key_write(private_path: Path, public_path: Path) -> Path:
    """Write the public half of the Ed25519 key at ``private_path`` to ``public_path`` (PEM): what
    ``CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS`` lists after a rotation."""
    key = serialization.load_pem_private_key(Path(private_path).read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"{private_path} is not an Ed25519 private key.")
    public_path = Path(public_path)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return public_path
