"""A real S3-compatible server on 127.0.0.1 for the tests: moto in server mode.

``s3_server_running()`` starts moto's ``ThreadedMotoServer`` (its documented server mode: the
same HTTP API as S3, answered by a thread of this process) on a free port, behind a
``tests.faults.network.TcpSwitch`` so a test can take the storage away - every connection closed,
new ones refused at once, as when the server stops or the network to it fails - and bring it back
with its objects kept, as a real object store keeps them. ``S3Storage`` handles what a test needs:
a fresh private bucket (``bucket_new``), the ``STORAGES["default"]`` entry the app reads
(``storages_setting``, built by ``academy.storage.storage_default`` as production builds it), the
environment for a worker or web process (``env``), the objects stored (``keys``), and
``outage()`` / ``restore()``.

The fixtures in the root ``conftest.py`` (``s3_server``, ``s3_storage``) use it. Without moto
installed the tests that need it skip locally and fail with ``CI=true``.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.support.workers import in_ci

ACCESS_KEY_ID = "academy-test-key"
SECRET_ACCESS_KEY = "academy-test-secret"  # noqa: S105 - moto's fake account
REGION = "us-east-1"


def require_s3_server_support() -> None:
    """Skip (locally) or fail (CI) unless moto's server mode is installed."""
    import pytest

    try:
        import boto3  # noqa: F401
        import storages.backends.s3  # noqa: F401
        from moto.server import ThreadedMotoServer  # noqa: F401
    except ImportError as exc:
        message = f"an S3-compatible test server needs moto[server], boto3 and django-storages ({exc})"
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)


@dataclass
class S3Server:
    """moto's server and the switch in front of it; ``endpoint_url`` is the switch's address."""

    server: object
    switch: object
    endpoint_url: str
    buckets: list[str] = field(default_factory=list)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}),
        )

    def bucket_new(self, prefix: str = "academy-test") -> S3Storage:
        """A new, empty private bucket (a random name, so tests never see each other's files)."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        self.buckets.append(name)
        return S3Storage(server=self, bucket=name)


@dataclass
class S3Storage:
    """One bucket of the test server, as the app is configured to use it."""

    server: S3Server
    bucket: str

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def env(self) -> dict[str, str]:
        """The environment that points a worker or web process (``academy/settings.py``) at it."""
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_S3_ADDRESSING_STYLE": "path",
        }

    def storages_setting(self, current: dict) -> dict:
        """``current`` (settings.STORAGES) with its default storage moved to this bucket."""
        from academy.storage import storage_default

        default = storage_default(
            backend="s3",
            bucket=self.bucket,
            endpoint_url=self.endpoint_url,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            addressing_style="path",
        )
        return {**current, "default": default}

    def keys(self, prefix: str = "") -> list[str]:
        """Every object's key in the bucket (under ``prefix``), sorted."""
        paginator = self.server.client().get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return sorted(found)

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def outage(self) -> None:
        """The storage goes away: open connections are closed and new ones refused."""
        self.server.switch.cut()

    def restore(self) -> None:
        """The storage is back, with every object it had."""
        self.server.switch.restore()


@contextlib.contextmanager
def s3_server_running() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 (a free port) behind a switch; stopped on exit."""
    from moto.server import ThreadedMotoServer

    from tests.faults.network import TcpSwitch

    # The server's own line per request (werkzeug's request log, INFO) would cost more than the
    # request in a test that makes thousands: warnings and errors only.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        _host, port = server.get_host_and_port()
        with TcpSwitch(port) as switch:
            yield S3Server(server=server, switch=switch, endpoint_url=f"http://127.0.0.1:{switch.port}")
    finally:
        server.stop()
