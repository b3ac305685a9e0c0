"""S3 reads for downloads and their verification, and presigned URLs, for
:class:`pail.drivers.s3.S3Driver`.

* :func:`stream_range`: one GetObject for bytes ``[start, end)`` (``Range: bytes=a-b``,
  RFC 9110 section 14.1.2) pinned with ``If-Match`` to the ETag the download planned with,
  its body handed to a sink in :data:`STREAM_CHUNK` pieces. The download engine
  (:mod:`pail.services.download.fetch`) splits objects into ranges, runs them in parallel
  and resumes interrupted ones; pail does not use s3transfer here because its downloads can
  neither resume by ranges nor pin the object version per request.
* :func:`object_checksums`: HeadObject with ``ChecksumMode=ENABLED`` (S3 User Guide,
  "Checking object integrity").
* :func:`part_size` / :func:`part_sizes`: HeadObject ``PartNumber`` and GetObjectAttributes
  ``ObjectParts``, the real part sizes a multipart ETag or composite checksum needs.

**Two optional attributes of a sink** (duck-typed, so the driver protocol's
``sink(chunk)`` keeps its shape): ``object_size`` (int), the object's size when the caller
knows it -- a request for all of it then goes without ``Range``, so the store sends its
full-object checksums (S3 leaves them out of ranged answers) -- and ``on_response(info)``,
called once before the first chunk with an :class:`~pail.drivers.base.ObjectChecksums` of
what the answer's headers vouch for (ETag, ``x-amz-checksum-*`` of a whole-object answer,
whether the object is encrypted so its ETag is no MD5). The engine hashes while the bytes
stream in with that knowledge instead of reading the file again.

**The direct path.** botocore spends milliseconds of CPU per request (event hooks, endpoint
rules, the model's header parsing with dateutil, its checksum wrapper): for a 256 KiB
object that is more than the transfer itself (../shared/PERF-NOTES.md). The first
GetObject of a bucket goes through botocore, and a ``before-send`` hook learns from the
request botocore signed: the URL before the key, the signing scope (region, service), the
payload hash and User-Agent. Later GetObjects of that bucket are signed here (SigV4,
"Authenticating Requests: Using the Authorization Header", the derived key cached per day)
and sent through the client's own HTTP session (the same pool, proxies, TLS settings and
timeouts); to a plain ``http://`` endpoint that no proxy stands in front of, over pail's
own keep-alive sockets (:class:`_Plain`: a request line and headers out, the status and
headers parsed, a body of ``Content-Length`` bytes read into fresh buffers), since
http.client's header parsing (the email package) and urllib3's bookkeeping cost several
times the whole GET on loopback. HTTPS always goes through urllib3: certificate checks
stay botocore's. Only a request exactly like that is sent directly: botocore's request carried
no header outside :data:`_LEARNABLE` (no SSE-C key, no request payer) and was signed with
``AWS4-HMAC-SHA256`` or not at all; anything else stays with botocore for good. An answer
other than 200/206, or a failure before the answer, is not an error here: the request is
made again through botocore, which retries, follows region redirects and translates errors
as for every other call (so nothing is hidden, and a 403 is still a 403). No byte reaches
the sink before that decision, so nothing is delivered twice. A run of failed direct
requests for a bucket (:data:`_DIRECT_MISSES`) turns the direct path off for it.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import socket
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from pail.drivers.base import ObjectChecksums
from pail.drivers.errors import ChecksumMismatch, InvalidRequest, StorageError

#: Bytes handed to the sink at a time.
STREAM_CHUNK = 1024 * 1024
#: HeadObject requests in flight when part sizes are fetched one part at a time.
PART_HEADS = 8
_ALGORITHMS = ("CRC64NVME", "SHA256", "SHA1", "CRC32C", "CRC32")
#: Headers of botocore's GetObject that the direct path knows how to send (lower case).
_LEARNABLE = frozenset(
    {
        "host", "user-agent", "x-amz-date", "x-amz-content-sha256", "authorization",
        "x-amz-security-token", "amz-sdk-invocation-id", "amz-sdk-request",
        "x-amz-checksum-mode", "range", "if-match", "content-length",
    }
)  # fmt: skip
#: Headers the direct path never signs (botocore leaves them out too).
_UNSIGNED = frozenset({"user-agent", "amz-sdk-invocation-id", "amz-sdk-request"})
#: Direct requests in a row that botocore had to make again before the direct path stops.
_DIRECT_MISSES = 3
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class _SinkFailed(Exception):
    """Carries an exception raised by the caller's sink past the body-error translation."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class _Template:
    """What the direct path copies from botocore's GetObject of one bucket."""

    base: str  # the URL up to the key: "http://host:port/bucket/" or "https://b.host/"
    host: str  # the Host header botocore sent
    region: str | None  # signing scope; None: botocore sent it unsigned (anonymous)
    service: str
    payload_hash: str
    user_agent: str | None
    checksum_mode: bool
    plain: tuple[str, int] | None = None  # (host, port) of an http:// endpoint, no proxy
    base_path: str = "/"  # the path part of base: what precedes the key in the request line


