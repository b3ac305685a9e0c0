"""A fault-injecting HTTP reverse proxy on loopback, for tests of pail under network faults.

``FaultProxy(upstream_url).start()`` listens on ``127.0.0.1`` (ephemeral port) and forwards
every request to ``upstream_url`` (moto, SeaweedFS, the GCS emulator ...) transparently enough
for S3 SigV4: the original ``Host`` header and every other end-to-end header go upstream
unchanged, the raw (still percent-encoded) path and query are kept byte for byte, request and
response bodies are streamed (never buffered, never decompressed) and the upstream status,
headers and body come back as they were. Hop-by-hop headers (RFC 9110 section 7.6.1) and
``Expect`` (answered by the proxy itself) are not forwarded.

Per-request faults come from :class:`Rule` objects added with :meth:`FaultProxy.add`: the first
rule that matches a request and has applications left decides what happens to it (see
:data:`ACTIONS`). Every request is recorded in :attr:`FaultProxy.requests`.

The proxy runs its own asyncio loop in a daemon thread, so tests (and the ``pail`` processes
they start) talk to it like to any server. It is a real server, not a mock: clients send real
requests and the real upstream answers them.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import fcntl
import hashlib
import html
import re
import socket
import struct
import termios
import threading
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape as _xml_escape

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

#: What a matching rule does to the request (details on :class:`Rule`).
ACTIONS = frozenset(
    {
        "status",
        "latency",
        "reset",
        "truncate",
        "flip",
        "flip-request",
        "lose-reply",
        "hang",
        "stall",
        "rewrite",
        "delete-omit",
        "delete-errors",
        "delete-empty",
        "html",
        "reply",
    }
)

# RFC 9110 section 7.6.1 (plus the legacy Keep-Alive / Proxy-Connection); also the headers
# named in a Connection header. Expect is answered by the proxy (it sends 100 Continue itself).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

# S3 error codes for an injected status when the rule names none (S3 API reference, "Error
# responses": 503 SlowDown is S3's throttling answer; 429 is what other stores send).
_DEFAULT_CODES = {
    400: "InvalidRequest",
    403: "AccessDenied",
    404: "NoSuchKey",
    409: "OperationAborted",
    412: "PreconditionFailed",
    416: "InvalidRange",
    429: "SlowDown",
    500: "InternalError",
    501: "NotImplemented",
    502: "BadGateway",
    503: "SlowDown",
    504: "GatewayTimeout",
}

_CHUNK = 64 * 1024
_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
    b"<body><h1>Welcome</h1><p>Please sign in to continue.</p></body></html>\n"
)
_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


@dataclass(eq=False)
class Rule:
    """One fault, applied to requests that match every given condition.

    Conditions (``None`` = any):

    * ``method``: HTTP method, case-insensitive (``"GET"``, ``"POST"`` ...).
    * ``path``: regular expression searched (``re.search``) in the percent-decoded path,
      e.g. ``r"^/bucket/data/.*\\.bin$"``.
    * ``query``: a query parameter that must be present (``"delete"``, ``"uploadId"``);
      ``"name=value"`` also requires that value (``"partNumber=1"``).
    * ``header``: a request header that must be present (``"Range"``), case-insensitive;
      ``"Name: value"`` also requires that value.

    ``times``: how many requests the rule applies to (``None`` = every matching request); an
    exhausted rule no longer matches, so later rules (or plain forwarding) take over.
    ``hits`` counts the requests the rule was applied to (thread-safe).

    Actions (``action``):

    * ``"status"``: answer ``status`` with an S3 XML error ``<Error><Code>code</Code>
      <Message>injected</Message><RequestId>fault-proxy</RequestId></Error>``, nothing is
      forwarded. ``code`` defaults by status (500 InternalError, 503 and 429 SlowDown, 403
      AccessDenied, 404 NoSuchKey ...).
    * ``"latency"``: wait ``delay`` seconds, then forward normally.
    * ``"reset"``: forward; send the upstream status, headers and the first ``after`` body
      bytes, then abort the TCP connection with a RST (SO_LINGER 0): the client sees a
      connection reset mid-body.
    * ``"truncate"``: forward; send the upstream headers (original Content-Length) and the
      first ``after`` body bytes, then close the connection cleanly (FIN): the client sees an
      incomplete body.
    * ``"flip"``: forward, with the response body byte at offset ``after`` XOR 0xFF (no flip
      when the body is shorter).
    * ``"flip-request"``: forward the request with its body byte at offset ``after`` XOR
      0xFF (after the client computed its checksums and signature: corruption on the way
      to the store), then the upstream reply unchanged.
    * ``"lose-reply"``: forward the request, let the upstream answer in full (the write
      happened), then abort the client's connection with a RST before any byte of the
      answer: the client never learns the outcome and retries.
    * ``"hang"``: read nothing more, never answer; the connection stays open until the client
      gives up, :meth:`FaultProxy.reset` or :meth:`FaultProxy.stop`. Other requests are served.
    * ``"stall"``: forward; send headers and the first ``after`` body bytes, then nothing more
      (connection kept open, as ``hang``).
    * ``"delete-omit"``, ``"delete-errors"``, ``"delete-empty"``: for S3 DeleteObjects
      (``POST /bucket?delete``; such a rule matches nothing else). The targeted keys are the
      request's keys that are in ``keys`` (all of them when ``keys`` is None). Unless
      ``really_delete`` is set, the targeted keys are taken out of the request before it is
      forwarded, so they really stay in the bucket (as with a store that did not delete
      them); then the reply is rewritten: ``omit`` drops their ``<Deleted>`` entries (the
      reply says nothing about them), ``errors`` reports each as ``<Error><Key>k</Key>
      <Code>AccessDenied</Code><Message>Access Denied</Message></Error>``, ``empty`` answers
      200 with an empty body (nothing is forwarded unless ``really_delete``). Content-Length
      is fixed after rewriting; checksum headers of a rewritten request (Content-MD5,
      x-amz-checksum-*) are recomputed. With ``really_delete`` every key is deleted upstream
      and only the reply lies. Works whether the client sent Quiet or not.
    * ``"html"``: answer 200 ``text/html`` with a small web page (a non-S3 endpoint).
    * ``"reply"``: answer ``status`` with ``body`` as ``content_type``, nothing forwarded
      (a plain-text 404 from a store without STS, a filer's JSON, a proxy's HTML page).
    * ``"rewrite"``: forward; the upstream body with every match of the regular expression
      ``pattern`` (bytes) replaced by ``replacement`` (``re.sub``), Content-Length fixed
      (e.g. a ListObjectsV2 page without its ``NextContinuationToken``).
    """

    method: str | None = None
    path: str | None = None
    query: str | None = None
    header: str | None = None
    times: int | None = 1
    action: str = "status"
    status: int = 500
    code: str | None = None
    delay: float = 0.0
    after: int = 0
    keys: Iterable[str] | None = None
    really_delete: bool = False
    body: bytes = b""
    content_type: str = "text/plain"
    pattern: bytes | None = None
    replacement: bytes = b""
    _hits: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; one of {sorted(ACTIONS)}")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if self.after < 0 or self.delay < 0:
            raise ValueError("after and delay must be >= 0")
        if isinstance(self.keys, str):
            self.keys = [self.keys]
        if self.keys is not None:
            self.keys = frozenset(self.keys)
        self._path_re = re.compile(self.path) if self.path is not None else None
        if self.code is None:
            self.code = _DEFAULT_CODES.get(
                self.status, "InternalError" if self.status >= 500 else "InvalidRequest"
            )

    @property
    def hits(self) -> int:
        """How many requests this rule was applied to."""
        with self._lock:
            return self._hits

    def matches(self, method: str, path: str, query: dict[str, str], headers: Any) -> bool:
        """Whether a request (decoded path, query dict, case-insensitive headers) matches."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.action.startswith("delete-") and (method != "POST" or "delete" not in query):
            return False  # the DeleteObjects rewrites only ever apply to DeleteObjects
        if self._path_re is not None and not self._path_re.search(path):
            return False
        if self.query is not None:
            name, eq, value = self.query.partition("=")
            if name not in query or (eq and query[name] != value):
                return False
        if self.header is not None:
            name, colon, value = self.header.partition(":")
            name = name.strip()
            if name not in headers or (colon and headers[name].strip() != value.strip()):
                return False
        return True

    def _claim(self) -> bool:
        """Take one application if any is left (atomic)."""
        with self._lock:
            if self.times is not None and self._hits >= self.times:
                return False
            self._hits += 1
            return True


