"""The connection flags every command accepts, applied over a connection's settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pail.core.connection import ConnectionSpec
from pail.core.endpoint import FLAG_SOURCE, check_endpoint


@dataclass(frozen=True)
class Flags:
    """The connection flags every command accepts (``--endpoint-url`` ...); ``None`` = unset.

    ``connect_timeout`` and ``read_timeout`` are seconds, ``retries`` the retries after a
    request's first attempt (``--retries N`` = N + 1 attempts); the command line checks
    their ranges (:data:`pail.drivers.retry.SETTING_LIMITS`) before they get here.
    """

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    path_style: bool | None = None
    no_sign_request: bool | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    retries: int | None = None
    #: ``--list-version 1|2``: ListObjects (V1) or ListObjectsV2 (S3; a quirk setting).
    list_version: int | None = None

    def apply(self, spec: ConnectionSpec) -> ConnectionSpec:
        """Return ``spec`` with every set flag applied (flags only affect S3 connections,
        except ``--no-sign-request`` which also makes GCS anonymous, and the timeouts and
        ``--retries``, which go into the ``client_options`` of S3 and GCS connections and
        win over the connection's own ``[connections.NAME.client]`` values).

        Raises:
            BadEndpoint: ``--endpoint-url`` has no scheme, a bucket in its path or host
                name... (:func:`pail.core.endpoint.check_endpoint`), for an S3 connection.
        """
        changes: dict[str, Any] = {}
        if spec.provider == "s3":
            for name in ("endpoint_url", "region", "profile", "path_style"):
                value = getattr(self, name)
                if value is not None:
                    changes[name] = value
            if self.list_version is not None:  # wins over the connection's own setting
                changes["quirks"] = {**spec.quirks, "list_version": self.list_version}
            if self.endpoint_url is not None:  # checked before any request, source named
                check_endpoint(self.endpoint_url, FLAG_SOURCE)
                changes["endpoint_source"] = FLAG_SOURCE if self.endpoint_url else None
        if self.no_sign_request is not None and spec.provider in ("s3", "gcs"):
            changes["anonymous"] = self.no_sign_request
        client = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_attempts": None if self.retries is None else self.retries + 1,
        }
        client = {k: v for k, v in client.items() if v is not None}
        if client and spec.provider in ("s3", "gcs"):
            changes["client_options"] = {**spec.client_options, **client}
        return replace(spec, **changes) if changes else spec
