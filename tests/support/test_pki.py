"""A test PKI for long-term signatures, built in-process with certomancer and served over HTTP
from a thread of this process: a root CA, an intermediate CA with an OCSP responder, CRLs for
both, a signing certificate valid two years, and a timestamp authority (RFC 3161) whose
certificate is valid ten years, with the TSA's next certificate (valid from year 8 to year 25)
on a second address, as a TSA rotating its key would.

Every date is relative to the day it is built, so a certificate signed "today" is signed by a
certificate in date. Requests are answered at the current time, which under freezegun is the
frozen one (certomancer's ``AsyncIllusionist`` reads the clock per request).

pyHanko's own tests route requests to certomancer by swapping the HTTP client's session factory;
here the certificates simply name ``http://127.0.0.1:<port>``, so pyHanko's public HTTP clients
(``HTTPTimeStamper`` and the OCSP/CRL fetchers) reach the server as they would a real one.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ARCHITECTURE = "academy-test-pki"
KEY_LABELS = ("root", "interm", "interm-ocsp", "signer", "tsa", "tsa2")


def _moment(base: datetime.datetime, *, days: int = 0, years: int = 0) -> str:
    value = base.replace(year=base.year + years) + datetime.timedelta(days=days)
    return value.strftime("%Y-%m-%dT%H:%M:%S+0000")


def pki_config(url_prefix: str, today: datetime.datetime) -> dict:
    """The certomancer configuration (the dict its YAML would load into)."""
    start = _moment(today, days=-1)
    tsa_extensions = [
        {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": ["digital_signature"]}},
        {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
        {
            "id": "crl_distribution_points",
            "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}},
        },
    ]
    return {
        "external-url-prefix": url_prefix,
        "keysets": {"academy": {"keys": {label: {"path": f"{label}.key.pem"} for label in KEY_LABELS}}},
        "pki-architectures": {
            ARCHITECTURE: {
                "keyset": "academy",
                "entity-defaults": {"country-name": "GB", "organization-name": "Academy Test PKI"},
                "entities": {
                    "root": {"common-name": "Test Root CA"},
                    "interm": {"common-name": "Test Intermediate CA"},
                    "interm-ocsp": {"common-name": "Test OCSP Responder"},
                    "signer": {"common-name": "Citizen Science Academy (test)"},
                    "tsa": {"common-name": "Test Timestamp Authority"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": {"valid-from": start, "valid-to": _moment(today, years=60)},
                        "profiles": [{"id": "simple-ca", "params": {"crl-repo": "root"}}],
                    },
                    "interm": {
                        "issuer": "root",
                        "validity": {"valid-from": start, "valid-to": _moment(today, years=40)},
                        "profiles": [
                            {
                                "id": "simple-ca",
                                "params": {"max-path-len": 0, "crl-repo": "interm", "ocsp-service": "interm"},
                            }
                        ],
                    },
                    "interm-ocsp": {
                        "issuer": "interm",
                        "validity": {"valid-from": start, "valid-to": _moment(today, years=40)},
                        "profiles": ["ocsp-responder"],
                    },
                    "signer": {
                        "issuer": "interm",
                        "validity": {"valid-from": start, "valid-to": _moment(today, years=2)},
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                # as pyHanko's default key usage policy asks of a signer
                                "smart-value": {
                                    "schema": "key-usage",
                                    "params": ["digital_signature", "non_repudiation"],
                                },
                            }
                        ],
                    },
                    "tsa": {
                        "issuer": "root",
                        "validity": {"valid-from": start, "valid-to": _moment(today, years=10)},
                        "extensions": tsa_extensions,
                    },
                    "tsa2": {
                        "template": "tsa",
                        "subject": "tsa",
                        "subject-key": "tsa2",
                        "validity": {"valid-from": _moment(today, years=8), "valid-to": _moment(today, years=25)},
                    },
                },
                "services": {
                    "ocsp": {
                        "interm": {
                            "for-issuer": "interm",
                            "responder-cert": "interm-ocsp",
                            "signing-key": "interm-ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P90D"},
                        "interm": {
                            "for-issuer": "interm",
                            "signing-key": "interm",
                            "simulated-update-schedule": "P30D",
                        },
                    },
                    "time-stamping": {
                        "tsa": {"signing-key": "tsa", "signing-cert": "tsa"},
                        "tsa2": {"signing-key": "tsa2", "signing-cert": "tsa2"},
                    },
                },
            }
        },
    }


def _keys_write(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    for label in KEY_LABELS:
        # The signer is RSA, as production's key should be (docs/certificates.md: ECDSA makes
        # pyHanko declare PDF 2.0); the CAs, the OCSP responder and the TSAs may be anything.
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if label == "signer"
            else ec.generate_private_key(ec.SECP256R1())
        )
        (folder / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


@dataclass
class TestPKI:
    """The built PKI: its certomancer architecture, the PEM files the settings name, and the
    addresses of its two timestamp services."""

    __test__ = False  # not a pytest test class

    arch: object
    folder: Path
    tsa_url: str
    next_tsa_url: str

    def cert(self, label: str):
        return self.arch.get_cert(label)

    @property
    def root(self):
        return self.cert("root")

    def expiry(self, label: str) -> datetime.datetime:
        return self.cert(label)["tbs_certificate"]["validity"]["not_after"].native

    def signing_settings(self, settings) -> None:
        """Point the CERTIFICATE_SIGNING_* and TSA settings at this PKI."""
        settings.CERTIFICATE_SIGNING_PKCS12 = ""
        settings.CERTIFICATE_SIGNING_KEY = str(self.folder / "signer.key.pem")
        settings.CERTIFICATE_SIGNING_CERT = str(self.folder / "signer.cert.pem")
        settings.CERTIFICATE_SIGNING_KEY_PASSPHRASE = ""
        settings.CERTIFICATE_SIGNING_CHAIN = [str(self.folder / "interm.cert.pem"), str(self.folder / "root.cert.pem")]
        settings.CERTIFICATE_TSA_CHAIN = [str(self.folder / "root.cert.pem")]


class _ServerThread:
    """An event loop in a daemon thread hosting an aiohttp server (the code under test runs its
    own loops through ``asyncio.run``, so the server cannot share one)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-pki-http", daemon=True)
        self.thread.start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@contextmanager