@dataclass
class SeenRequest:
    """A request the proxy received.

    ``path`` is percent-decoded (``raw_path`` is the request target as sent, with its query);
    ``query`` maps parameter -> value (``""`` for a bare ``?delete``); ``headers`` is
    case-insensitive. ``status`` is the status the client was sent (None while pending, or for
    ``hang``); ``action`` the rule's action applied (None when plainly forwarded).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDictProxy[str]
    raw_path: str
    status: int | None = None
    action: str | None = None
    rule: Rule | None = None


class FaultProxy:
    """A loopback reverse proxy to ``upstream_url`` that injects the faults of its rules.

    ``upstream_url`` is ``http://host:port`` (a trailing path is ignored). Use ``start()``
    (returns self), ``url`` (``http://127.0.0.1:PORT``), ``add(rule)``, ``reset()``,
    ``requests`` and ``stop()``; also usable as a context manager.
    """

    def __init__(self, upstream_url: str) -> None:
        upstream = URL(upstream_url)
        if upstream.scheme not in ("http", "https") or not upstream.host:
            raise ValueError(f"upstream must be an http(s) URL, got {upstream_url!r}")
        self.upstream_url = str(upstream.origin())
        self.port: int | None = None
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._requests: list[SeenRequest] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._held: set[asyncio.Transport] = set()  # hang/stall connections (loop thread only)

    # ----------------------------------------------------------------------- public API
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the proxy (after :meth:`start`)."""
        if self.port is None:
            raise RuntimeError("the fault proxy is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[SeenRequest]:
        """A snapshot of the requests received since the last :meth:`reset`, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def rules(self) -> list[Rule]:
        """A snapshot of the current rules, in match order."""
        with self._lock:
            return list(self._rules)

    def add(self, rule: Rule) -> Rule:
        """Append ``rule`` (rules are tried in the order added) and return it."""
        if not isinstance(rule, Rule):
            raise TypeError("add() takes a Rule")
        with self._lock:
            self._rules.append(rule)
        return rule

    def reset(self) -> None:
        """Drop all rules and the request log; connections held by hang/stall are aborted."""
        with self._lock:
            self._rules.clear()
            self._requests.clear()
        loop = self._loop
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self._release_held(), loop).result(10)

    def start(self) -> FaultProxy:
        """Start serving in a daemon thread; returns self once the port is bound."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._setup())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the fault proxy did not start within 30 s")
        if failure:
            self._thread = None
            raise RuntimeError("the fault proxy failed to start") from failure[0]
        return self

    def stop(self) -> None:
        """Abort held connections, close the listener and the upstream session, end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            self._loop = None
            self._thread = None
            self.port = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --------------------------------------------------------------------- loop thread
    async def _setup(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
            # Clients decide how long to wait; only connecting upstream is bounded.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            auto_decompress=False,  # bodies pass through as stored (gzip stays gzip)
            max_line_size=65536,
            max_field_size=65536,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        server = web.Server(
            self._handle,
            handler_cancellation=True,  # a handler ends when its client disconnects
            auto_decompress=False,  # request bodies are forwarded as sent
            access_log=None,
            max_line_size=65536,
            max_field_size=65536,
        )
        self._runner = web.ServerRunner(server, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, reuse_address=True)
        await site.start()
        sockets = self._runner.addresses
        self.port = sockets[0][1]

    async def _shutdown(self) -> None:
        await self._release_held()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _release_held(self) -> None:
        for transport in list(self._held):
            _abort_with_rst(transport)
        self._held.clear()

    def _pick(self, seen: SeenRequest) -> Rule | None:
        with self._lock:
            self._requests.append(seen)
            for rule in self._rules:
                if rule.matches(seen.method, seen.path, seen.query, seen.headers) and rule._claim():
                    seen.rule, seen.action = rule, rule.action
                    return rule
        return None

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        raw_path = request.raw_path
        seen = SeenRequest(
            method=request.method,
            path=unquote(raw_path.split("?", 1)[0]),
            query=dict(request.query),
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            raw_path=raw_path,
        )
        rule = self._pick(seen)
        action = rule.action if rule is not None else None

        if action == "hang":
            await self._hold(request)
        if action == "status":
            assert rule is not None
            unread = await _discard_body(request)
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{_xml_escape(rule.code or '')}</Code><Message>injected</Message>"
                "<RequestId>fault-proxy</RequestId></Error>"
            ).encode()
            return self._answer(seen, rule.status, body, "application/xml", close=unread)
        if action == "html":
            unread = await _discard_body(request)
            return self._answer(seen, 200, _HTML_PAGE, "text/html; charset=utf-8", close=unread)
        if action == "reply":
            assert rule is not None
            unread = await _discard_body(request)
            return self._answer(seen, rule.status, rule.body, rule.content_type, close=unread)
        if action == "latency":
            assert rule is not None
            await asyncio.sleep(rule.delay)
        if action in ("delete-omit", "delete-errors", "delete-empty"):
            assert rule is not None
            return await self._delete_objects(request, seen, rule)

        _continue(request)
        if action == "rewrite":
            assert rule is not None
            return await self._rewrite(request, seen, rule)
        if action in ("flip-request", "lose-reply"):
            assert rule is not None
            return await self._tamper(request, seen, rule)
        async with await self._send_upstream(request, seen, _body_stream(request)) as upstream:
            resp = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            _copy_headers(upstream.headers, resp.headers)
            seen.status = upstream.status
            await resp.prepare(request)
            if action in ("reset", "truncate", "stall"):
                assert rule is not None
                await _copy_body(upstream, resp, limit=rule.after)
                await _flushed(request.transport)
                upstream.close()
                if action == "stall":
                    await self._hold(request)
                transport = request.transport
                if transport is not None:
                    if action == "reset":
                        await _acknowledged(transport)
                        _abort_with_rst(transport)
                    else:
                        transport.close()  # FIN after the buffered bytes
                # connection_lost cancels this handler (handler_cancellation).
                await asyncio.sleep(30)
                raise ConnectionResetError("fault proxy closed the connection")
            flip_at = rule.after if action == "flip" and rule is not None else None
            await _copy_body(upstream, resp, flip_at=flip_at)
            await resp.write_eof()
            return resp

    async def _rewrite(
        self, request: web.BaseRequest, seen: SeenRequest, rule: Rule
    ) -> web.Response:
        async with await self._send_upstream(request, seen, _body_stream(request)) as upstream:
            body = await upstream.read()
            headers = CIMultiDict[str]()
            _copy_headers(upstream.headers, headers)
            status = upstream.status
        body = re.sub(rule.pattern or b"(?!)", rule.replacement, body)
        headers.popall("Content-Length", None)
        headers.popall("Content-Encoding", None)
        seen.status = status
        return web.Response(status=status, body=body, headers=headers)

    async def _tamper(
        self, request: web.BaseRequest, seen: SeenRequest, rule: Rule
    ) -> web.StreamResponse:
        """``flip-request``: one request byte flipped; ``lose-reply``: the answer dropped."""
        body = await request.read()
        if rule.action == "flip-request" and rule.after < len(body):
            flipped = bytearray(body)
            flipped[rule.after] ^= 0xFF
            body = bytes(flipped)
        async with await self._send_upstream(request, seen, body) as upstream:
            payload = await upstream.read()
            headers = CIMultiDict[str]()
            _copy_headers(upstream.headers, headers)
            seen.status = upstream.status
        if rule.action == "lose-reply":
            transport = request.transport
            if transport is not None:
                _abort_with_rst(transport)
            await asyncio.sleep(30)  # connection_lost cancels this handler
            raise ConnectionResetError("fault proxy dropped the answer")
        headers.popall("Content-Length", None)
        headers.popall("Content-Encoding", None)
        return web.Response(status=seen.status or 502, body=payload, headers=headers)

    async def _hold(self, request: web.BaseRequest) -> None:
        """Keep the connection open and silent until the client, reset() or stop() ends it."""
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("client gone")
        self._held.add(transport)
        try:
            await asyncio.Event().wait()  # cancelled when the connection is lost
        finally:
            self._held.discard(transport)

    def _answer(
        self, seen: SeenRequest, status: int, body: bytes, content_type: str, *, close: bool
    ) -> web.Response:
        seen.status = status
        headers = {"Content-Type": content_type, "x-amz-request-id": "fault-proxy"}
        resp = web.Response(status=status, body=body, headers=headers)
        if close:
            # The client may still send the body it announced; never read it as a request.
            resp.force_close()
        return resp

    async def _send_upstream(
        self,
        request: web.BaseRequest,
        seen: SeenRequest,
        data: Any,
        headers: CIMultiDict[str] | None = None,
    ) -> aiohttp.ClientResponse:
        assert self._session is not None
        if headers is None:
            headers = _forward_headers(request.headers)
        url = URL(self.upstream_url + request.raw_path, encoded=True)
        try:
            return await self._session.request(
                request.method,
                url,
                headers=headers,
                data=data,
                allow_redirects=False,
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                compress=None,
            )
        except aiohttp.ClientConnectionError as exc:
            # Upstream unreachable: a gateway error, like a real proxy.
            seen.status = 502
            raise web.HTTPBadGateway(text=f"fault proxy: upstream unreachable: {exc}") from exc

    async def _delete_objects(
        self, request: web.BaseRequest, seen: SeenRequest, rule: Rule
    ) -> web.StreamResponse:
        _continue(request)
        body = await request.read()
        headers = _forward_headers(request.headers)
        entries = _delete_entries(body)
        targeted = [e for e in entries if rule.keys is None or e["key"] in rule.keys]
        forward_body: bytes | None = body
        if not rule.really_delete and targeted:
            if "aws-chunked" in headers.get("Content-Encoding", ""):
                raise web.HTTPNotImplemented(text="fault proxy: aws-chunked DeleteObjects")
            kept = [e for e in entries if e not in targeted]
            forward_body = _rebuild_delete(body, entries, kept) if kept else None
            if forward_body is not None:
                _fix_body_headers(headers, forward_body)
        if rule.action == "delete-empty" and not rule.really_delete:
            forward_body = None
        if forward_body is None:
            status, reply_headers, reply = 200, CIMultiDict[str](), b""
            if rule.action != "delete-empty":
                reply = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f'<DeleteResult xmlns="{_S3_NS}"></DeleteResult>'
                ).encode()
                reply_headers["Content-Type"] = "application/xml"
        else:
            async with await self._send_upstream(request, seen, forward_body, headers) as upstream:
                status, reply = upstream.status, await upstream.read()
                reply_headers = CIMultiDict[str]()
                _copy_headers(upstream.headers, reply_headers)
        if status == 200:
            if rule.action == "delete-empty":
                reply = b""
            else:
                reply = _rewrite_delete_reply(
                    reply, targeted, errors=rule.action == "delete-errors"
                )
        reply_headers.popall("Content-Length", None)
        reply_headers.popall("Content-MD5", None)
        reply_headers.setdefault("x-amz-request-id", "fault-proxy")
        seen.status = status
        return web.Response(status=status, body=reply, headers=reply_headers)


# ------------------------------------------------------------------------------ helpers
def _forward_headers(incoming: Any) -> CIMultiDict[str]:
    """End-to-end request headers, Host included, in order and with duplicates."""
    named = {
        token.strip().lower()
        for value in incoming.getall("Connection", [])
        for token in value.split(",")
    }
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        lower = name.lower()
        if lower in _HOP_BY_HOP or lower in named or lower == "expect":
            continue
        out.add(name, value)
    return out


def _copy_headers(upstream: Any, target: Any) -> None:
    named = {
        token.strip().lower()
        for value in upstream.getall("Connection", [])
        for token in value.split(",")
    }
    for name, value in upstream.items():
        lower = name.lower()
        if lower in _HOP_BY_HOP or lower in named:
            continue
        target.add(name, value)


def _continue(request: web.BaseRequest) -> None:
    """Answer ``Expect: 100-continue`` before the body is read (RFC 9110 section 10.1.1)."""
    if request.headers.get("Expect", "").lower() == "100-continue" and request.transport:
        request.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")


async def _discard_body(request: web.BaseRequest) -> bool:
    """Read and drop the request body, so the client sees the answer, not a broken pipe.

    A client that waits for 100 Continue gets the final answer at once instead (as S3 does);
    returns True then (the body is unread: the connection must close after the answer).
    """
    if request.headers.get("Expect", "").lower() == "100-continue" and request.body_exists:
        return True
    while await request.content.readany():
        pass
    return False


def _body_stream(request: web.BaseRequest) -> AsyncIterator[bytes] | None:
    """The request body as an async iterator of chunks, or None when there is none."""
    if not request.body_exists:
        return None

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await request.content.readany():
            yield chunk

    return chunks()


async def _copy_body(
    upstream: aiohttp.ClientResponse,
    resp: web.StreamResponse,
    *,
    limit: int | None = None,
    flip_at: int | None = None,
) -> int:
    """Stream the upstream body to the client: at most ``limit`` bytes, one byte flipped."""
    sent = 0
    while limit is None or sent < limit:
        want = _CHUNK if limit is None else min(_CHUNK, limit - sent)
        chunk = await upstream.content.read(want)
        if not chunk:
            break
        if flip_at is not None and sent <= flip_at < sent + len(chunk):
            buf = bytearray(chunk)
            buf[flip_at - sent] ^= 0xFF
            chunk = bytes(buf)
        await resp.write(chunk)
        sent += len(chunk)
    return sent


async def _flushed(transport: asyncio.BaseTransport | None, timeout: float = 5.0) -> None:
    """Wait (bounded) until the bytes written so far have left the transport's buffer."""
    if not isinstance(transport, asyncio.WriteTransport):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (
        not transport.is_closing() and transport.get_write_buffer_size() and loop.time() < deadline
    ):
        await asyncio.sleep(0.005)


async def _acknowledged(transport: asyncio.BaseTransport | None, timeout: float = 5.0) -> None:
    """Wait (bounded) until the peer's kernel has acknowledged every byte sent (Linux
    ``SIOCOUTQ`` is 0). An RST discards the sender's unsent queue, so without this wait a
    slow reader (a loaded machine) would lose the bytes ``after`` promised it."""
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or not hasattr(termios, "TIOCOUTQ"):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    queued = array.array("i", [0])
    while loop.time() < deadline:
        try:
            fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, queued)
        except OSError:
            return
        if queued[0] == 0:
            return
        await asyncio.sleep(0.005)


