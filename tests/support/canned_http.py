"""A tiny real HTTP server on loopback that answers from a script of canned responses.

Used to drive the SDKs' real HTTP stacks into failures moto and the GCS emulator cannot
produce on demand (500, 503 SlowDown, 429, 301 redirects) and to count the requests that
actually arrive. It is a server, not a mock: the driver's client sends real requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One canned HTTP response."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/xml"


@dataclass
class CannedServer:
    """The running server: its URL and the request lines it received."""

    url: str
    requests: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.requests)


def s3_error(status: int, code: str, message: str = "canned", **extra: str) -> Reply:
    """An S3-style XML error document (S3 API reference, "Error responses")."""
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message>{fields}<RequestId>canned-req-1</RequestId></Error>"
    ).encode()
    return Reply(status, body, {"x-amz-request-id": "canned-req-1"})


def gcs_error(status: int, reason: str, message: str = "canned") -> Reply:
    """A GCS JSON API error document."""
    import json

    body = json.dumps(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
            }
        }
    ).encode()
    return Reply(status, body, content_type="application/json")


@contextmanager
def canned_server(script: Sequence[Reply]) -> Iterator[CannedServer]:
    """Serve ``script`` in order; the last reply repeats once the script runs out."""
    server_state = CannedServer(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with lock:
                index = min(len(server_state.requests), len(script) - 1)
                server_state.requests.append(f"{self.command} {self.path}")
            reply = script[index]
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            body = b"" if self.command == "HEAD" else reply.body
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _reply

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll interval: shutdown() waits for it (0.5 s by default).
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
