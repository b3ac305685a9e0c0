"""Presigned URLs for the demo store: a WSGI wrapper around moto's S3 app.

moto's IAM enforcement reads the ``Authorization`` header of every S3 request and fails
with HTTP 500 (a ``KeyError`` inside moto 5) on a request that has none, so the demo's
presigned URLs (SigV4 query-string auth: ``X-Amz-Credential``, ``X-Amz-Signature`` ...)
never worked. :class:`PresignedRequests` sits in front of moto and does what S3 does with
such a URL:

1. checks the query-string signature (AWS Signature Version 4, ``UNSIGNED-PAYLOAD``) with
   the secret of the access key it names (only the demo's own users are known);
2. refuses an expired URL, a bad signature or an unknown key with S3's 403 XML error;
3. re-signs the request with an ``Authorization`` header for the same user (botocore's
   ``S3SigV4Auth``) and hands it to moto, which then checks the user's IAM policy as for
   any request: the read-only user's URL outside its prefix gets a real 403.

A request with no credentials at all (neither header nor query signature) is answered 403
AccessDenied, as S3 answers anonymous requests to a private bucket. moto's control API
(``/moto-api/``) passes through untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, unquote

#: The only algorithm botocore presigns S3 URLs with when asked for SigV4.
ALGORITHM = "AWS4-HMAC-SHA256"
_PRESIGN_PARAMS = {
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Refused(Exception):
    """A presigned request S3 would refuse: ``code`` and ``message`` of its 403 XML."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _pairs(query: str) -> list[tuple[str, str]]:
    """The query string's ``(name, value)`` pairs, percent-decoded, blanks kept."""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name.replace("+", " ")), unquote(value.replace("+", " "))))
    return pairs


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def expected_signature(
    secret: str,
    method: str,
    raw_path: str,
    pairs: list[tuple[str, str]],
    headers: Mapping[str, str],
) -> str:
    """The SigV4 query-string signature of a presigned request, hex.

    Args:
        secret: the access key's secret.
        method: the HTTP method.
        raw_path: the path as sent (S3 signs it as is: no normalisation, no re-encoding).
        pairs: the decoded query parameters, ``X-Amz-Signature`` included or not.
        headers: lower-case header name -> value, for the names in ``X-Amz-SignedHeaders``.

    Raises:
        KeyError: a ``X-Amz-*`` parameter or a signed header is missing.
    """
    params = dict(pairs)
    signed = params["X-Amz-SignedHeaders"].split(";")
    canonical_query = "&".join(
        sorted(f"{_encode(k)}={_encode(v)}" for k, v in pairs if k != "X-Amz-Signature")
    )
    canonical_headers = "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed)
    canonical = "\n".join(
        [method, raw_path, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"]
    )
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        [ALGORITHM, params["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    day, region, service, _ = scope.split("/")
    key = _hmac(("AWS4" + secret).encode("utf-8"), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class PresignedRequests:
    """WSGI middleware in front of moto's S3 app (see the module doc).

    Args:
        app: moto's WSGI application.
        secrets: access key id -> secret access key of the users whose URLs are honoured;
            filled in once the demo's IAM users exist (a dict may be updated later).
        clock: seconds since the epoch (tests pass a fixed one).
    """

    def __init__(
        self,
        app: WsgiApp,
        secrets: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.secrets = secrets
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith("/moto-api") or environ.get(
            "HTTP_AUTHORIZATION"
        ):
            return self.app(environ, start_response)
        pairs = _pairs(environ.get("QUERY_STRING", ""))
        try:
            if not any(k == "X-Amz-Signature" for k, _ in pairs):
                raise Refused("AccessDenied", "Access Denied")
            self._authorize(environ, pairs)
        except Refused as refused:
            return _error(start_response, refused)
        return self.app(environ, start_response)

    def _authorize(self, environ: dict[str, Any], pairs: list[tuple[str, str]]) -> None:
        """Check the query signature, then put an Authorization header in its place."""
        params = dict(pairs)
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise Refused("AuthorizationQueryParametersError", "Only AWS4-HMAC-SHA256 is supported")
        try:
            key_id, _day, region, _service, _end = params["X-Amz-Credential"].split("/")
            signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
            expires = int(params["X-Amz-Expires"])
        except (KeyError, ValueError):
            raise Refused(
                "AuthorizationQueryParametersError", "Malformed presigned query parameters"
            ) from None
        secret = self.secrets.get(key_id)
        if secret is None:
            raise Refused(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        if signed_at.replace(tzinfo=timezone.utc).timestamp() + expires < self.clock():
            raise Refused("AccessDenied", "Request has expired")
        raw_path = _raw_path(environ)
        headers = {"host": environ.get("HTTP_HOST", "")}
        for name in params.get("X-Amz-SignedHeaders", "").split(";"):
            env_name = "HTTP_" + name.upper().replace("-", "_")
            if name != "host" and env_name in environ:
                headers[name] = environ[env_name]
        try:
            wanted = expected_signature(secret, environ["REQUEST_METHOD"], raw_path, pairs, headers)
        except KeyError:
            wanted = ""
        if not hmac.compare_digest(wanted, params["X-Amz-Signature"]):
            raise Refused(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        rest = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs if k not in _PRESIGN_PARAMS)
        self._sign_header(environ, raw_path, rest, key_id, secret, region)

    @staticmethod
    def _sign_header(
        environ: dict[str, Any], raw_path: str, query: str, key_id: str, secret: str, region: str
    ) -> None:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        url = f"http://{environ.get('HTTP_HOST', '')}{raw_path}" + (f"?{query}" if query else "")
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=url)
        S3SigV4Auth(Credentials(key_id, secret), "s3", region).add_auth(request)
        environ["QUERY_STRING"] = query
        environ["RAW_URI"] = raw_path + (f"?{query}" if query else "")
        environ["REQUEST_URI"] = environ["RAW_URI"]
        environ["HTTP_AUTHORIZATION"] = request.headers["Authorization"]
        environ["HTTP_X_AMZ_DATE"] = request.headers["X-Amz-Date"]
        environ["HTTP_X_AMZ_CONTENT_SHA256"] = request.headers["X-Amz-Content-SHA256"]


def _raw_path(environ: Mapping[str, Any]) -> str:
    """The path as it arrived (werkzeug's dev server keeps it in ``RAW_URI``)."""
    raw = (
        environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", ""))
    )
    if "://" in raw.split("?", 1)[0]:  # an absolute URI: drop scheme and host
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    return raw.split("?", 1)[0] or "/"


def _error(start_response: Callable[..., Any], refused: Refused) -> list[bytes]:
    from xml.sax.saxutils import escape

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(refused.code)}</Code><Message>{escape(refused.message)}</Message>"
        "<RequestId>pail-demo</RequestId></Error>"
    ).encode()
    start_response(
        "403 Forbidden",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


__all__ = ["ALGORITHM", "PresignedRequests", "Refused", "expected_signature"]