def _abort_with_rst(transport: asyncio.BaseTransport) -> None:
    """Close with a TCP RST (SO_LINGER 0) rather than a FIN: a "connection reset by peer"."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()  # type: ignore[attr-defined]


# ---------------------------------------------------------- DeleteObjects request / reply
_OBJECT_RE = re.compile(rb"<Object>(.*?)</Object>", re.S)
_KEY_RE = re.compile(rb"<Key>(.*?)</Key>", re.S)
_VERSION_RE = re.compile(rb"<VersionId>(.*?)</VersionId>", re.S)
_DELETED_RE = re.compile(rb"<Deleted>(.*?)</Deleted>", re.S)


def _text(match: re.Match[bytes] | None) -> str | None:
    return html.unescape(match.group(1).decode()) if match else None


def _delete_entries(body: bytes) -> list[dict[str, Any]]:
    """The ``<Object>`` entries of a DeleteObjects request: key, version, span in the body."""
    entries = []
    for match in _OBJECT_RE.finditer(body):
        key = _text(_KEY_RE.search(match.group(1)))
        if key is None:
            continue
        entries.append(
            {
                "key": key,
                "version": _text(_VERSION_RE.search(match.group(1))),
                "span": match.span(),
            }
        )
    return entries


def _rebuild_delete(
    body: bytes, entries: list[dict[str, Any]], kept: list[dict[str, Any]]
) -> bytes:
    """``body`` without the ``<Object>`` entries not in ``kept`` (everything else verbatim)."""
    out, pos = [], 0
    for entry in entries:
        start, end = entry["span"]
        out.append(body[pos:start])
        if entry in kept:
            out.append(body[start:end])
        pos = end
    out.append(body[pos:])
    return b"".join(out)


def _fix_body_headers(headers: CIMultiDict[str], body: bytes) -> None:
    """Content-Length and checksum headers for a rewritten request body."""
    headers["Content-Length"] = str(len(body))
    if "Content-MD5" in headers:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    for name in list(headers.keys()):
        lower = name.lower()
        if not lower.startswith("x-amz-checksum-") or lower == "x-amz-checksum-algorithm":
            continue
        digest = _checksum(lower.removeprefix("x-amz-checksum-"), body)
        if digest is None:
            del headers[name]  # an algorithm we cannot compute: better absent than wrong
        else:
            headers[name] = base64.b64encode(digest).decode()
    if re.fullmatch(r"[0-9a-f]{64}", headers.get("x-amz-content-sha256", "")):
        # Only servers that do not check signatures (moto with auth off) accept this.
        headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()


def _checksum(algorithm: str, body: bytes) -> bytes | None:
    if algorithm == "crc32":
        return struct.pack(">I", zlib.crc32(body))
    if algorithm == "sha1":
        return hashlib.sha1(body).digest()
    if algorithm == "sha256":
        return hashlib.sha256(body).digest()
    if algorithm == "sha512":
        return hashlib.sha512(body).digest()
    if algorithm in ("crc32c", "crc64nvme"):
        from awscrt import checksums

        if algorithm == "crc32c":
            return struct.pack(">I", checksums.crc32c(body))
        return struct.pack(">Q", checksums.crc64nvme(body))
    return None


def _xml_text(value: str) -> str:
    return _xml_escape(value, {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})


def _rewrite_delete_reply(reply: bytes, targeted: list[dict[str, Any]], *, errors: bool) -> bytes:
    """Drop ``<Deleted>`` for the targeted keys; with ``errors`` add AccessDenied for each."""
    keys = {e["key"] for e in targeted}

    def drop(match: re.Match[bytes]) -> bytes:
        return b"" if _text(_KEY_RE.search(match.group(1))) in keys else match.group(0)

    reply = _DELETED_RE.sub(drop, reply)
    if not errors or not targeted:
        return reply
    added = "".join(
        f"<Error><Key>{_xml_text(e['key'])}</Key>"
        + (f"<VersionId>{_xml_text(e['version'])}</VersionId>" if e["version"] else "")
        + "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        for e in targeted
    ).encode()
    close = reply.rfind(b"</DeleteResult>")
    if close < 0:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{_S3_NS}">'.encode()
            + added
            + b"</DeleteResult>"
        )
    return reply[:close] + added + reply[close:]
