"""What each S3 flavour can do, as data (rclone keeps the same per provider, in
``backend/s3/provider/*.yaml``), and what one connection was found to support.

A :class:`Quirks` value is one flavour's capabilities; :data:`FLAVOURS` is the table.
:class:`QuirkState` is a connection's effective capabilities in this process, each from the
first of:

1. the connection's **settings** (config file keys ``list_version = 1``,
   ``addressing_style = "path"``, ``batch_delete = false``..., or flags such as
   ``--list-version 1``), checked by :func:`check_settings`;
2. a capability **remembered** as failing in this process: an answer of 501
   ``NotImplemented``, or a body that is not S3 XML, to the request that uses it. It is
   remembered per connection (the endpoint) for the life of the process, so the failed
   path is not tried again; each such change is also a note for the front-ends
   (:func:`take_notes`: the command line prints it, the app's detail pane shows it);
3. the **flavour**: the ``flavour`` setting, else the one named by the ``Server`` header of
   the first answer (``MinIO``, ``AmazonS3``, ``SeaweedFS``...), else the one the endpoint
   host implies (none: AWS; ``storage.googleapis.com``: GCS interoperability;
   ``*.r2.cloudflarestorage.com``: R2), else ``generic``.

Sources for the table: the providers' own S3 compatibility pages (MinIO, SeaweedFS wiki
"Amazon S3 API", Ceph RGW "S3 API" feature table, Cloudflare R2 "S3 API compatibility",
Google "XML API: interoperability"), rclone's provider quirks (``list_version: 1`` for
SeaweedFS and Ceph; path style for MinIO, SeaweedFS, Ceph and R2), and the servers pail's
tests run (moto, SeaweedFS 4.x).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from pail.drivers.errors import InvalidRequest, NotSupported

#: Capability names, in the order they are described.
CAPABILITIES = (
    "list_version",
    "addressing_style",
    "batch_delete",
    "sts",
    "versioning",
    "lifecycle",
    "head_part_number",
    "object_attributes",
    "conditional_writes",
)
#: Settings a connection may give (config keys and flags): the capabilities and ``flavour``.
SETTINGS = ("flavour", *CAPABILITIES)
ADDRESSING_STYLES = ("auto", "path", "virtual")


@dataclass(frozen=True)
class Quirks:
    """One S3 flavour's capabilities.

    Attributes:
        list_version: 2 lists with ListObjectsV2 (``list-type=2``, ``ContinuationToken``);
            1 with ListObjects (``Marker``/``NextMarker``; S3 API reference, ListObjects).
        addressing_style: ``"path"`` (``http://host/bucket/key``), ``"virtual"``
            (``http://bucket.host/key``) or ``"auto"`` (botocore decides).
        batch_delete: DeleteObjects (up to 1,000 keys a request); without it, one
            DeleteObject per key.
        sts: STS GetCallerIdentity answers at the endpoint (who am I).
        versioning: object versions (GetBucketVersioning, ListObjectVersions).
        lifecycle: lifecycle rules (Get/PutBucketLifecycleConfiguration).
        head_part_number: HeadObject ``partNumber`` gives a part's size.
        object_attributes: GetObjectAttributes lists an object's parts.
        conditional_writes: create-only writes (``If-None-Match: *`` on PutObject,
            CompleteMultipartUpload and CopyObject; S3 User Guide, "Conditional writes").
            Off (a setting, or a 501 answer remembered): the S3 driver refuses such a write
            with NotSupported code ``ConditionalWriteUnsupported`` before sending it, and
            the transfer engine checks with HeadObject instead.
    """

    list_version: int = 2
    addressing_style: str = "auto"
    batch_delete: bool = True
    sts: bool = True
    versioning: bool = True
    lifecycle: bool = True
    head_part_number: bool = True
    object_attributes: bool = True
    conditional_writes: bool = True


#: Each flavour's capabilities (see the module doc for the sources).
FLAVOURS: dict[str, Quirks] = {
    "aws": Quirks(),
    # MinIO: STS serves AssumeRole* only, not GetCallerIdentity.
    "minio": Quirks(addressing_style="path", sts=False),
    # SeaweedFS (4.48, checked by tests/matrix/test_s3_quirks.py): no STS (a signed
    # GetCallerIdentity answers 503 ServiceUnavailable every time); versions, lifecycle
    # rules, DeleteObjects, HeadObject partNumber and GetObjectAttributes (with its parts)
    # work. rclone lists it with V1 (4.48 pages V2 correctly too).
    "seaweedfs": Quirks(list_version=1, addressing_style="path", sts=False),
    # Ceph RGW: STS without GetCallerIdentity; rclone lists it with V1.
    "ceph": Quirks(list_version=1, addressing_style="path", sts=False, object_attributes=False),
    # R2: no versions, no STS, no GetObjectAttributes.
    "r2": Quirks(addressing_style="path", sts=False, versioning=False, object_attributes=False),
    # GCS's XML API: no multi-object delete, no STS, no part numbers or object attributes.
    "gcs-interop": Quirks(
        batch_delete=False, sts=False, head_part_number=False, object_attributes=False
    ),
    # An unknown S3-compatible store: everything is tried once; what fails is remembered.
    "generic": Quirks(),
    # moto's server: GetObjectAttributes lists no parts.
    "moto": Quirks(addressing_style="path", object_attributes=False),
}

# `Server` header (lower-cased substring) -> flavour, as each store answers.
_SERVER_HEADERS = (
    ("werkzeug", "moto"),  # moto's server answers "Werkzeug/3.x Python/3.x, amazon.com"
    ("amazons3", "aws"),
    ("minio", "minio"),
    ("seaweedfs", "seaweedfs"),
    ("ceph", "ceph"),
    ("rgw", "ceph"),
    ("cloudflare", "r2"),
    ("uploadserver", "gcs-interop"),
)
_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True}
_BOOL_WORDS |= {"false": False, "no": False, "off": False, "0": False}


def flavour_for_endpoint(endpoint_url: str | None) -> str | None:
    """The flavour an endpoint's host implies: ``"aws"`` for none or ``*.amazonaws.com``,
    ``"gcs-interop"`` for ``storage.googleapis.com``, ``"r2"`` for
    ``*.r2.cloudflarestorage.com``; ``None`` when the host says nothing."""
    if not endpoint_url:
        return "aws"
    host = urlsplit(endpoint_url if "//" in endpoint_url else "//" + endpoint_url).hostname or ""
    host = host.lower()
    if host == "amazonaws.com" or host.endswith(".amazonaws.com"):
        return "aws"
    if host == "storage.googleapis.com":
        return "gcs-interop"
    if host.endswith(".r2.cloudflarestorage.com"):
        return "r2"
    return None


def flavour_for_server(server: str | None) -> str | None:
    """The flavour a ``Server`` response header names (``MinIO``, ``AmazonS3``,
    ``SeaweedFS S3``...), or ``None``."""
    text = (server or "").lower()
    return next((flavour for word, flavour in _SERVER_HEADERS if word in text), None)


def check_setting(name: str, value: Any) -> Any:
    """``value`` of quirk setting ``name`` as pail uses it (strings from ``${env.X}`` or a
    flag are converted: ``"1"`` -> 1, ``"false"`` -> False).

    Raises:
        ValueError: an unknown name, or a value out of its range (the message names both).
    """
    if name == "flavour":
        if value not in FLAVOURS:
            raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}, got {value!r}")
        return value
    if name == "list_version":
        if isinstance(value, bool) or str(value).strip() not in ("1", "2"):
            raise ValueError(f"list_version must be 1 or 2, got {value!r}")
        return int(str(value).strip())
    if name == "addressing_style":
        if value not in ADDRESSING_STYLES:
            raise ValueError(
                f"addressing_style must be one of {', '.join(ADDRESSING_STYLES)}, got {value!r}"
            )
        return value
    if name in CAPABILITIES:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word not in _BOOL_WORDS:
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return _BOOL_WORDS[word]
    raise ValueError(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}")


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting checked by :func:`check_setting` (raises ValueError)."""
    return {name: check_setting(name, value) for name, value in settings.items()}


# --- what this process found out, per connection ----------------------------------------


@dataclass(frozen=True)
class Remembered:
    """A capability found not to work on a connection: its ``name``, the ``value`` used
    from then on, the ``operation`` that failed and ``reason`` (plain text)."""

    name: str
    value: Any
    operation: str
    reason: str

    def note(self, where: str) -> str:
        """One line for the user: what failed, what is used instead, and the setting."""
        setting = _setting_text(self.name, self.value)
        return (
            f"{where}: {self.operation} {self.reason}; using {setting} for this connection "
            f"from now on (put `{setting}` in the connection's settings to skip the check)"
        )


def _setting_text(name: str, value: Any) -> str:
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    if isinstance(value, str):
        shown = f'"{value}"'
    return f"{name} = {shown}"


_lock = threading.Lock()
_remembered: dict[str, dict[str, Remembered]] = {}
_detected: dict[str, tuple[str, str]] = {}
_notes: list[str] = []
_states: dict[str, QuirkState] = {}


def connection_key(endpoint_url: str | None) -> str:
    """The key a connection's findings are kept under: its endpoint (scheme and host
    lower-cased, no trailing ``/``), ``"aws"`` without one."""
    if not endpoint_url:
        return "aws"
    parts = urlsplit(endpoint_url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def take_notes() -> list[str]:
    """The notes made since the last call (a capability remembered as failing), oldest
    first; each is given out once."""
    with _lock:
        out = list(_notes)
        _notes.clear()
    return out


def opened_states() -> list[QuirkState]:
    """The quirk state of each connection opened in this process (the latest per
    endpoint), in the order first opened (``pail --verbose`` describes them)."""
    with _lock:
        return list(_states.values())


def forget_all() -> None:
    """Forget every finding of this process (tests; a new process starts empty)."""
    with _lock:
        _remembered.clear()
        _detected.clear()
        _notes.clear()
        _states.clear()


class QuirkState:
    """One connection's effective capabilities (see the module doc for the order).

    Args:
        endpoint_url: the connection's endpoint, ``None`` for AWS.
        settings: the connection's quirk settings (:data:`SETTINGS`), checked here.

    Thread-safe: drivers share it between worker threads.

    Raises:
        ValueError: a setting out of range (:func:`check_setting`).
    """

    def __init__(self, endpoint_url: str | None, settings: Mapping[str, Any] | None = None):
        self.key = connection_key(endpoint_url)
        self.settings: dict[str, Any] = check_settings(dict(settings or {}))
        self._host_flavour = flavour_for_endpoint(endpoint_url)
        with _lock:
            _states[self.key] = self

    def __repr__(self) -> str:
        return f"QuirkState({self.key!r}, flavour={self.flavour!r})"

    @property
    def flavour(self) -> str:
        """The flavour in use: the setting, the ``Server`` header's, the host's, generic."""
        if "flavour" in self.settings:
            return str(self.settings["flavour"])
        with _lock:
            detected = _detected.get(self.key)
        if detected is not None:
            return detected[0]
        return self._host_flavour or "generic"

    def flavour_source(self) -> str:
        """Where :attr:`flavour` came from, in words."""
        if "flavour" in self.settings:
            return "setting"
        with _lock:
            detected = _detected.get(self.key)
        if detected is not None:
            return f"Server header {detected[1]!r}"
        return "endpoint host" if self._host_flavour else "default"

    def get(self, name: str) -> Any:
        """The value of capability ``name`` (one of :data:`CAPABILITIES`)."""
        if name in self.settings:
            return self.settings[name]
        with _lock:
            found = _remembered.get(self.key, {}).get(name)
        if found is not None:
            return found.value
        return getattr(FLAVOURS[self.flavour], name)

    def source(self, name: str) -> str:
        """Where capability ``name``'s value came from: ``"setting"``, ``"remembered:
        <why>"``, or ``"<flavour> default"``."""
        if name in self.settings:
            return "setting"
        with _lock:
            found = _remembered.get(self.key, {}).get(name)
        if found is not None:
            return f"remembered: {found.operation} {found.reason}"
        return f"{self.flavour} default"

    def effective(self) -> Quirks:
        """Every capability's value now."""
        return replace(Quirks(), **{f.name: self.get(f.name) for f in fields(Quirks)})

    def observe_server(self, server: str | None) -> None:
        """Record the flavour the first answer's ``Server`` header names (once per
        connection; a setting still wins)."""
        flavour = flavour_for_server(server)
        if flavour is None:
            return
        with _lock:
            _detected.setdefault(self.key, (flavour, str(server)[:60]))

    def remember(self, name: str, value: Any, operation: str, reason: str) -> bool:
        """Remember that capability ``name`` failed (``operation`` answered ``reason``) and
        use ``value`` from now on, for this connection in this process. A setting is never
        overridden. Returns True when this is news (a note was made)."""
        if name in self.settings:
            return False
        found = Remembered(name, value, operation, reason)
        with _lock:
            mine = _remembered.setdefault(self.key, {})
            if name in mine:
                return False
            mine[name] = found
            _notes.append(found.note(self.key))
        return True

    def remembered(self) -> list[Remembered]:
        """What this connection was found not to support, in the order found."""
        with _lock:
            return list(_remembered.get(self.key, {}).values())

    def describe(self) -> list[str]:
        """One line per capability: ``name = value (source)``, the flavour first."""
        lines = [f"flavour = {self.flavour} ({self.flavour_source()})"]
        for name in CAPABILITIES:
            lines.append(f"{_setting_text(name, self.get(name))} ({self.source(name)})")
        return lines


class BrokenPaging(InvalidRequest):
    """A listing page says there is more but gives no way to ask for it (code
    ``BrokenPaging``); the message names the ``list_version`` setting that works around it."""

    @property
    def hint(self) -> str:
        return (
            "Some S3-compatible servers page one of the two listing APIs wrongly: "
            "ListObjects (V1) pages by key, ListObjectsV2 by token. Set list_version to "
            "the other one in the connection (or --list-version N), as the message says."
        )


class CapabilityOff(NotSupported):
    """The store does not offer a call, by the connection's flavour, settings or an earlier
    failure (code ``NotSupported``); no request was sent. ``setting`` names the quirk."""

    def __init__(self, message: str, *, setting: str, **fields: Any) -> None:
        super().__init__(message, code="NotSupported", **fields)
        self.setting = setting

    @property
    def hint(self) -> str:
        return (
            f"If this store does offer it, set {self.setting} = true in the connection's "
            "settings (the flavour's defaults are in pail.drivers.quirks)."
        )


def capability_off(state: QuirkState, name: str, operation: str, **fields: Any) -> CapabilityOff:
    """The :class:`CapabilityOff` error for capability ``name`` of ``state``, saying why
    it is off (a setting, an earlier failure, or the flavour)."""
    source = state.source(name)
    if source == "setting":
        why = f"the connection's setting {name} = false"
    elif source.startswith("remembered: "):
        why = f"earlier in this run {source.removeprefix('remembered: ')}"
    else:
        why = f"{state.flavour} does not offer it ({name} = false for this flavour)"
    return CapabilityOff(
        f"{operation} is not used on this store: {why}",
        setting=name,
        operation=operation,
        **fields,
    )


def unsupported_reason(exc: BaseException, *, parse_errors: bool = True) -> str | None:
    """Why ``exc`` means "this store does not do that", or ``None``: an HTTP 501 or code
    ``NotImplemented`` (RFC 9110 15.6.2: the server does not support the functionality),
    or, with ``parse_errors``, an answer that is not S3 XML (botocore's
    ``ResponseParserError``, raised or chained as the cause of a translated error)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = getattr(current, "status", None)
        code = getattr(current, "code", None)
        if status == 501 or code == "NotImplemented":
            return "answered 501 NotImplemented"
        if not parse_errors:
            current = current.__cause__ or current.__context__
            continue
        if type(current).__name__ in ("ResponseParserError", "NotS3"):
            return "answered with a body that is not S3 XML"
        if code in ("NotS3", "NotS3Answer", "ResponseParserError"):
            return "answered with a body that is not S3 XML"
        current = current.__cause__ or current.__context__
    return None
