"""Optional driver capabilities: each driver class has exactly the ones it should, with the
protocol's own signatures, and a driver without one gets the error (or the report) every
front-end gives.

The table is the one in :mod:`pail.drivers.base`. A capability is a ``runtime_checkable``
protocol, so ``isinstance`` only sees the method names: the signature check here is what
catches a driver method that drifted from its protocol.
"""

from __future__ import annotations

import inspect

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.base import (
    HasIdentity,
    ListsAfter,
    PartSizes,
    PermissionChecks,
    Probes,
    StorageDriver,
    Writable,
)
from pail.drivers.errors import NotSupported
from pail.drivers.gcs import GcsDriver
from pail.drivers.local import LocalDriver
from pail.drivers.registry import open_driver
from pail.drivers.s3 import S3Driver
from pail.drivers.versions import HasLifecycle, Versioned, lifecycle_of, versions_of
from pail.services import lifecycle
from pail.services import versions as versions_service
from pail.services.access.check import check_access, check_identity

CAPABILITIES = (
    HasIdentity,
    Probes,
    PermissionChecks,
    PartSizes,
    Versioned,
    HasLifecycle,
    Writable,
    ListsAfter,
)

EXPECTED = {
    S3Driver: {HasIdentity, Probes, PartSizes, Versioned, HasLifecycle, Writable, ListsAfter},
    GcsDriver: {HasIdentity, PermissionChecks, Versioned, HasLifecycle, Writable},
    # A folder has the version and lifecycle methods only to refuse them (NotSupported).
    LocalDriver: {Versioned, HasLifecycle, Writable},
}


def _members(protocol: type) -> list[str]:
    return [
        name
        for name, value in vars(protocol).items()
        if inspect.isfunction(value) and not name.startswith("_")
    ]


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_each_driver_class_has_exactly_its_capabilities(cls: type) -> None:
    has = {p for p in CAPABILITIES if issubclass(cls, p)}
    assert {p.__name__ for p in has} == {p.__name__ for p in EXPECTED[cls]}


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_capability_methods_keep_the_protocol_signatures(cls: type) -> None:
    for protocol in EXPECTED[cls]:
        for name in _members(protocol):
            want = inspect.signature(getattr(protocol, name))
            got = inspect.signature(getattr(cls, name))
            shape = [(p.name, p.kind, p.default) for p in want.parameters.values()]
            assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == shape, (
                f"{cls.__name__}.{name}{got} differs from {protocol.__name__}.{name}{want}"
            )
            assert got.return_annotation == want.return_annotation, f"{cls.__name__}.{name}"


def test_built_drivers_have_their_class_capabilities(tmp_path) -> None:
    """What open_driver builds (no request is sent) answers isinstance as its class does."""
    drivers = [
        open_driver(ConnectionSpec(name="s", provider="s3", endpoint_url="http://127.0.0.1:9")),
        open_driver(ConnectionSpec(name="g", provider="gcs")),
        open_driver(ConnectionSpec(name="f", provider="local", root=str(tmp_path))),
    ]
    for driver in drivers:
        assert isinstance(driver, StorageDriver)
        has = {p.__name__ for p in CAPABILITIES if isinstance(driver, p)}
        assert has == {p.__name__ for p in EXPECTED[type(driver)]}, type(driver).__name__


class FolderWithoutExtras:
    """A driver with none of the optional capabilities: pail's local-folder driver seen
    through its StorageDriver methods only."""

    def __init__(self, root: str) -> None:
        self._inner = LocalDriver(root)
        self.provider = "memory"
        self.endpoint = None
        self.list_buckets = self._inner.list_buckets
        self.bucket_region = self._inner.bucket_region
        self.list_page = self._inner.list_page
        self.head = self._inner.head
        self.read_range = self._inner.read_range
        self.stream_range = self._inner.stream_range
        self.object_checksums = self._inner.object_checksums
        self.presign = self._inner.presign
        self.delete_objects = self._inner.delete_objects


def test_a_driver_without_versions_or_lifecycle_is_refused(tmp_path) -> None:
    (tmp_path / "b").mkdir()
    bare = FolderWithoutExtras(str(tmp_path))
    assert isinstance(bare, StorageDriver)
    assert not any(isinstance(bare, p) for p in CAPABILITIES)
    with pytest.raises(NotSupported) as info:
        versions_of(bare, "ListObjectVersions", "b")
    assert info.value.operation == "ListObjectVersions" and info.value.bucket == "b"
    assert "memory connections have no object versions" in str(info.value)
    with pytest.raises(NotSupported):
        lifecycle_of(bare, "GetBucketLifecycleConfiguration", "b")
    # The services ask before any request: the same error as from a local folder.
    with pytest.raises(NotSupported):
        versions_service.object_versions(bare, "b", "k")
    with pytest.raises(NotSupported):
        lifecycle.current_rules(bare, "b")
    with pytest.raises(NotSupported):
        lifecycle.apply(bare, "b", [])


def test_a_local_folder_refuses_through_the_services(tmp_path) -> None:
    (tmp_path / "b").mkdir()
    folder = LocalDriver(str(tmp_path))
    assert versions_of(folder, "ListObjectVersions", "b") is folder
    for call in (
        lambda: versions_service.object_versions(folder, "b", "k"),
        lambda: lifecycle.current_rules(folder, "b"),
    ):
        with pytest.raises(NotSupported) as info:
            call()
        assert "local folders have no object versions" in str(info.value)


def test_no_identity_and_no_probes_make_a_plain_report(tmp_path) -> None:
    (tmp_path / "b").mkdir()
    bare = FolderWithoutExtras(str(tmp_path))
    assert check_identity(bare) == (None, None)
    report = check_access(bare, "b")
    assert report.rows == [] and report.identity is None and report.identity_error is None
    assert report.notes == ["local folders use file permissions; no IAM actions to probe"]