class _Direct:
    """The direct GetObject path of one botocore client: templates per bucket."""

    def __init__(self, client: Any) -> None:
        self._client_ref = weakref.ref(client)
        self._templates: dict[str, _Template | None] = {}  # None: botocore only
        self._misses: dict[str, int] = {}
        self.answered = 0  # direct requests that brought the bytes
        self.again = 0  # direct requests botocore had to make again
        self._learning = threading.local()
        self._keys: dict[tuple[str, str, str, str], bytes] = {}
        self._lock = threading.Lock()
        self._plains: dict[tuple[str, int], _Plain] = {}
        config = client.meta.config
        self._timeouts = (
            float(getattr(config, "connect_timeout", None) or 60),
            float(getattr(config, "read_timeout", None) or 60),
        )
        client.meta.events.register(
            "before-send.s3.GetObject", self._learn, unique_id=f"pail-direct-get-{id(self)}"
        )

    # -- learning from botocore --------------------------------------------------------

    def learning(self, bucket: str, key: str, version_id: str | None) -> bool:
        """Mark this thread's next botocore GetObject as the one to learn ``bucket``'s
        template from (only when none is known yet); :meth:`done_learning` after it."""
        if bucket in self._templates:
            self._learning.what = None
            return False
        self._learning.what = (bucket, key, version_id)
        return True

    def done_learning(self) -> None:
        """The marked request was sent or failed before it (nothing more to learn)."""
        self._learning.what = None

    def _learn(self, request: Any = None, **_: Any) -> None:
        what = getattr(self._learning, "what", None)
        self._learning.what = None
        if what is None or request is None:
            return
        bucket, key, version_id = what
        template = _template_from(request, key, version_id)
        if template is not None:
            template = self._with_plain(template)
        with self._lock:
            self._templates.setdefault(bucket, template)

    def _with_plain(self, template: _Template) -> _Template:
        """The template with ``plain`` set when its endpoint is ``http://`` and the
        client's session sends it to no proxy."""
        from dataclasses import replace

        parts = urlsplit(template.base)
        if parts.scheme != "http" or not parts.hostname:
            return template
        client = self._client_ref()
        if client is None:
            return template
        try:
            proxy = client._endpoint.http_session._proxy_config.proxy_url_for(template.base)
        except Exception:  # not botocore's session as pail knows it: keep urllib3
            return template
        if proxy:
            return template
        return replace(template, plain=(parts.hostname, parts.port or 80))

    def template(self, bucket: str) -> _Template | None:
        """The bucket's template, or ``None`` (not learnt yet, or botocore only)."""
        return self._templates.get(bucket)

    def missed(self, bucket: str) -> None:
        """A direct request had to be made again through botocore."""
        with self._lock:
            self.again += 1
            count = self._misses.get(bucket, 0) + 1
            self._misses[bucket] = count
            if count >= _DIRECT_MISSES:
                self._templates[bucket] = None

    def hit(self, bucket: str) -> None:
        """A direct request was answered with the bytes."""
        with self._lock:
            self.answered += 1
            if self._misses.get(bucket):
                self._misses[bucket] = 0

    # -- sending -------------------------------------------------------------------------

    def send(
        self,
        template: _Template,
        key: str,
        byte_range: str | None,
        version_id: str | None,
        etag: str | None,
    ) -> Any:
        """Send one signed GetObject through the client's HTTP session; the botocore
        ``AWSResponse`` (body not read). Raises whatever the session raises."""
        from botocore.awsrequest import AWSPreparedRequest

        client = self._client_ref()
        if client is None:
            raise RuntimeError("the client is gone")
        url, target, headers = self._request(client, template, key, byte_range, version_id, etag)
        if template.plain is not None:
            return self._plain(template.plain).get(target, headers)
        request = AWSPreparedRequest("GET", url, headers, None, True)
        return _Answer.of(client._endpoint.http_session.send(request))

    def _request(
        self,
        client: Any,
        template: _Template,
        key: str,
        byte_range: str | None,
        version_id: str | None,
        etag: str | None,
    ) -> tuple[str, str, dict[str, str]]:
        """The URL, request target (path and query) and signed headers of one GetObject."""
        path_key = quote(key, safe="/~")
        query = f"versionId={quote(version_id, safe='-_.~')}" if version_id else ""
        url = template.base + path_key + (f"?{query}" if query else "")
        path = template.base_path + path_key
        headers: dict[str, str] = {"host": template.host}
        if byte_range:
            headers["range"] = byte_range
        if etag:
            headers["if-match"] = f'"{etag.strip(chr(34))}"'
        if template.checksum_mode:
            headers["x-amz-checksum-mode"] = "ENABLED"
        headers["x-amz-content-sha256"] = template.payload_hash
        if template.region is not None:
            self._sign(client, template, path, query, headers)
        if template.user_agent:
            headers["user-agent"] = template.user_agent
        return url, path + (f"?{query}" if query else ""), headers

    def _plain(self, where: tuple[str, int]) -> _Plain:
        plain = self._plains.get(where)
        if plain is None:
            with self._lock:
                plain = self._plains.setdefault(where, _Plain(where, self._timeouts))
        return plain

    def _sign(
        self, client: Any, template: _Template, path: str, query: str, headers: dict[str, str]
    ) -> None:
        """Add ``x-amz-date``, the session token and ``Authorization`` (SigV4 with the
        payload hash botocore used; S3 paths are signed as sent, not normalised)."""
        credentials = client._request_signer._credentials.get_frozen_credentials()
        now = time.gmtime()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", now)
        day = stamp[:8]
        headers["x-amz-date"] = stamp
        if credentials.token:
            headers["x-amz-security-token"] = credentials.token
        names = sorted(name for name in headers if name not in _UNSIGNED)
        canonical = "\n".join(
            [
                "GET",
                path or "/",
                query,
                "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in names),
                ";".join(names),
                template.payload_hash,
            ]
        )
        scope = f"{day}/{template.region}/{template.service}/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        signature = hmac.new(
            self._signing_key(credentials.secret_key, day, template), to_sign.encode(),
            hashlib.sha256,
        ).hexdigest()  # fmt: skip
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )

    def _signing_key(self, secret: str, day: str, template: _Template) -> bytes:
        cache = (secret, day, template.region or "", template.service)
        key = self._keys.get(cache)
        if key is None:
            key = f"AWS4{secret}".encode()
            for part in (day, template.region or "", template.service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            with self._lock:
                if len(self._keys) > 16:  # a day, a secret, a region at a time
                    self._keys.clear()
                self._keys[cache] = key
        return key


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


def _template_from(request: Any, key: str, version_id: str | None = None) -> _Template | None:
    """The template of botocore's signed GetObject ``request`` of ``key`` (of
    ``version_id``), or ``None`` when it carries anything the direct path does not
    reproduce."""
    url = str(request.url)
    if version_id:  # the only query the direct path sends, and botocore's encoding of it
        query = f"?versionId={quote(version_id, safe='-_.~')}"
        if not url.endswith(query):
            return None
        url = url[: -len(query)]
    suffix = quote(key, safe="/~")
    if "?" in url or "#" in url or not url.endswith(suffix) or request.body:
        return None
    headers = request.headers
    names = {str(name).lower() for name in headers}
    if not names <= _LEARNABLE:
        return None
    authorization = _header(headers, "Authorization")
    region: str | None = None
    service = "s3"
    if authorization:
        if not authorization.startswith("AWS4-HMAC-SHA256 Credential="):
            return None
        scope = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            return None
        region, service = scope[2], scope[3]
    host = _header(headers, "host") or urlsplit(url).netloc
    base = url[: len(url) - len(suffix)]
    return _Template(
        base=base,
        base_path=urlsplit(base).path or "/",
        host=host,
        region=region,
        service=service,
        payload_hash=_header(headers, "X-Amz-Content-SHA256") or _EMPTY_SHA256,
        user_agent=_header(headers, "User-Agent"),
        checksum_mode=(_header(headers, "x-amz-checksum-mode") or "").upper() == "ENABLED",
    )


_DIRECTS: weakref.WeakKeyDictionary[Any, _Direct] = weakref.WeakKeyDictionary()
_DIRECTS_LOCK = threading.Lock()


def _direct_for(client: Any) -> _Direct | None:
    """The client's direct path (created on first use), or ``None`` when the client is
    not a botocore client with the parts the direct path uses."""
    try:
        direct = _DIRECTS.get(client)
    except TypeError:  # not weak-referenceable
        return None
    if direct is not None:
        return direct
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    signer = getattr(client, "_request_signer", None)
    if session is None or signer is None or not hasattr(client, "meta"):
        return None
    with _DIRECTS_LOCK:
        direct = _DIRECTS.get(client)
        if direct is None:
            direct = _DIRECTS[client] = _Direct(client)
    return direct


def direct_enabled(client: Any, bucket: str) -> bool:
    """Whether GetObjects of ``bucket`` through ``client`` now go the direct path (for
    tests and benchmarks)."""
    direct = _direct_for(client)
    return direct is not None and direct.template(bucket) is not None


def direct_counts(client: Any) -> tuple[int, int]:
    """``(answered, again)``: direct GetObjects through ``client`` that brought the bytes,
    and those botocore had to make again (for tests and benchmarks)."""
    direct = _direct_for(client)
    return (direct.answered, direct.again) if direct is not None else (0, 0)


def stream_range(
    client: Any,
    bucket: str,
    key: str,
    start: int,
    end: int,
    sink: Callable[[bytes], None],
    *,
    version_id: str | None,
    etag: str | None,
    interrupted: Callable[[BaseException, int], StorageError],
) -> None:
    """GetObject ``bytes=start-(end-1)`` into ``sink``; see
    :meth:`pail.drivers.base.StorageDriver.stream_range` and the module doc (the direct
    path, the sink's optional ``object_size`` and ``on_response``). Request errors
    propagate as botocore exceptions (the driver translates them); body errors become
    ``interrupted(exc, bytes_received)``.

    Raises:
        InvalidRequest: the store answered with other bytes than asked (it ignored the
            range: no or another ``Content-Range``), or more bytes than asked.
    """
    whole = start == 0 and getattr(sink, "object_size", None) == end
    byte_range = None if whole else f"bytes={start}-{end - 1}"
    direct = _direct_for(client)
    if direct is not None:
        template = direct.template(bucket)
        if template is not None and _stream_direct(
            direct, template, bucket, key, start, end, byte_range, sink,
            version_id=version_id, etag=etag, interrupted=interrupted,
        ):  # fmt: skip
            return
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if byte_range:
        params["Range"] = byte_range
    if version_id:
        params["VersionId"] = version_id
    if etag:
        params["IfMatch"] = f'"{etag.strip(chr(34))}"'
    if direct is not None:
        direct.learning(bucket, key, version_id)
    try:
        resp = client.get_object(**params)
    finally:
        if direct is not None:
            direct.done_learning()
    body = resp["Body"]
    try:
        _check_range(resp, start, end, bucket, key)
        _announce(sink, _checksums_from(resp, whole))
        _pump(body.iter_chunks(STREAM_CHUNK), start, end, bucket, key, sink, interrupted)
    except _SinkFailed as failed:
        raise failed.error from None
    finally:
        body.close()  # an unfinished body closes its connection rather than reusing it


def _stream_direct(
    direct: _Direct,
    template: _Template,
    bucket: str,
    key: str,
    start: int,
    end: int,
    byte_range: str | None,
    sink: Callable[[bytes], None],
    *,
    version_id: str | None,
    etag: str | None,
    interrupted: Callable[[BaseException, int], StorageError],
) -> bool:
    """The direct path; ``False`` (nothing delivered) when botocore must make the
    request instead: a failure before the answer, or an answer other than 200/206."""
    try:
        answer = direct.send(template, key, byte_range, version_id, etag)
    except Exception:  # botocore makes the request again: retries, translation
        direct.missed(bucket)
        return False
    if answer.status not in (200, 206):
        answer.close()
        direct.missed(bucket)
        return False
    direct.hit(bucket)
    headers = answer.headers
    meta = {
        "ContentRange": headers.get("content-range"),
        "ContentLength": _int(headers.get("content-length")),
    }
    try:
        _check_range(meta, start, end, bucket, key)
        _announce(sink, _checksums_from_headers(headers, byte_range is None))
        _pump(answer.chunks(), start, end, bucket, key, sink, interrupted)
    except _SinkFailed as failed:
        answer.close()
        raise failed.error from None
    except BaseException:
        answer.close()
        raise
    answer.release()
    return True


class _Answer:
    """A direct GetObject's answer: ``status``, ``headers`` (lower-case names),
    :meth:`chunks` of the body, then :meth:`release` (the connection is reused) or
    :meth:`close`."""

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        chunks: Callable[[], Any],
        release: Callable[[], None],
        close: Callable[[], None],
    ) -> None:
        self.status, self.headers = status, headers
        self.chunks, self.release, self.close = chunks, release, close

    @classmethod
    def of(cls, response: Any) -> _Answer:
        """From botocore's ``AWSResponse`` of a streamed request (urllib3 underneath)."""
        raw = response.raw
        headers = {str(k).lower(): str(v) for k, v in raw.headers.items()}
        return cls(
            response.status_code,
            headers,
            lambda: raw.stream(STREAM_CHUNK, decode_content=False),
            raw.release_conn,
            raw.close,
        )


