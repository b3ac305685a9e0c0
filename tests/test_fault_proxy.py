"""The fault-injecting proxy (tests/support/fault_proxy.py) does what the fault tests rely on.

Every action is shown with real clients (boto3, or http.client where boto3 hides the effect)
against moto through the proxy; transparency for SigV4 is shown against the IAM-enforcing
moto server, and streaming against a small upstream that waits for the other side.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError, ResponseStreamingError

from support.fault_proxy import FaultProxy, Rule
from support.servers import REGION, free_port, gcs_client, seed_keys

BODY = bytes(range(256)) * 1024  # 256 KiB, every byte value


def fast_client(endpoint: str, *, read_timeout: float = 2.0, **kwargs):
    """boto3 S3 client: path-style, no retries, short timeouts."""
    import boto3

    kwargs.setdefault("aws_access_key_id", "testing")
    kwargs.setdefault("aws_secret_access_key", "testing")
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=read_timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
        ),
        **kwargs,
    )


@pytest.fixture
def bucket(s3_endpoint, bucket_name) -> str:
    """A fresh bucket on moto holding ``blob`` (BODY) and ``small.txt``."""
    seed_keys(bucket_name, {"blob": BODY, "small.txt": b"hello\n"})
    return bucket_name


def raw_get(proxy: FaultProxy, bucket: str, key: str, timeout: float = 2.0):
    """A presigned GET sent with http.client: (connection, response) with headers read."""
    url = fast_client(proxy.url).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}
    )
    parts = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)
    conn.request("GET", f"{parts.path}?{parts.query}")
    return conn, conn.getresponse()


def error_code(exc: ClientError) -> tuple[int, str]:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


# ----------------------------------------------------------------------------- passthrough
def test_passthrough_put_get_head_list_range_delete(faults, bucket):
    s3 = fast_client(faults.url)
    key = "dir with space/a+b ü.bin"
    put = s3.put_object(Bucket=bucket, Key=key, Body=BODY, Metadata={"run": "7"})
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == BODY
    assert got["ETag"] == put["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'
    assert got["Metadata"] == {"run": "7"}
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(BODY)
    ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert ranged["ContentRange"] == f"bytes 10-19/{len(BODY)}"
    assert ranged["Body"].read() == BODY[10:20]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="dir with space/")
    assert [o["Key"] for o in listed["Contents"]] == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key=key)
    assert error_code(err.value)[0] == 404

    seen = faults.requests
    assert [(r.method, r.status, r.action) for r in seen] == [
        ("PUT", 200, None),
        ("GET", 200, None),
        ("HEAD", 200, None),
        ("GET", 206, None),
        ("GET", 200, None),
        ("DELETE", 204, None),
        ("HEAD", 404, None),
    ]
    assert seen[0].path == f"/{bucket}/{key}"  # decoded
    assert seen[3].headers["range"] == "bytes=10-19"  # case-insensitive
    assert seen[4].query["prefix"] == "dir with space/" and seen[4].query["list-type"] == "2"


def test_signed_requests_pass_through_to_the_iam_server(moto_iam_server, make_fault_proxy):
    # moto recomputes SigV4 from what it receives: Host, path, query and headers must arrive
    # as the client signed them, and a wrong secret or a missing grant must still be refused.
    proxy = make_fault_proxy(moto_iam_server.endpoint)
    store, users = moto_iam_server, moto_iam_server.users

    def as_user(name: str, secret: str | None = None):
        user = users[name]
        return fast_client(
            proxy.url,
            aws_access_key_id=user.access_key_id,
            aws_secret_access_key=secret or user.secret_access_key,
        )

    reader = as_user("reader")
    assert reader.get_object(Bucket=store.bucket, Key="data/a.txt")["Body"].read() == b"hello\n"
    listed = reader.list_objects_v2(Bucket=store.bucket, Prefix="data/")
    assert {o["Key"] for o in listed["Contents"]} >= {"data/a.txt", "data/b.json"}
    with pytest.raises(ClientError) as denied:
        reader.put_object(Bucket=store.bucket, Key="data/nope.txt", Body=b"x")
    assert error_code(denied.value) == (403, "AccessDenied")
    with pytest.raises(ClientError) as forged:
        as_user("reader", secret="not-the-secret").get_object(Bucket=store.bucket, Key="data/a.txt")
    assert error_code(forged.value) == (403, "SignatureDoesNotMatch")

    # Signed PUT with a body, signed query strings, signed DELETE; odd characters in the key.
    # (moto with IAM on cannot serve presigned URLs at all, so none here.)
    full = as_user("full")
    key = "fault-proxy/signed put+ü=.bin"
    full.put_object(Bucket=store.bucket, Key=key, Body=BODY)
    try:
        assert full.get_object(Bucket=store.bucket, Key=key)["Body"].read() == BODY
        listed = full.list_objects_v2(Bucket=store.bucket, Prefix="fault-proxy/signed put+ü")
        assert [o["Key"] for o in listed["Contents"]] == [key]
    finally:
        full.delete_object(Bucket=store.bucket, Key=key)
    assert [r.status for r in proxy.requests] == [200, 200, 403, 403, 200, 200, 200, 204]


def test_aws_chunked_upload_streams_through(faults, bucket):
    # An aws-chunked body (chunk framing + trailing checksum, sent with chunked transfer
    # encoding) is forwarded byte for byte; moto decodes it into the object.
    import base64
    import struct
    import zlib

    data = BODY[:100_000]
    crc = base64.b64encode(struct.pack(">I", zlib.crc32(data)))
    payload = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(data), data, crc)
    conn = http.client.HTTPConnection("127.0.0.1", faults.port, timeout=5)
    conn.putrequest("PUT", f"/{bucket}/chunked.bin")
    for name, value in {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "Transfer-Encoding": "chunked",
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    for start in range(0, len(payload), 7000):
        part = payload[start : start + 7000]
        conn.send(b"%x\r\n%s\r\n" % (len(part), part))
    conn.send(b"0\r\n\r\n")
    assert conn.getresponse().status == 200
    got = fast_client(faults.url).get_object(Bucket=bucket, Key="chunked.bin")
    assert got["Body"].read() == data


class _StreamingUpstream(BaseHTTPRequestHandler):
    """Upstream that proves streaming: it answers only if the proxy passes bytes on early.

    PUT: sets ``server.got_first`` once 1 MiB of the body arrived (the client sends the rest
    only after that). GET: sends 1 MiB, waits for ``server.client_got_first``, then the rest;
    when the wait times out it hangs up, so a buffering proxy fails the test.
    """

    protocol_version = "HTTP/1.1"
    FIRST = 1 << 20
    SIZE = 4 << 20

    def log_message(self, *args) -> None:
        pass

    def _body_chunks(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        left = int(self.headers["Content-Length"])
        while left:
            chunk = self.rfile.read(min(left, 65536))
            left -= len(chunk)
            yield chunk

    def do_PUT(self) -> None:
        digest, total = hashlib.sha256(), 0
        for chunk in self._body_chunks():
            digest.update(chunk)
            total += len(chunk)
            if total >= self.FIRST:
                self.server.got_first.set()
        reply = f"{total} {digest.hexdigest()}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(self.SIZE))
        self.end_headers()
        self.wfile.write(b"a" * self.FIRST)
        self.wfile.flush()
        if not self.server.client_got_first.wait(5):
            self.close_connection = True
            return
        self.wfile.write(b"b" * (self.SIZE - self.FIRST))


@pytest.fixture
def streaming_upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StreamingUpstream)
    server.daemon_threads = True
    server.got_first = threading.Event()
    server.client_got_first = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_bodies_stream_in_both_directions(streaming_upstream, make_fault_proxy, framing):
    proxy = make_fault_proxy(f"http://127.0.0.1:{streaming_upstream.server_port}")
    size, first = _StreamingUpstream.SIZE, _StreamingUpstream.FIRST
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.putrequest("PUT", "/upload")
    if framing == "chunked":
        conn.putheader("Transfer-Encoding", "chunked")
    else:
        conn.putheader("Content-Length", str(size))
    conn.endheaders()

    def send(data: bytes) -> None:
        for start in range(0, len(data), 65536):
            part = data[start : start + 65536]
            conn.send(b"%x\r\n%s\r\n" % (len(part), part) if framing == "chunked" else part)

    body = b"p" * first + b"q" * (size - first)
    send(body[:first])
    # The rest is sent only once upstream has the first MiB: a buffering proxy never gets there.
    assert streaming_upstream.got_first.wait(5), "request body was not streamed upstream"
    send(body[first:])
    if framing == "chunked":
        conn.send(b"0\r\n\r\n")
    reply = conn.getresponse().read()
    assert reply == f"{size} {hashlib.sha256(body).hexdigest()}".encode()

    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/download")
    resp = conn.getresponse()
    assert resp.getheader("Content-Length") == str(size)
    head = b""
    while len(head) < first:
        head += resp.read(first - len(head))
    streaming_upstream.client_got_first.set()
    assert head + resp.read() == b"a" * first + b"b" * (size - first)


# ------------------------------------------------------------------------------- actions
def test_status_n_times_then_pass(faults, bucket):
    s3 = fast_client(faults.url)
    rule = faults.add(Rule(method="GET", path=r"/small\.txt$", times=2, status=503))
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket=bucket, Key="small.txt")
        assert error_code(err.value) == (503, "SlowDown")
    assert s3.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == b"hello\n"
    assert rule.hits == 2
    assert [(r.status, r.action) for r in faults.requests] == [
        (503, "status"),
        (503, "status"),
        (200, None),
    ]

    faults.add(Rule(status=429, times=1))
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=bucket)
    assert error_code(err.value) == (429, "SlowDown")
    faults.add(Rule(method="HEAD", status=500, code="InternalError"))
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="blob")
    assert error_code(err.value)[0] == 500

    faults.add(Rule(status=500))
    _, resp = raw_get(faults, bucket, "blob")
    error = ET.fromstring(resp.read())
    assert resp.status == 500 and resp.getheader("Content-Type") == "application/xml"
    assert (error.findtext("Code"), error.findtext("Message"), error.findtext("RequestId")) == (
        "InternalError",
        "injected",
        "fault-proxy",
    )


def test_status_on_an_upload_is_seen_as_the_status(faults, s3_endpoint, bucket_name):
    # The body of a refused PUT (sent after 100-continue, or at once) never reaches moto.
    import io

    s3 = fast_client(faults.url)
    s3.create_bucket(Bucket=bucket_name)
    faults.add(Rule(method="PUT", status=500, times=2))
    with pytest.raises(ClientError) as err:  # file-like body: botocore sends Expect
        s3.put_object(Bucket=bucket_name, Key="up.bin", Body=io.BytesIO(BODY * 8))
    assert error_code(err.value) == (500, "InternalError")
    assert faults.requests[-1].headers.get("Expect") == "100-continue"
    with pytest.raises(ClientError) as err:  # bytes body: no Expect
        s3.put_object(Bucket=bucket_name, Key="up.bin", Body=BODY)
    assert error_code(err.value) == (500, "InternalError")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="up.bin", Body=io.BytesIO(BODY * 8))
    assert s3.get_object(Bucket=bucket_name, Key="up.bin")["Body"].read() == BODY * 8


def test_latency_delays_then_forwards(faults, bucket):
    faults.add(Rule(action="latency", delay=1.5, times=1))
    with pytest.raises(ReadTimeoutError):
        fast_client(faults.url, read_timeout=0.3).get_object(Bucket=bucket, Key="small.txt")
    rule = faults.add(Rule(action="latency", delay=0.3, times=1))
    started = time.monotonic()
    got = fast_client(faults.url).get_object(Bucket=bucket, Key="small.txt")
    assert got["Body"].read() == b"hello\n"
    assert time.monotonic() - started >= 0.3  # the delay happened (a lower bound)
    assert rule.hits == 1 and faults.requests[-1].action == "latency"


def test_reset_mid_body(faults, bucket):
    faults.add(Rule(method="GET", path="/blob$", action="reset", after=1000, times=2))
    got = fast_client(faults.url).get_object(Bucket=bucket, Key="blob")
    assert got["ContentLength"] == len(BODY)  # headers arrive intact
    with pytest.raises(ResponseStreamingError, match="reset"):
        got["Body"].read()

    _, resp = raw_get(faults, bucket, "blob")
    assert resp.status == 200 and resp.getheader("Content-Length") == str(len(BODY))
    received = b""
    with pytest.raises(ConnectionResetError):
        while chunk := resp.read(100):
            received += chunk
    assert received == BODY[:1000]
    assert fast_client(faults.url).get_object(Bucket=bucket, Key="blob")["Body"].read() == BODY


def test_truncate_closes_cleanly_short(faults, bucket):
    faults.add(Rule(method="GET", action="truncate", after=5000, times=2))
    _, resp = raw_get(faults, bucket, "blob")
    assert resp.getheader("Content-Length") == str(len(BODY))  # the original length
    with pytest.raises(http.client.IncompleteRead) as err:
        resp.read()
    assert err.value.partial == BODY[:5000]

    got = fast_client(faults.url).get_object(Bucket=bucket, Key="blob")
    with pytest.raises(ResponseStreamingError, match="IncompleteRead"):
        got["Body"].read()


def test_flip_changes_exactly_one_byte(faults, bucket):
    faults.add(Rule(method="GET", action="flip", after=70_000))  # past the first 64 KiB chunk
    _, resp = raw_get(faults, bucket, "blob")
    body = resp.read()
    assert len(body) == len(BODY)
    diffs = [i for i, (a, b) in enumerate(zip(body, BODY, strict=True)) if a != b]
    assert diffs == [70_000] and body[70_000] == BODY[70_000] ^ 0xFF
    _, resp = raw_get(faults, bucket, "blob")
    assert resp.read() == BODY  # times=1: the next one is clean


def test_hang_never_answers_but_others_are_served(faults, bucket):
    rule = faults.add(Rule(method="GET", path="/blob$", action="hang", times=None))
    with pytest.raises(ReadTimeoutError):
        fast_client(faults.url, read_timeout=0.5).get_object(Bucket=bucket, Key="blob")

    # A second hung request stays open while others are served ...
    box: dict[str, BaseException] = {}

    def hung_get() -> None:
        try:
            raw_get(faults, bucket, "blob", timeout=10)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=hung_get)
    thread.start()
    deadline = time.monotonic() + 5
    while rule.hits < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rule.hits == 2
    s3 = fast_client(faults.url)
    assert s3.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == b"hello\n"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 2
    assert thread.is_alive()
    # ... until reset() drops it: the client sees the connection go, well before its timeout.
    faults.reset()
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(box.get("error"), (ConnectionError, http.client.HTTPException))


def test_stall_sends_headers_and_some_bytes_then_nothing(faults, bucket):
    faults.add(Rule(method="GET", path="/blob$", action="stall", after=4096, times=2))
    _, resp = raw_get(faults, bucket, "blob", timeout=0.5)
    assert resp.status == 200 and resp.getheader("Content-Length") == str(len(BODY))
    assert resp.read(4096) == BODY[:4096]
    with pytest.raises(TimeoutError):
        resp.read(1)
    s3 = fast_client(faults.url, read_timeout=0.5)
    got = s3.get_object(Bucket=bucket, Key="blob")  # headers arrive
    with pytest.raises(ReadTimeoutError):
        got["Body"].read()
    assert s3.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == b"hello\n"
    assert [r.action for r in faults.requests] == ["stall", "stall", None]


def test_html_page_instead_of_s3(faults, bucket):
    faults.add(Rule(action="html", times=None))
    conn = http.client.HTTPConnection("127.0.0.1", faults.port, timeout=2)
    conn.request("GET", f"/{bucket}?list-type=2")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/html")
    assert resp.read().startswith(b"<!DOCTYPE html>")
    assert faults.requests[-1].status == 200 and faults.requests[-1].action == "html"


# ------------------------------------------------------------------------- DeleteObjects
KEYS = [f"k/{i}" for i in range(6)]


def remaining(bucket: str) -> set[str]:
    """Keys left in ``bucket``, listed in-process (not through the proxy)."""
    from support.servers import moto_backend

    return set(moto_backend().buckets[bucket].keys.keys())


@pytest.fixture
def delete_bucket(s3_endpoint, bucket_name) -> str:
    seed_keys(bucket_name, KEYS)
    return bucket_name


def delete_all(faults, bucket: str, *, quiet: bool = False) -> dict:
    return fast_client(faults.url).delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in KEYS], "Quiet": quiet}
    )


def test_delete_omit_drops_entries_and_keeps_the_keys(faults, delete_bucket):
    faults.add(Rule(method="POST", query="delete", action="delete-omit", keys=["k/1", "k/2"]))
    reply = delete_all(faults, delete_bucket)
    assert {d["Key"] for d in reply["Deleted"]} == set(KEYS) - {"k/1", "k/2"}
    assert "Errors" not in reply
    assert remaining(delete_bucket) == {"k/1", "k/2"}
    assert faults.requests[-1].action == "delete-omit"

    seed_keys(delete_bucket, KEYS)  # all keys, quiet: the reply is silent and nothing goes
    faults.add(Rule(query="delete", action="delete-omit"))
    reply = delete_all(faults, delete_bucket, quiet=True)
    assert "Deleted" not in reply and "Errors" not in reply
    assert remaining(delete_bucket) == set(KEYS)


def test_delete_omit_really_delete_only_hides_them(faults, delete_bucket):
    faults.add(Rule(query="delete", action="delete-omit", keys={"k/0"}, really_delete=True))
    reply = delete_all(faults, delete_bucket)
    assert {d["Key"] for d in reply["Deleted"]} == set(KEYS) - {"k/0"}
    assert remaining(delete_bucket) == set()


def test_delete_errors_reports_access_denied(faults, delete_bucket):
    faults.add(Rule(query="delete", action="delete-errors", keys=["k/3"]))
    reply = delete_all(faults, delete_bucket)
    assert {d["Key"] for d in reply["Deleted"]} == set(KEYS) - {"k/3"}
    assert reply["Errors"] == [{"Key": "k/3", "Code": "AccessDenied", "Message": "Access Denied"}]
    assert remaining(delete_bucket) == {"k/3"}

    seed_keys(delete_bucket, KEYS)  # quiet: S3 still names the errors
    faults.add(Rule(query="delete", action="delete-errors"))
    reply = delete_all(faults, delete_bucket, quiet=True)
    assert sorted(e["Key"] for e in reply["Errors"]) == KEYS
    assert remaining(delete_bucket) == set(KEYS)


def test_delete_empty_answers_200_with_nothing(faults, delete_bucket):
    faults.add(Rule(query="delete", action="delete-empty"))
    reply = delete_all(faults, delete_bucket)
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert reply["ResponseMetadata"]["HTTPHeaders"]["content-length"] == "0"
    assert "Deleted" not in reply and "Errors" not in reply
    assert remaining(delete_bucket) == set(KEYS)

    faults.add(Rule(query="delete", action="delete-empty", really_delete=True))
    reply = delete_all(faults, delete_bucket)
    assert "Deleted" not in reply
    assert remaining(delete_bucket) == set()


# --------------------------------------------------------------------------- rule matching
def test_rules_match_on_every_condition_first_one_wins(faults, bucket):
    s3 = fast_client(faults.url)
    by_header = faults.add(Rule(method="GET", header="Range", status=416, times=None))
    by_query = faults.add(Rule(query="list-type=2", status=403, times=None))
    first = faults.add(Rule(method="get", path=r"/small\.txt$", status=500, times=1))
    second = faults.add(Rule(method="GET", path=r"/small\.txt$", status=404, times=1))

    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="blob", Range="bytes=0-1")
    assert error_code(err.value)[0] == 416
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=bucket)
    assert error_code(err.value) == (403, "AccessDenied")
    assert s3.list_objects(Bucket=bucket)["Contents"]  # V1 listing: no list-type=2
    for status in (500, 404):  # in order added, each once
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket=bucket, Key="small.txt")
        assert error_code(err.value)[0] == status
    assert s3.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == b"hello\n"
    assert (by_header.hits, by_query.hits, first.hits, second.hits) == (1, 1, 1, 1)

    faults.reset()
    assert faults.requests == [] and faults.rules == []
    assert s3.get_object(Bucket=bucket, Key="blob", Range="bytes=0-1")["Body"].read() == BODY[:2]


def test_rule_validation():
    with pytest.raises(ValueError, match="unknown action"):
        Rule(action="explode")
    assert Rule(status=503).code == "SlowDown"
    assert Rule(status=500).code == "InternalError"
    assert Rule(keys="one").keys == frozenset({"one"})


def test_gcs_emulator_through_a_proxy(gcs_emulator, make_fault_proxy, bucket_name):
    from google.api_core.exceptions import ServiceUnavailable
    from google.api_core.retry import Retry

    proxy = make_fault_proxy(gcs_emulator)
    client = gcs_client(proxy.url)
    bucket = client.create_bucket(bucket_name)
    bucket.blob("runs/a.bin").upload_from_string(BODY)
    assert bucket.blob("runs/a.bin").download_as_bytes() == BODY
    assert [b.name for b in client.list_blobs(bucket_name, prefix="runs/")] == ["runs/a.bin"]
    assert {r.method for r in proxy.requests} >= {"POST", "GET"}

    proxy.add(Rule(method="GET", path="/runs/a.bin$", status=503))
    with pytest.raises(ServiceUnavailable):
        bucket.blob("runs/a.bin").download_as_bytes(retry=Retry(predicate=lambda exc: False))


def test_unreachable_upstream_is_a_bad_gateway(make_fault_proxy):
    proxy = make_fault_proxy(f"http://127.0.0.1:{free_port()}")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    conn.request("GET", "/bucket/key")
    assert conn.getresponse().status == 502
    assert proxy.requests[-1].status == 502


def test_delete_rules_touch_only_delete_objects(faults, bucket):
    rule = faults.add(Rule(action="delete-empty", times=None))
    s3 = fast_client(faults.url)
    assert s3.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == b"hello\n"
    s3.delete_object(Bucket=bucket, Key="small.txt")
    assert rule.hits == 0


def test_rewritten_delete_request_gets_valid_checksums():
    # moto does not check DeleteObjects checksums, other stores do: compare with botocore's.
    from botocore.httpchecksum import _CHECKSUM_CLS
    from multidict import CIMultiDict

    from support.fault_proxy import _fix_body_headers

    body = b"<Delete><Object><Key>k/1</Key></Object></Delete>"
    algorithms = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256", "sha512"]
    headers = CIMultiDict({f"x-amz-checksum-{a}": "stale" for a in algorithms})
    headers.update({"Content-MD5": "stale", "Content-Length": "999", "x-amz-checksum-xxhash3": "?"})
    _fix_body_headers(headers, body)
    for algorithm in algorithms:
        oracle = _CHECKSUM_CLS[algorithm]()
        oracle.update(body)
        assert headers[f"x-amz-checksum-{algorithm}"] == oracle.b64digest(), algorithm
    assert headers["Content-MD5"] == base64.b64encode(hashlib.md5(body).digest()).decode()
    assert headers["Content-Length"] == str(len(body))
    assert "x-amz-checksum-xxhash3" not in headers
