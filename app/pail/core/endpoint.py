"""S3 endpoint URLs checked before any request, and where an endpoint came from.

An S3 endpoint is ``scheme://host[:port]`` (botocore's ``endpoint_url``). The mistakes users
make with it are seen here, with no request sent (:func:`diagnose`):

* no scheme (``127.0.0.1:9000``, ``minio:9000``): botocore refuses it ("Invalid endpoint");
  the fix is ``http://127.0.0.1:9000``;
* another scheme (``s3://bucket``: a bucket URI given as the endpoint);
* the bucket in the path (``http://host:9000/mybucket``, ``https://s3.eu-west-1.amazonaws.com/b``):
  botocore would send ``/mybucket/<bucket>/key`` with path-style addressing;
* the bucket in the host name of a provider whose virtual-hosted form is known
  (``https://bucket.s3.eu-west-1.amazonaws.com`` as the FastTrackML docs show,
  ``bucket.s3.amazonaws.com``, ``bucket.s3-eu-west-1.amazonaws.com``, Wasabi, Backblaze B2,
  DigitalOcean Spaces, ``bucket.storage.googleapis.com``): botocore would prepend the
  bucket a second time (AWS "Virtual hosting of buckets");
* a user name or password in the URL, a query or a fragment.

Nothing is rewritten (fail closed): :class:`BadEndpoint` says what is wrong, the endpoint to
use, the bucket to name in the location, and where the endpoint came from. A host that
merely starts with the bucket's name on another domain is not refused here (a server may be
called like a bucket); :func:`pail.services.explain.endpoint_findings` notes it after a
failure instead. A path whose last segment is ``s3`` (Supabase's
``https://PROJECT.supabase.co/storage/v1/s3``) is an S3 API mounted under a path and is kept.

Sources (:func:`came_from`): the flag ``--endpoint-url``, a variable name
(``MLFLOW_S3_ENDPOINT_URL``...), or ``connection NAME (FILE)`` for a saved connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pail.core.uri import InvalidURI

#: The source label of the command-line flag.
FLAG_SOURCE = "--endpoint-url"

# Hosts that are the provider's own (TLS on 443): the scheme to suggest is https.
_TLS_DOMAINS = (
    ".amazonaws.com",
    ".amazonaws.com.cn",
    ".r2.cloudflarestorage.com",
    ".googleapis.com",
    ".wasabisys.com",
    ".backblazeb2.com",
    ".digitaloceanspaces.com",
    ".linodeobjects.com",
)
# bucket.SERVICE where SERVICE is the provider's endpoint host (virtual-hosted style).
_VIRTUAL_HOSTED = (
    # AWS: bucket.s3.amazonaws.com, bucket.s3.REGION.amazonaws.com, bucket.s3-REGION...,
    # bucket.s3.dualstack.REGION.amazonaws.com (AWS S3 User Guide, "Virtual hosting").
    re.compile(r"^(?P<bucket>.+?)\.(?P<service>s3(?:[.-][a-z0-9.-]+)?\.amazonaws\.com(?:\.cn)?)$"),
    re.compile(r"^(?P<bucket>.+?)\.(?P<service>s3(?:\.[a-z0-9-]+)?\.wasabisys\.com)$"),
    re.compile(r"^(?P<bucket>.+?)\.(?P<service>s3\.[a-z0-9-]+\.backblazeb2\.com)$"),
    re.compile(r"^(?P<bucket>.+?)\.(?P<service>[a-z0-9-]+\.digitaloceanspaces\.com)$"),
    re.compile(r"^(?P<bucket>.+?)\.(?P<service>[a-z0-9-]+\.linodeobjects\.com)$"),
    re.compile(r"^(?P<bucket>.+?)\.(?P<service>storage\.googleapis\.com)$"),
)
_AWS_REGION = re.compile(
    r"^s3(?:[.-]dualstack)?[.-](?P<region>[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d+)\.amazonaws"
)
_VAR_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_LOCATION_SCHEMES = ("s3", "s3a", "s3n", "gs", "gcs")


def safe_endpoint(url: str) -> str:
    """``url`` without a user name or password (``http://u:p@h:9000`` -> ``http://h:9000``),
    for messages."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/@]*@", r"\1", url.strip())


def came_from(source: str | None) -> str:
    """``"the endpoint came from SOURCE"``, or ``""`` when the source is unknown."""
    return f"the endpoint came from {source}" if source else ""


