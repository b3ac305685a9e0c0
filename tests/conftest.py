"""Real servers for the whole test session, started once.

* ``moto_server``: moto's S3 server in-process over HTTP, auth off. Seed bulk data through
  :func:`moto_backend` (in-process, fast) rather than thousands of HTTP PUTs.
* ``moto_iam_server``: a second moto server in its own process with IAM enforcement on, so
  its auth switch cannot affect the first; users/policies are created before auth goes on.
* ``gcs_emulator``: gcp-storage-emulator on loopback (STORAGE_EMULATOR_HOST).
* ``fault_proxy`` / ``faults`` / ``make_fault_proxy``: the fault-injecting proxy of
  tests/fault_proxy.py in front of ``moto_server`` (or any server).
* ``isolated_config`` (autouse): every test gets its own ``PAIL_CONFIG`` file and an
  in-memory keyring, so no test reads or writes the user's config or keyring.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

# Default credentials for the auth-off moto server; never real ones.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory, monkeypatch):
    """A fresh ``PAIL_CONFIG`` path (not yet created) and an in-memory keyring per test.

    Yields the :class:`memory_keyring.MemoryKeyring`. Child processes (``pail`` run as an
    executable) get ``PYTHON_KEYRING_BACKEND`` = keyring's fail backend, so they cannot
    reach the real keyring either; the Secret Service test sets up its own.
    """
    import keyring

    from memory_keyring import MemoryKeyring

    folder = tmp_path_factory.mktemp("pail-config")
    monkeypatch.setenv("PAIL_CONFIG", str(folder / "connections.toml"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


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


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Endpoint URL of an in-process moto S3 server (auth off), e.g. ``http://127.0.0.1:P``."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_endpoint(moto_server: str) -> str:
    """``moto_server``, reset to empty before the test."""
    moto_api(moto_server, "reset")
    return moto_server


@pytest.fixture
def bucket_name() -> str:
    """A fresh, valid bucket name."""
    return f"pail-{uuid.uuid4().hex[:12]}"


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
_IAM_POLICIES = {
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


@pytest.fixture(scope="session")
def moto_iam_server() -> Iterator[IamStore]:
    """A moto server in a subprocess with IAM enforcement on.

    Seeded over HTTP (small data) with bucket ``pail-iam`` holding ``data/a.txt`` and
    ``data/b.json``, and users ``admin``, ``reader`` (GetObject + ListBucket) and ``nolist``
    (GetObject only), ``writer`` (list, read, PutObject; no DeleteObject) and ``full``
    (s3:* on the bucket only). Requests with unknown keys get InvalidAccessKeyId.
    """
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(endpoint + "/moto-api/")
        s3 = s3_client(endpoint)
        s3.create_bucket(Bucket=IAM_BUCKET)
        s3.put_object(Bucket=IAM_BUCKET, Key="data/a.txt", Body=b"hello\n")
        s3.put_object(Bucket=IAM_BUCKET, Key="data/b.json", Body=b'{"x": 1}')
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        users = {}
        for name, statements in _IAM_POLICIES.items():
            iam.create_user(UserName=name)
            doc = {"Version": "2012-10-17", "Statement": statements}
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(doc))
            key = iam.create_access_key(UserName=name)["AccessKey"]
            users[name] = IamUser(name, key["AccessKeyId"], key["SecretAccessKey"])
        moto_api(endpoint, "reset-auth", b"0")
        yield IamStore(endpoint, IAM_BUCKET, users)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[str]:
    """``http://127.0.0.1:P`` of a gcp-storage-emulator (in-memory) for the session.

    Sets ``STORAGE_EMULATOR_HOST`` for the session so google-cloud-storage clients use it.
    """
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "gcp-storage-emulator")
    proc = subprocess.Popen(
        [exe, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    old = os.environ.get("STORAGE_EMULATOR_HOST")
    try:
        wait_http(endpoint + "/storage/v1/b")
        os.environ["STORAGE_EMULATOR_HOST"] = endpoint
        yield endpoint
    finally:
        if old is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = old
        proc.terminate()
        proc.wait(timeout=10)


def gcs_client(endpoint: str):
    """A real google-cloud-storage client on the emulator, anonymous credentials."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project="pail-test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )


@pytest.fixture(scope="session")
def make_fault_proxy() -> Iterator:
    """Factory ``make(upstream_url) -> FaultProxy``: a started fault proxy in front of any
    server (``moto_iam_server.endpoint``, ``gcs_emulator`` ...); all stopped at session end.
    See tests/fault_proxy.py for :class:`Rule` and the actions."""
    from fault_proxy import FaultProxy

    proxies: list[FaultProxy] = []

    def make(upstream_url: str) -> FaultProxy:
        proxy = FaultProxy(upstream_url).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.fixture(scope="session")
def fault_proxy(moto_server: str) -> Iterator:
    """The session's fault-injecting proxy in front of ``moto_server`` (tests/fault_proxy.py).

    Prefer ``faults``, which clears rules and the request log around each test."""
    from fault_proxy import FaultProxy

    proxy = FaultProxy(moto_server).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faults(fault_proxy):
    """``fault_proxy`` with no rules and an empty request log, reset again after the test.

    ``faults.url`` is the endpoint to give S3 clients; ``faults.add(Rule(...))`` adds a fault.
    """
    fault_proxy.reset()
    yield fault_proxy
    fault_proxy.reset()