#: Most bytes of headers a plain answer may have (S3 sends a few hundred).
_HEAD_MAX = 64 * 1024
#: Idle keep-alive sockets kept per endpoint.
_PLAIN_IDLE = 64


class _Plain:
    """Keep-alive HTTP/1.1 sockets to one plain ``http://`` endpoint, and GETs on them.

    An answer must be framed by ``Content-Length`` (S3's GetObject always is); anything
    else (chunked, no length, a broken status line) is a failure before the body, and the
    request goes to botocore. A socket reused from the pool that the server had closed
    meanwhile (keep-alive timeout) gives no byte at all: the request is sent once more on
    a new one."""

    def __init__(self, where: tuple[str, int], timeouts: tuple[float, float]) -> None:
        self.where = where
        self.timeouts = timeouts
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.where, timeout=self.timeouts[0])
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.timeouts[1])
        return sock

    def _put(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < _PLAIN_IDLE:
                self._idle.append(sock)
                return
        sock.close()

    def get(self, target: str, headers: dict[str, str]) -> _Answer:
        """Send ``GET target`` (path and query) with ``headers``; the answer once its
        headers arrived.

        Raises:
            OSError, http.client.HTTPException: no usable answer (nothing was read of a
                body).
        """
        lines = [f"GET {target} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\naccept-encoding: identity\r\n\r\n").encode("latin-1")
        with self._lock:
            sock = self._idle.pop() if self._idle else None
        if sock is not None:
            try:
                return self._exchange(sock, request)
            except _Stale:
                pass  # the server closed the idle socket: once more on a new one
        return self._exchange(self._connect(), request)

    def _exchange(self, sock: socket.socket, request: bytes) -> _Answer:
        buf = bytearray()
        try:
            sock.sendall(request)
            while (end := buf.find(b"\r\n\r\n")) < 0:
                if len(buf) > _HEAD_MAX:
                    raise http.client.HTTPException("answer headers too long")
                data = sock.recv(65536)
                if not data:
                    raise http.client.HTTPException("the answer ended in its headers")
                buf += data
        except BaseException as exc:
            sock.close()
            if not buf and isinstance(exc, (ConnectionError, http.client.HTTPException)):
                raise _Stale(str(exc)) from exc  # no byte of an answer: send it again
            raise
        head = bytes(buf[:end]).decode("latin-1").split("\r\n")
        rest = bytes(buf[end + 4 :])
        try:
            version, code = head[0].split(" ", 2)[:2]
            status = int(code)
            if not version.startswith("HTTP/1."):
                raise ValueError(version)
        except ValueError:
            sock.close()
            raise http.client.HTTPException(f"not an HTTP answer: {head[0][:80]!r}") from None
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        length = _int(headers.get("content-length"))
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if length is None or length < 0 or chunked or len(rest) > length:
            sock.close()
            raise http.client.HTTPException("an answer not framed by Content-Length")
        keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        return _PlainBody(self, sock, status, headers, length, rest, keep).answer()


class _Stale(OSError):
    """A reused keep-alive socket the server had closed: no byte of an answer came."""


class _PlainBody:
    """The body of one plain answer: ``length`` bytes, ``rest`` of them already read."""

    def __init__(
        self,
        plain: _Plain,
        sock: socket.socket,
        status: int,
        headers: dict[str, str],
        length: int,
        rest: bytes,
        keep: bool,
    ) -> None:
        self._plain, self._sock = plain, sock
        self.status, self.headers = status, headers
        self._left = length
        self._rest = rest
        self._keep = keep
        self._done = False

    def answer(self) -> _Answer:
        return _Answer(self.status, self.headers, self.chunks, self.release, self.close)

    def chunks(self) -> Any:
        """The body in fresh buffers of :data:`STREAM_CHUNK` bytes (the last one shorter),
        as botocore's ``iter_chunks`` gives them: nothing of a chunk is handed on before
        it is whole, so a body that breaks every few bytes makes no progress and gives
        up. A short body ends early: the caller resumes from there."""
        sock = self._sock
        while self._left > 0:
            buf = bytearray(min(STREAM_CHUNK, self._left))
            view = memoryview(buf)
            filled = 0
            if self._rest:
                filled = min(len(self._rest), len(buf))
                view[:filled] = self._rest[:filled]
                self._rest = self._rest[filled:]
            while filled < len(buf):
                got = sock.recv_into(view[filled:])
                if not got:
                    break
                filled += got
            self._left -= filled
            if filled < len(buf):
                self._keep = False
                if filled:
                    yield buf[:filled]
                return
            yield buf

    def release(self) -> None:
        """Back to the pool when the whole body was read, else closed."""
        if self._done:
            return
        self._done = True
        if self._keep and self._left == 0:
            self._plain._put(self._sock)
        else:
            self._sock.close()

    def close(self) -> None:
        """Close the socket; an error body of a few bytes is read first so the socket
        can be reused."""
        if self._done:
            return
        if self._keep and self._left <= 65536:
            try:
                for _ in self.chunks():
                    pass
            except OSError:
                self._keep = False
            self.release()
            return
        self._done = True
        self._sock.close()


def _pump(
    chunks: Any,
    start: int,
    end: int,
    bucket: str,
    key: str,
    sink: Callable[[bytes], None],
    interrupted: Callable[[BaseException, int], StorageError],
) -> None:
    """Hand the body's chunks to ``sink``; more bytes than asked is an error, a body
    that breaks is ``interrupted`` (a short body ends quietly: the caller resumes)."""
    received = 0
    try:
        for chunk in chunks:
            if received + len(chunk) > end - start:
                raise _SinkFailed(
                    InvalidRequest(
                        f"the store sent more than the {end - start} bytes asked for",
                        operation="GetObject",
                        provider="s3",
                        bucket=bucket,
                        key=key,
                        code="InvalidResponse",
                    )
                )
            try:
                sink(chunk)
            except BaseException as exc:
                raise _SinkFailed(exc) from exc
            received += len(chunk)
    except _SinkFailed:
        raise
    except Exception as exc:  # the body broke: reset, early close, stall
        if type(exc).__name__ == "FlexibleChecksumError":
            # botocore checked the answer's x-amz-checksum-* and it did not match: the
            # bytes were altered on the way (pail checks them again before any rename).
            raise _SinkFailed(
                ChecksumMismatch(
                    f"the body does not match the checksum the store sent with it ({exc})",
                    operation="GetObject", provider="s3", bucket=bucket, key=key,
                    code="ChecksumMismatch",
                )
            ) from exc  # fmt: skip
        raise interrupted(exc, received) from exc


def _announce(sink: Callable[[bytes], None], info: ObjectChecksums) -> None:
    hook = getattr(sink, "on_response", None)
    if hook is None:
        return
    try:
        hook(info)
    except BaseException as exc:
        raise _SinkFailed(exc) from exc


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _checksums_from(resp: dict[str, Any], whole: bool) -> ObjectChecksums:
    """What a botocore GetObject answer vouches for (checksums only of a whole object)."""
    encrypted = "kms" in str(resp.get("ServerSideEncryption") or "") or bool(
        resp.get("SSECustomerAlgorithm")
    )
    etag = (resp.get("ETag") or "").strip('"') or None
    checksums = {}
    if whole:
        checksums = {a: resp[f"Checksum{a}"] for a in _ALGORITHMS if resp.get(f"Checksum{a}")}
    total = _total(resp.get("ContentRange"))
    return ObjectChecksums(
        size=total if total is not None else int(resp.get("ContentLength") or 0),
        etag=etag,
        etag_is_md5=etag is not None and not encrypted,
        checksums=checksums,
        checksum_type=resp.get("ChecksumType") if whole else None,
        version_id=resp.get("VersionId"),
    )


def _checksums_from_headers(headers: dict[str, str], whole: bool) -> ObjectChecksums:
    """:func:`_checksums_from` for the headers (lower-case names) of a direct answer."""
    encryption = headers.get("x-amz-server-side-encryption") or ""
    encrypted = "kms" in encryption or bool(
        headers.get("x-amz-server-side-encryption-customer-algorithm")
    )
    etag = (headers.get("etag") or "").strip('"') or None
    checksums: dict[str, str] = {}
    if whole:
        for alg in _ALGORITHMS:
            value = headers.get(f"x-amz-checksum-{alg.lower()}")
            if value:
                checksums[alg] = value
    total = _total(headers.get("content-range"))
    return ObjectChecksums(
        size=total if total is not None else (_int(headers.get("content-length")) or 0),
        etag=etag,
        etag_is_md5=etag is not None and not encrypted,
        checksums=checksums,
        checksum_type=headers.get("x-amz-checksum-type") if whole else None,
        version_id=headers.get("x-amz-version-id"),
    )


def _total(content_range: str | None) -> int | None:
    """The complete length in ``Content-Range: bytes a-b/total`` (``None`` if unknown)."""
    if not content_range or "/" not in content_range:
        return None
    return _int(content_range.rsplit("/", 1)[1])


def _check_range(resp: dict[str, Any], start: int, end: int, bucket: str, key: str) -> None:
    content_range = resp.get("ContentRange") or ""
    expected = f"bytes {start}-{end - 1}/"
    if content_range.startswith(expected):
        return
    if not content_range and start == 0 and resp.get("ContentLength") == end:
        return  # a 200 with the whole object is what was asked for
    raise _SinkFailed(
        InvalidRequest(
            f"asked for bytes {start}-{end - 1}, the store answered "
            f"{content_range or 'without Content-Range'}: it does not honour ranges",
            operation="GetObject",
            provider="s3",
            bucket=bucket,
            key=key,
            code="RangeIgnored",
        )
    )


def object_checksums(client: Any, bucket: str, key: str, version_id: str | None) -> ObjectChecksums:
    """HeadObject with ``ChecksumMode=ENABLED`` as :class:`ObjectChecksums`. SSE-KMS,
    DSSE-KMS and SSE-C objects have ETags that are not MD5s (S3 API reference, "Common
    Response Headers"). Raises botocore exceptions."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        params["VersionId"] = version_id
    resp = client.head_object(**params)
    encryption = str(resp.get("ServerSideEncryption") or "")
    encrypted = "kms" in encryption or bool(resp.get("SSECustomerAlgorithm"))
    etag = (resp.get("ETag") or "").strip('"') or None
    checksums = {alg: resp[f"Checksum{alg}"] for alg in _ALGORITHMS if resp.get(f"Checksum{alg}")}
    return ObjectChecksums(
        size=int(resp.get("ContentLength", 0)),
        etag=etag,
        etag_is_md5=etag is not None and not encrypted,
        checksums=checksums,
        checksum_type=resp.get("ChecksumType"),
        version_id=resp.get("VersionId"),
    )


def part_size(client: Any, bucket: str, key: str, part_number: int, version_id: str | None):
    """``Content-Length`` of part ``part_number`` (HeadObject ``PartNumber``), or ``None``
    for an object that was not uploaded in parts. Raises botocore exceptions (a store
    without part numbers answers 400 or ignores the parameter: then ``PartsCount`` is
    missing and this returns ``None``).

    S3 sends ``PartsCount`` only for a multipart upload (API reference, HeadObject);
    SeaweedFS 4.48 sends ``PartsCount: 1`` for a plain PutObject too, so a count of 1 with
    an ETag that is not multipart-shaped (no ``-N`` suffix) is a single-part object."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "PartNumber": part_number}
    if version_id:
        params["VersionId"] = version_id
    resp = client.head_object(**params)
    count = resp.get("PartsCount")
    if not count or (count == 1 and "-" not in str(resp.get("ETag") or "")):
        return None
    return int(resp["ContentLength"])


def part_sizes(
    client: Any,
    bucket: str,
    key: str,
    parts: int,
    version_id: str | None,
    call: Callable[[Callable[[], Any]], Any],
    *,
    use_attributes: bool = True,
    attributes_failed: Callable[[BaseException], None] | None = None,
) -> list[int]:
    """Every part's size in bytes: GetObjectAttributes ``ObjectParts`` (pages of 1,000
    parts) when the store lists them (and ``use_attributes``), else HeadObject
    ``PartNumber=k`` for each part, :data:`PART_HEADS` at a time. ``call(fn)`` runs ``fn``
    with errors translated; ``attributes_failed(exc)`` hears of a failed
    GetObjectAttributes (the driver remembers a store without it).

    Raises:
        StorageError: a HeadObject failed, or a part has no size.
    """
    sizes = None
    if use_attributes:
        try:
            sizes = call(lambda: _attribute_parts(client, bucket, key, version_id))
        except StorageError as exc:  # not implemented (many S3-compatible stores) or denied
            if attributes_failed is not None:
                attributes_failed(exc)
    if sizes is not None and len(sizes) == parts:
        return sizes

    def head(number: int) -> int:
        size = call(lambda: part_size(client, bucket, key, number, version_id))
        if size is None:
            raise InvalidRequest(
                f"HeadObject PartNumber={number} gave no part",
                operation="HeadObject",
                provider="s3",
                bucket=bucket,
                key=key,
                code="NoPartSize",
            )
        return size

    with ThreadPoolExecutor(PART_HEADS, thread_name_prefix="pail-parts") as pool:
        return list(pool.map(head, range(1, parts + 1)))


def _attribute_parts(client: Any, bucket: str, key: str, version_id: str | None):
    sizes: list[int] = []
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ObjectAttributes": ["ObjectParts"],
        "MaxParts": 1000,
    }
    if version_id:
        params["VersionId"] = version_id
    while True:
        resp = client.get_object_attributes(**params)
        parts = (resp.get("ObjectParts") or {}).get("Parts")
        if not parts:
            return None
        sizes.extend(int(p["Size"]) for p in parts)
        marker = resp["ObjectParts"].get("NextPartNumberMarker")
        if not resp["ObjectParts"].get("IsTruncated") or not marker:
            return sizes
        params["PartNumberMarker"] = marker


def presigned_get(client: Any, bucket: str, key: str, expires_in: int, version_id: str | None):
    """``generate_presigned_url('get_object')``: SigV4 query-string auth, computed locally."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    try:
        return client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
    except TypeError as exc:  # botocore rejects parameters it cannot serialise
        raise InvalidRequest(
            str(exc), operation="GetObject", provider="s3", bucket=bucket, key=key
        ) from exc