def fix_phrase(source: str | None, endpoint: str | None) -> str:
    """How to change the endpoint where it was set: ``--endpoint-url URL``, ``set VAR=URL``,
    or ``edit endpoint_url of connection NAME``; ``endpoint`` ``None`` = remove it."""
    if source == FLAG_SOURCE:
        return f"pass --endpoint-url {endpoint}" if endpoint else "drop --endpoint-url"
    if source and _VAR_RE.match(source):
        return f"set {source}={endpoint}" if endpoint else f"unset {source}"
    if source and source.startswith("connection "):
        what = f'endpoint_url = "{endpoint}"' if endpoint else "no endpoint_url"
        return f"give {source.split(' (')[0]} {what}"
    return f"use the endpoint {endpoint}" if endpoint else "use no endpoint"


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with an endpoint URL and what to use instead.

    Attributes:
        endpoint: the endpoint as given, user name and password removed (safe to show).
        problems: one phrase per problem (``"has no scheme"``...).
        use: the endpoint to use (``scheme://host[:port]``); for an AWS host it is the
            regional endpoint, and :attr:`aws` says that no endpoint at all also works.
        bucket: the bucket found in the path or the host name, else ``None``.
        prefix: the rest of the path after the bucket (``"runs/"``), else ``""``.
        region: the AWS region the host names, else ``None``.
        aws: the host is AWS S3's own.
    """

    endpoint: str
    problems: tuple[str, ...]
    use: str | None
    bucket: str | None = None
    prefix: str = ""
    region: str | None = None
    aws: bool = False

    def message(self, source: str | None = None, scheme: str = "s3") -> str:
        """One line: the problems, the endpoint and location to use, the source."""
        head = f"endpoint {self.endpoint!r} " + " and ".join(self.problems)
        fixes = []
        if self.use:
            fixes.append(f"use the endpoint {self.use}")
            if self.aws:  # AWS S3 itself needs no endpoint, only the region
                region = f" with --region {self.region}" if self.region else ""
                fixes[-1] += f" (or, this being AWS, no endpoint{region})"
        if self.bucket:
            fixes.append(f"name the bucket in the location: {scheme}://{self.bucket}/{self.prefix}")
        text = head + (": " + ", and ".join(fixes) if fixes else "")
        if source:
            text += f"; {came_from(source)}"
            text += f" ({fix_phrase(source, self.use)})" if self.use else ""
        return text


class BadEndpoint(InvalidURI):
    """An endpoint URL refused before any request (see the module doc). An
    :class:`~pail.core.uri.InvalidURI`, so the command line exits 2; ``str()`` is one line
    with the fix and the source.

    Attributes:
        diagnosis: the :class:`Diagnosis`.
        source: where the endpoint came from (``--endpoint-url``, a variable, a connection).
    """

    def __init__(self, diagnosis: Diagnosis, source: str | None = None, scheme: str = "s3"):
        super().__init__(diagnosis.message(source, scheme))
        self.diagnosis = diagnosis
        self.source = source


def _scheme_for(host: str, port: int | None) -> str:
    if port == 443 or any(host.endswith(d) for d in _TLS_DOMAINS):
        return "https"
    return "http"


def _without_userinfo(netloc: str) -> str:
    return netloc.rsplit("@", 1)[-1]


def diagnose(url: str) -> Diagnosis | None:
    """The problems of endpoint ``url`` (see the module doc), or ``None`` when it is a
    plain ``http(s)://host[:port]``. Pure: no request, no DNS lookup."""
    text = url.strip()
    if not text:
        return None
    problems: list[str] = []
    if any(c.isspace() for c in text):
        problems.append("contains spaces")
        text = "".join(text.split())
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    scheme = match.group(1).lower() if match else None
    if scheme is None:
        problems.append("has no scheme")
        rest = text.lstrip("/")
    elif scheme in _LOCATION_SCHEMES:  # s3://bucket given where the endpoint goes
        named = text[match.end() :].split("/")[0] if match else ""
        problem = f"is a bucket location ({scheme}://), not an endpoint URL (http(s)://host)"
        return Diagnosis(text, (*problems, problem), None, named or None)
    elif scheme not in ("http", "https"):
        problems.append(f"has the scheme {scheme}:// (an endpoint is http:// or https://)")
        rest = text[match.end() :] if match else text
    else:
        rest = text[match.end() :] if match else text
    try:
        parts = urlsplit("//" + rest)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:  # a port that is not a number
        shown = _without_userinfo(rest.split("/")[0])
        return Diagnosis(text, (*problems, f"has an unreadable host or port ({shown})"), None)
    shown = text
    if "@" in parts.netloc:
        problems.append("holds a user name or password (credentials go in the keyring)")
        shown = text.replace(parts.netloc, _without_userinfo(parts.netloc), 1)
    if not host:
        return Diagnosis(shown, (*problems, "names no host"), None)
    if scheme not in ("http", "https"):
        scheme = _scheme_for(host, port)
    if parts.query or parts.fragment:
        problems.append("has a query or fragment")
    netloc = _without_userinfo(parts.netloc).lower()
    bucket: str | None = None
    prefix = ""
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1].lower() != "s3":  # .../s3: an S3 API under a path
        bucket, rest_keys = segments[0], segments[1:]
        prefix = "/".join(rest_keys) + ("/" if rest_keys else "")
        problems.append(f"has the bucket {bucket} in its path")
        path = ""
    else:
        path = "/" + "/".join(segments) if segments else ""
    for pattern in _VIRTUAL_HOSTED:
        found = pattern.match(host)
        if found:
            if bucket is not None:  # host and path both: the path is a key prefix
                prefix = "/".join(segments) + "/"
            bucket = found.group("bucket")
            problems.append(f"has the bucket {bucket} in its host name (virtual-hosted style)")
            netloc = found.group("service") + (f":{port}" if port else "")
            host = found.group("service")
            break
    if not problems:
        return None
    aws = ".amazonaws.com" in host
    region_match = _AWS_REGION.match(host) if aws else None
    region = region_match.group("region") if region_match else None
    if aws and region is None and host in ("s3.amazonaws.com", "s3-external-1.amazonaws.com"):
        region = "us-east-1"
    return Diagnosis(
        shown, tuple(problems), f"{scheme}://{netloc}{path}", bucket, prefix, region, aws
    )


def check_endpoint(url: str | None, source: str | None = None, scheme: str = "s3") -> None:
    """Raise :class:`BadEndpoint` when ``url`` has a problem :func:`diagnose` finds.

    Args:
        url: the endpoint; ``None`` or ``""`` (the provider's default) passes.
        source: where it came from, named in the message.
        scheme: the location scheme used in the suggested location (``s3``).
    """
    if not url:
        return
    diagnosis = diagnose(url)
    if diagnosis is not None:
        raise BadEndpoint(diagnosis, source, scheme)
