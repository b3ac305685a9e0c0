"""What a user typed, read once: a URI, a path or a saved connection -> connection + location.

The only place, for the command line and the app, that reads the locations users type:

* ``s3://bucket/prefix`` (also ``s3a://``, ``s3n://``), ``gs://bucket/key`` (also
  ``gcs://``), ``file:///path`` and plain paths: :func:`pail.core.uri.parse_uri`; the
  connection comes from the environment and the connection flags
  (:func:`pail.config.env.spec_for_location`);
* ``NAME`` and ``NAME:bucket/prefix`` where NAME is a saved connection
  (:func:`pail.config.store.resolve_target`): that connection, with the flags applied
  over its settings; no bucket typed means its default bucket and prefix, or, when it has
  none, its bucket list;
* ``s3://`` or ``gs://`` alone: the provider's bucket list (what ``pail ls s3://`` prints);
* ``NAME:...`` where NAME is neither a saved connection nor a scheme (``nope:x/``):
  :class:`UnknownConnection` ("no saved connection 'nope'", naming the saved ones), not
  "unsupported scheme": that is what such text is meant to be. A one-letter NAME is a
  Windows drive (``C:\\data``), a path.

A saved name wins over a same-named folder in the current directory (``./name`` is the
folder). :func:`read_target` reads the text (no I/O but the config file), :func:`open_spec`
resolves credentials (:func:`pail.credentials.resolve`: keyring, profile, environment,
default chain) and builds the driver (:func:`pail.drivers.registry.open_driver`, no network
call), :func:`open_location` does both for commands that need a bucket, and
:func:`connections_to_open` turns the app's command-line arguments into its connections.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from pail.config.env import (
    connections_from_env,
    s3_spec_from_env,
    spec_for_location,
    specs_for_locations,
)
from pail.config.flags import Flags
from pail.config.store import ConnectionStore, resolve_target
from pail.core.connection import NAME_RE, ConnectionSpec
from pail.core.uri import SCHEMES, InvalidURI, Location, parse_uri

if TYPE_CHECKING:
    from pail.credentials import Resolved
    from pail.drivers.base import StorageDriver

#: ``scheme://`` alone -> the provider whose buckets it lists (``file://`` is not one: a
#: local location is always a folder).
BUCKET_LIST_URIS = {
    f"{scheme}://": provider for scheme, provider in SCHEMES.items() if provider != "local"
}


class NoBucket(InvalidURI):
    """The text names no bucket where one is needed (``s3://`` alone, or a saved connection
    without a default bucket given to a command that reads objects). An
    :class:`~pail.core.uri.InvalidURI`, so the command line exits 2 for it; ``str()`` is one
    line and holds the text as typed (the front-end makes it terminal-safe)."""


class UnknownConnection(InvalidURI):
    """The text names a saved connection that does not exist: ``nope:x/``, or (for the
    app's arguments) a bare word that is no saved connection and no folder. An
    :class:`~pail.core.uri.InvalidURI`, so the command line exits 2; ``str()`` is one line
    that lists the saved names (or says there are none).

    Attributes:
        name: the name as typed.
        names: the saved connections' names.
    """

    def __init__(self, name: str, names: list[str], *, folder: bool = False) -> None:
        self.name = name
        self.names = list(names)
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        saved = f"saved connections: {shown}" if names else "there are no saved connections"
        also = " and no folder of that name here" if folder else ""
        super().__init__(f"no saved connection {name!r}{also}; {saved}")


class NoSuchFolder(FileNotFoundError):
    """A local path given to the app that does not exist (the command line exits 3).

    Attributes:
        path: the absolute path.
    """

    def __init__(self, path: str) -> None:
        super().__init__(f"no such folder: {path}")
        self.path = path


#: ``NAME:rest`` as typed: a saved connection's reference unless NAME is a scheme.
_REFERENCE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):(?!//)")


def _unknown_reference(text: str, store: ConnectionStore) -> UnknownConnection | None:
    """The error for ``NAME:...`` when NAME is no saved connection and no scheme (``None``
    when ``text`` is something else: a URI, a path, a drive letter ``C:...``)."""
    match = _REFERENCE.match(text)
    if match is None:
        return None
    name = match.group(1)
    if len(name) == 1 or name.lower() in SCHEMES:
        return None  # a drive letter, or s3:bucket (parse_uri says what is wrong)
    return UnknownConnection(name, store.names())


@dataclass(frozen=True)
class Target:
    """What one typed text names.

    Attributes:
        text: the text as typed.
        spec: the connection to use, with the connection flags applied; its secrets are
            not resolved yet (:func:`open_spec` does that).
        location: the bucket and key or prefix inside the connection; ``None`` when the
            text names no bucket (``s3://``, or a saved connection without a default
            bucket): the connection's bucket list.
        saved: the text named a saved connection (``NAME`` or ``NAME:bucket/prefix``).
        named: the text itself named the bucket (``False`` when a saved connection's
            default bucket and prefix were used, or there is no location).
    """

    text: str
    spec: ConnectionSpec
    location: Location | None
    saved: bool = False
    named: bool = True

    def need_location(self) -> Location:
        """:attr:`location`, for commands that read or write objects.

        Raises:
            NoBucket: the text names no bucket.
        """
        if self.location is not None:
            return self.location
        if self.saved:
            raise NoBucket(f"{self.text} names no bucket")
        raise NoBucket(f"{self.text!r}: missing bucket name (expected scheme://bucket/prefix)")


class Opened(NamedTuple):
    """A connection ready for requests: its driver, and the credentials it uses (source
    and masked identity, for reports; never a secret in a repr)."""

    driver: StorageDriver
    resolved: Resolved


def location_in(spec: ConnectionSpec, bucket: str, key: str = "") -> Location:
    """The :class:`~pail.core.uri.Location` of ``bucket``/``key`` inside connection ``spec``.

    For a local connection the bucket's folder is its ``root`` (the connection's folder
    when it is a single bucket, else the sub-folder named ``bucket``); other providers
    have no root."""
    root = None
    if spec.provider == "local":
        root = spec.root if spec.single_bucket else os.path.join(spec.root or "", bucket)
    return Location(spec.provider, bucket, key, root)


def read_target(
    text: str,
    flags: Flags | None = None,
    *,
    store: ConnectionStore | None = None,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """Read ``text`` by the rules in the module doc.

    Args:
        text: what the user typed.
        flags: the connection flags (``--endpoint-url`` ...), applied over the connection's
            settings; ``None`` = no flags.
        store: the saved connections (default: the config file,
            :func:`pail.config.env.default_config_path`).
        environ: variables for connections from the environment; ``None`` = ``os.environ``.

    Raises:
        UnknownConnection: ``NAME:...`` names no saved connection (an InvalidURI).
        InvalidURI: ``text`` does not parse (one line naming the problem); also
            :class:`~pail.core.endpoint.BadEndpoint` (an endpoint with no scheme, a bucket
            in its path or host name... from ``--endpoint-url`` or the environment, the
            message naming where it came from) and
            :class:`~pail.config.env.EndpointConflict` (two tools' variables disagree).
        ConfigError: the config file is malformed (read only when ``text`` looks like a
            saved name), a saved endpoint included.
    """
    flags = flags or Flags()
    store = store if store is not None else ConnectionStore()
    saved = resolve_target(text, store)
    if saved is not None:
        spec, bucket, key = saved
        spec = flags.apply(spec)
        named = bool(bucket)
        if not bucket:
            bucket, key = spec.bucket or "", spec.prefix
        location = location_in(spec, bucket, key) if bucket else None
        return Target(text, spec, location, saved=True, named=named and location is not None)
    provider = BUCKET_LIST_URIS.get(text.lower())
    if provider is not None:
        bare = spec_for_location(Location(provider, "-"), environ, flags)
        return Target(text, replace(bare, bucket=None, prefix=""), None, named=False)
    unknown = _unknown_reference(text, store)
    if unknown is not None:
        raise unknown
    location = parse_uri(text)
    return Target(text, spec_for_location(location, environ, flags), location)


def open_spec(
    spec: ConnectionSpec,
    *,
    environ: Mapping[str, str] | None = None,
    driver_factory: Callable[[ConnectionSpec], StorageDriver] | None = None,
) -> Opened:
    """Resolve ``spec``'s credentials and build its driver. No network call is made.

    Args:
        spec: the connection (a :attr:`Target.spec`, a saved one ...).
        environ: for credentials from the environment; ``None`` = ``os.environ``.
        driver_factory: builds the driver from the resolved spec (default
            :func:`pail.drivers.registry.open_driver`; tests and the app inject theirs).

    Raises:
        SecretsUnavailable: a saved connection's secrets are in a keyring that cannot be
            read (no fallback to other credentials).
        StorageError: the driver could not be built (e.g. an unreadable credentials file).
    """
    from pail.credentials import resolve

    if driver_factory is None:
        from pail.drivers.registry import open_driver

        driver_factory = open_driver
    resolved = resolve(spec, environ)
    return Opened(driver_factory(resolved.spec), resolved)


def open_location(
    text: str,
    flags: Flags | None = None,
    *,
    store: ConnectionStore | None = None,
) -> tuple[StorageDriver, Location]:
    """The driver and location for ``text``, for commands that read or write objects
    (``get``, ``url``, ``du``, ``rm``, ``versions``, ``restore``, ``lifecycle``).

    Raises:
        InvalidURI: ``text`` does not parse; :class:`NoBucket` (an InvalidURI) when it
            names no bucket. ConfigError / SecretsUnavailable: as :func:`read_target` /
            :func:`open_spec`.
    """
    target = read_target(text, flags, store=store)
    location = target.need_location()
    return open_spec(target.spec).driver, location


def connections_to_open(
    texts: list[str],
    flags: Flags,
    environ: Mapping[str, str] | None = None,
    store: ConnectionStore | None = None,
) -> list[ConnectionSpec]:
    """The connections the app opens for its command-line arguments (``pail [URI ...]``).

    Each text is read by :func:`read_target`. A saved connection opens at the location
    typed (``lab:bucket/prefix``) or its own default; naming it again at another location
    pins that location under the same root. The other locations are grouped into one
    connection per provider (one per folder for local ones,
    :func:`pail.config.env.specs_for_locations`). With no texts: the saved connections
    first, then the environment's stores (one whose name a saved connection already uses
    is shown as ``NAME (env)``), plus an S3 connection when an S3 flag was given; with none
    of those, the current folder.

    Raises:
        UnknownConnection: a bare word (``lss``) that is no saved connection and no file
            or folder here, or ``NAME:...`` with an unknown NAME.
        NoSuchFolder: a local path that does not exist (``./nope``).
        InvalidURI: a text does not parse, or names no bucket and no saved connection
            (``gs://`` alone: the app opens locations, not a provider); a
            :class:`~pail.core.endpoint.BadEndpoint` or
            :class:`~pail.config.env.EndpointConflict` for an endpoint from a flag or the
            environment.
        ConfigError: the config file is malformed.
    """
    env = dict(os.environ) if environ is None else environ
    store = store or ConnectionStore(environ=environ)
    if texts:
        saved: dict[str, ConnectionSpec] = {}
        locations: list[Location] = []
        for text in texts:
            target = read_target(text, flags, store=store, environ=env)
            if not target.saved:
                location = target.need_location()
                if location.provider == "local":
                    _check_folder(text, location, store)
                locations.append(location)
                continue
            spec, where = target.spec, target.location
            current = saved.get(spec.name)
            if current is None:
                if target.named and where is not None:
                    spec = replace(spec, bucket=where.bucket, prefix=where.key)
                saved[spec.name] = spec
            elif (
                target.named
                and where is not None
                and (where.bucket, where.key) not in current.locations()
            ):
                pinned = (*current.pinned, (where.bucket, where.key))
                saved[spec.name] = replace(current, pinned=pinned)
        return [*saved.values(), *specs_for_locations(locations, env, flags)]
    specs = store.load()
    taken = {s.name for s in specs}
    flag_endpoint = flags.endpoint_url is not None  # then the variables are not read
    for spec in connections_from_env(env, endpoint=not flag_endpoint):
        name = f"{spec.name} (env)" if spec.name in taken else spec.name
        specs.append(flags.apply(replace(spec, name=name)))
    s3_flagged = any(
        v is not None for v in (flags.endpoint_url, flags.region, flags.profile, flags.path_style)
    )
    if s3_flagged and not any(s.provider == "s3" and not s.saved for s in specs):
        specs.append(flags.apply(s3_spec_from_env(env, endpoint=not flag_endpoint)))
    if not specs:
        specs.append(spec_for_location(parse_uri(os.getcwd()), env, flags))
    return specs


def _check_folder(text: str, location: Location, store: ConnectionStore) -> None:
    """A local location the app is to open must exist: a word that is not a path either
    (``lss``) was meant as a saved name or a command; anything else is a missing folder."""
    root = location.root or ""
    if os.path.exists(os.path.join(root, location.key) if location.key else root):
        return
    if NAME_RE.match(text):
        raise UnknownConnection(text, store.names(), folder=True)
    raise NoSuchFolder(root)


__all__ = [
    "BUCKET_LIST_URIS",
    "NoBucket",
    "NoSuchFolder",
    "Opened",
    "Target",
    "UnknownConnection",
    "connections_to_open",
    "location_in",
    "open_location",
    "open_spec",
    "read_target",
]