def pki_served(folder: Path) -> Iterator[TestPKI]:
    """Build the PKI in ``folder`` and serve its OCSP responder, CRLs and timestamp services on
    127.0.0.1 for the duration of the block."""
    import aiohttp.test_utils
    import aiohttp.web
    from certomancer.integrations.aiohttp_illusionist import AsyncIllusionist
    from certomancer.registry import CertomancerConfig

    routes: dict[tuple[str, str], object] = {}

    async def dispatch(request):
        handler = routes.get((request.method, request.path))
        if handler is None:
            raise aiohttp.web.HTTPNotFound(text=f"No test PKI service at {request.method} {request.path}")
        return await handler(request)

    app = aiohttp.web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    server = aiohttp.test_utils.TestServer(app, host="127.0.0.1")
    thread = _ServerThread()
    # The access logger reads the local UTC offset, which a patched clock may not give.
    thread.run(server.start_server(access_log=None))
    try:
        _keys_write(folder)
        today = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        config = CertomancerConfig(pki_config(f"http://127.0.0.1:{server.port}", today), key_search_dir=str(folder))
        arch = config.get_pki_arch(ARCHITECTURE)
        # certomancer builds an application with a route per service; serve its handlers.
        for resource in AsyncIllusionist(arch).build_app().router.resources():
            for route in resource:
                routes[(route.method, resource.canonical)] = route.handler
        for label in ("root", "interm", "signer", "tsa"):
            (folder / f"{label}.cert.pem").write_bytes(_pem(arch.get_cert(label)))
        tsa_urls = {info.label: info.url for info in arch.service_registry.list_time_stamping_services()}
        yield TestPKI(arch=arch, folder=folder, tsa_url=tsa_urls["tsa"], next_tsa_url=tsa_urls["tsa2"])
    finally:
        thread.run(server.close())
        thread.stop()


def _pem(certificate) -> bytes:
    from asn1crypto import pem

    return pem.armor("CERTIFICATE", certificate.dump())
