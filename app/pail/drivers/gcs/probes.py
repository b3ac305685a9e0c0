"""GCS permission checks and the caller's identity, for the GCS driver.

``buckets.testIamPermissions`` (Cloud Storage JSON API reference,
``GET /storage/v1/b/BUCKET/iam/testPermissions?permissions=...``) answers with the subset of
the asked permissions the caller holds on the bucket. It changes nothing, so every
capability (including ``storage.objects.create``/``delete``) is checked without writing.
It needs no permission of its own; a missing bucket is 404.

The identity is read from the client's google-auth credentials, locally
(:func:`pail.drivers.identity.identity_from_google`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pail.drivers.identity import Identity, identity_from_google

if TYPE_CHECKING:
    from pail.drivers.gcs import GcsDriver

#: The JSON API method id used as ``operation`` on errors.
TEST_PERMISSIONS = "storage.buckets.testIamPermissions"


def test_permissions(driver: GcsDriver, bucket: str, permissions: Sequence[str]) -> list[str]:
    """The subset of ``permissions`` (``storage.objects.list``...) the caller holds on
    ``bucket``, in the order asked.

    Raises:
        NotFound: no such bucket. InvalidCredentials: rejected credentials.
        StorageError: e.g. a store without the method (HTTP 400/404/405/501).
    """
    asked = list(permissions)

    def call() -> list[str]:
        found = driver._client().bucket(bucket)
        granted = set(found.test_iam_permissions(asked, timeout=driver._timeout, retry=None))
        return [p for p in asked if p in granted]

    return driver._run(TEST_PERMISSIONS, bucket, None, call)


def caller_identity(driver: GcsDriver) -> Identity:
    """The service account or user behind the client, and its project (no network call).

    Raises:
        NoCredentials / InvalidCredentials: the credentials could not be loaded.
    """
    with driver._call("credentials", None, None):
        client = driver._client()
        # SDK internal: google-cloud-core's Client keeps its credentials only here (no public
        # accessor). Checked against google-cloud-storage 3.17.1 / google-cloud-core 2.8.0;
        # tests/test_sdk_internals.py.
        credentials = getattr(client, "_credentials", None)
        project = getattr(client, "project", None)
    if project == "<none>":  # the placeholder the driver gives the emulator client
        project = None
    return identity_from_google(credentials, project)
