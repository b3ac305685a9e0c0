"""Provider name -> driver, imported lazily.

google-cloud-storage costs about half a second to import, so a user browsing S3 never pays
for it (the same idea as fsspec's lazy protocol registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pail.core.connection import ConnectionSpec
from pail.drivers.base import StorageDriver

if TYPE_CHECKING:
    from pail.drivers.base import HasIdentity, PartSizes, PermissionChecks, Probes
    from pail.drivers.gcs import GcsDriver
    from pail.drivers.local import LocalDriver
    from pail.drivers.s3 import S3Driver
    from pail.drivers.versions import HasLifecycle, Versioned

    # The type checker holds each driver to the protocols of the capability table in
    # pail.drivers.base, signatures included (tests/drivers/test_capabilities.py checks
    # the same table at run time, where isinstance only sees the method names).
    def _s3(
        d: S3Driver,
    ) -> tuple[StorageDriver, HasIdentity, Probes, PartSizes, Versioned, HasLifecycle]:
        return d, d, d, d, d, d

    def _gcs(
        d: GcsDriver,
    ) -> tuple[StorageDriver, HasIdentity, PermissionChecks, Versioned, HasLifecycle]:
        return d, d, d, d, d

    def _local(d: LocalDriver) -> tuple[StorageDriver, Versioned, HasLifecycle]:
        return d, d, d


def open_driver(spec: ConnectionSpec, *, client: Any = None) -> StorageDriver:
    """Build the driver for ``spec``; no network call is made until the first operation.

    Args:
        spec: the connection settings.
        client: an SDK client to use instead of building one (tests pass clients pointed
            at loopback servers): a boto3 S3 client or a ``google.cloud.storage.Client``.

    Retries and timeouts come from ``spec.client_options`` (``max_attempts``,
    ``connect_timeout``, ``read_timeout``; :mod:`pail.drivers.retry` has the policy and
    its defaults), where :meth:`pail.config.flags.Flags.apply` also puts ``--retries`` and the
    timeout flags.

    Raises:
        ValueError: unknown provider.
        InvalidRequest: (code ``InvalidClientOption``) an attempt count or timeout out of
            range (the config file and the flags refuse those before they get here).
    """
    secrets = spec.secrets
    if spec.provider == "s3":
        from pail.drivers.s3 import S3Driver

        return S3Driver(
            endpoint_url=spec.endpoint_url,
            region=spec.region,
            profile=spec.profile,
            path_style=spec.path_style,
            anonymous=spec.anonymous,
            access_key_id=secrets.access_key_id if secrets else None,
            secret_access_key=secrets.secret_access_key if secrets else None,
            session_token=secrets.session_token if secrets else None,
            client=client,
            client_options=spec.client_options,
            write_args=spec.write_args,
            quirks=spec.quirks,
            endpoint_source=spec.endpoint_source,
            verify_tls=spec.verify_tls,
        )
    if spec.provider == "gcs":
        from pail.drivers.gcs import GcsDriver

        return GcsDriver(
            project=spec.project,
            endpoint_url=spec.endpoint_url,
            credentials_file=spec.credentials_file,
            service_account_info=secrets.service_account_info if secrets else None,
            anonymous=spec.anonymous,
            client=client,
            endpoint_source=spec.endpoint_source,
            **_gcs_options(spec.client_options),
        )
    if spec.provider == "local":
        from pail.drivers.local import LocalDriver

        if not spec.root:
            raise ValueError(f"connection {spec.name!r}: a local connection needs a folder")
        return LocalDriver(spec.root, single_bucket=spec.single_bucket)
    raise ValueError(f"connection {spec.name!r}: unknown provider {spec.provider!r}")


def _gcs_options(options: Any) -> dict[str, Any]:
    """The client options GcsDriver takes (attempts and timeouts in seconds); the others
    are botocore settings that mean nothing to GCS."""
    kinds = {"max_attempts": int, "connect_timeout": float, "read_timeout": float}
    return {k: kinds[k](v) for k, v in dict(options or {}).items() if k in kinds}
