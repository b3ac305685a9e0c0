"""Compare two runs: params, metrics, files, tensor headers and config files.

:func:`diff_runs` takes two runs (each with the driver and bucket it lives in: the runs may
be in different buckets or stores) and returns a :class:`RunDiff`:

* **params**: added / removed / changed (:class:`KeyedDiff`);
* **metrics** side by side: final and best values (best by :func:`known_mode`), the
  deltas ``b - a``, and whether b is better (:class:`MetricComparison`);
* **files**: each run's objects by their path relative to the run's prefix, as only in a,
  only in b, sizes differ, checksums differ, same size but checksum not comparable, or
  identical (:class:`FileComparison`). "Identical" needs proof (:mod:`pail.services.checksums`):
  a checksum of one algorithm both stores give that matches (a plain MD5 ETag counts as an
  MD5), none contradicting it;
* **tensors**: for ``.safetensors`` / ``.npy`` files in both, the tensors only in one and
  those whose dtype or shape differ, from headers read by range (:class:`TensorFileDiff`);
* **configs**: for ``*.json`` / ``*.yaml`` / ``*.yml`` / ``MLmodel`` files in both, a key
  by key diff of the flattened structure (dotted paths; :class:`ConfigFileDiff`).

Everything is bounded (:class:`DiffLimits`: objects listed, checksum lookups, files and
bytes read) and cancellable; a storage error on one file becomes a note on that item.
Nothing here imports the UI; call it from a worker thread (it lists and reads).
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

import yaml

from pail.core.units import plural, size_text
from pail.core.uri import format_uri
from pail.drivers.base import Entry, ObjectChecksums, ObjectInfo, StorageDriver, iter_pages
from pail.drivers.errors import StorageError
from pail.services.checksums import judge, listed_md5
from pail.services.jobs import DaemonPool
from pail.services.previews.common import Job, NotThisFormat
from pail.services.previews.ranged import PreviewBudgetExceeded, RangedReader
from pail.services.previews.results import TensorHeaderPreview
from pail.services.previews.tensors import npy_preview, safetensors_preview
from pail.services.runs.detect import (
    DEFAULT_MAX_METADATA_BYTES,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_READERS,
    TooManyObjects,
    detect_runs,
    location_uri,
    require_runs,
)
from pail.services.runs.layouts import LAYOUTS
from pail.services.runs.layouts.base import MetadataTooLarge
from pail.services.runs.model import MetricMode, NoRunsFound, Run, RunSet, known_mode
from pail.services.runs.tracking import TrackingServer

ChangeKind = Literal["added", "removed", "changed"]


class DiffCancelled(Exception):
    """The caller's cancel event was set; no RunDiff is returned."""


@dataclass(frozen=True, slots=True)
class ValueChange:
    """One name (a param, or a config file's dotted path) whose value differs.

    Attributes:
        name: the param name or dotted path (``"optimizer.lr"``, ``"layers[2].size"``).
        a / b: the value in run a / run b as text, ``None`` when that side lacks the
            name. Params are their text as logged; config values are JSON text
            (``0.001``, ``"adam"``, ``true``, ``null``, ``[]``, ``{}``), so a
            config ``null`` (``"null"``) is never confused with an absent key (``None``).
    """

    name: str
    a: str | None
    b: str | None

    @property
    def kind(self) -> ChangeKind:
        """``"added"`` (only in b), ``"removed"`` (only in a) or ``"changed"``."""
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        return "changed"


@dataclass
class KeyedDiff:
    """Name -> value maps compared (params; one config file's flattened keys).

    Attributes:
        added: names only in b (``a`` is ``None``), sorted by name.
        removed: names only in a (``b`` is ``None``), sorted by name.
        changed: names in both with different values, sorted by name.
        same: how many names are in both with equal values.
    """

    added: list[ValueChange] = field(default_factory=list)
    removed: list[ValueChange] = field(default_factory=list)
    changed: list[ValueChange] = field(default_factory=list)
    same: int = 0

    @property
    def differs(self) -> bool:
        """True when anything was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True, slots=True)
class MetricComparison:
    """One metric in both runs, side by side.

    Attributes:
        name: the metric name.
        mode: ``"min"`` (lower is better), ``"max"``, or ``None`` for a metric with no
            better direction (a learning rate, an epoch count, a timing:
            :func:`known_mode`); then ``best_*`` use :func:`default_mode` and ``b_better``
            is ``None``.
        final_a / final_b: the last logged value (:meth:`Run.final`), ``None`` when that
            run did not log it (or only NaN).
        best_a / best_b: the best logged value by ``mode`` (:meth:`Run.best`).
        delta_final / delta_best: ``b - a`` when both are known, else ``None``.
        b_better: by the best values: ``True`` when b's is better by ``mode``,
            ``False`` when a's is better or they are equal, ``None`` when either is
            unknown.
    """

    name: str
    mode: MetricMode | None
    final_a: float | None
    final_b: float | None
    best_a: float | None
    best_b: float | None
    delta_final: float | None
    delta_best: float | None
    b_better: bool | None


#: What one file path's comparison found.
FileState = Literal[
    "only_a",  # an object in run a at this path, none in run b
    "only_b",
    "size_differs",
    "checksum_differs",  # same size, a checksum both sides share differs
    "not_comparable",  # same size, no checksum both sides share: not proven identical
    "identical",  # same size and a shared checksum (MD5 ETag or store checksum) matches
]


#: Every FileState, in the order sections show them.
FILE_STATES: tuple[FileState, ...] = (
    "only_a",
    "only_b",
    "size_differs",
    "checksum_differs",
    "not_comparable",
    "identical",
)


@dataclass(frozen=True, slots=True)
class FileComparison:
    """One path, in either run or both.

    Attributes:
        path: the key relative to its run's prefix (``"checkpoints/last.ckpt"``); for a run
            with several prefixes, relative to the prefix and led by that prefix's
            artifact group name (``"trainer/model/model.safetensors"``).
        state: see :data:`FileState`.
        key_a / key_b: the full keys (``None`` on the side without the file).
        size_a / size_b: sizes in bytes (``None`` on the side without the file).
        checksum: how identity or difference was decided: ``"ETag (MD5)"``, ``"SHA256"``,
            ``"CRC32C"``... ; ``None`` for sizes and one-sided files.
        note: why the checksums were not comparable, or the storage error met looking
            them up (plain text), else ``None``.
    """

    path: str
    state: FileState
    key_a: str | None = None
    key_b: str | None = None
    size_a: int | None = None
    size_b: int | None = None
    checksum: str | None = None
    note: str | None = None


@dataclass
class FilesDiff:
    """Every path of either run, compared (sorted by path).

    Attributes:
        entries: one :class:`FileComparison` per path.
        objects_a / objects_b: objects listed in each run.
        bytes_a / bytes_b: their total size in bytes.
        complete: ``False`` when a listing failed or stopped at the limit (then
            ``entries`` covers only what was listed and ``notes`` or ``errors`` say why).
        notes: plain lines about limits reached and files not compared.
        errors: plain lines about listings that failed (storage errors).
    """

    entries: list[FileComparison] = field(default_factory=list)
    objects_a: int = 0
    objects_b: int = 0
    bytes_a: int = 0
    bytes_b: int = 0
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, state: FileState) -> int:
        """How many paths are in ``state``."""
        return sum(1 for e in self.entries if e.state == state)


@dataclass(frozen=True, slots=True)
class TensorChange:
    """One tensor only in one file, or whose dtype or shape differ.

    Attributes:
        name: the tensor name (``"array"`` for a ``.npy`` file's one array).
        dtype_a / dtype_b: ``"F16"``, ``"<f4"``..., ``None`` on the side without it.
        shape_a / shape_b: the shape, ``None`` on the side without it.
    """

    name: str
    dtype_a: str | None
    dtype_b: str | None
    shape_a: tuple[int, ...] | None
    shape_b: tuple[int, ...] | None


@dataclass
class TensorFileDiff:
    """The tensor headers of one file in both runs, compared.

    Attributes:
        path: the file's path (as in :class:`FileComparison`).
        format: ``"safetensors"`` or ``"npy"``.
        only_a / only_b: tensors in one file only, sorted by name.
        changed: tensors in both whose dtype or shape differ, sorted by name.
        same: tensors in both with equal dtype and shape.
        tensors_a / tensors_b: tensors in each header (all of them, even past the
            number compared).
        header_bytes: bytes read for both headers.
        note: why the headers were not (fully) compared: a storage error, a malformed
            header, more tensors than compared; ``None`` when all were.
    """

    path: str
    format: str
    only_a: list[TensorChange] = field(default_factory=list)
    only_b: list[TensorChange] = field(default_factory=list)
    changed: list[TensorChange] = field(default_factory=list)
    same: int = 0
    tensors_a: int = 0
    tensors_b: int = 0
    header_bytes: int = 0
    note: str | None = None

    @property
    def differs(self) -> bool:
        """True when a tensor is in one file only or differs in dtype or shape."""
        return bool(self.only_a or self.only_b or self.changed)


@dataclass
class ConfigFileDiff:
    """One JSON/YAML config file in both runs, diffed key by key.

    Attributes:
        path: the file's path (as in :class:`FileComparison`).
        keys: the flattened documents compared (dotted paths; list items as ``[i]``).
        note: why the file was not compared (too large, not valid JSON/YAML, a storage
            error), else ``None`` (then ``keys`` is empty).
    """

    path: str
    keys: KeyedDiff = field(default_factory=KeyedDiff)
    note: str | None = None


@dataclass(frozen=True)
class DiffLimits:
    """How far a diff goes.

    Attributes:
        max_objects: objects listed per run; past it the file comparison is partial.
        max_checksums: checksum lookups (one HeadObject-like request each) per run, for
            files of the same size whose ETags do not settle it.
        max_hash_bytes: bytes a local folder may hash in all for those lookups (its
            "checksum" is a SHA-256 of the whole file, read then).
        max_tensor_files: ``.safetensors``/``.npy`` pairs whose headers are read.
        max_header_bytes: bytes read at most from one tensor header.
        max_config_files: config file pairs read.
        max_config_bytes: a config file larger than this (bytes) is not read.
        workers: reads and lookups at once.
    """

    max_objects: int = 100_000
    max_checksums: int = 200
    max_hash_bytes: int = 1024**3
    max_tensor_files: int = 20
    max_header_bytes: int = 16 * 1024 * 1024
    max_config_files: int = 50
    max_config_bytes: int = 1024 * 1024
    workers: int = 8


@dataclass
class RunDiff:
    """What differs between run a and run b.

    Attributes:
        a / b: the runs compared (as detection returned them).
        uri_a / uri_b: where each run lives, as a URI of its (first) prefix.
        params: params added in b, removed in b, changed.
        metrics: every metric either run logged, sorted by name.
        files: the objects of both runs, compared by path.
        tensors: tensor header comparisons, for ``.safetensors``/``.npy`` files in both.
        configs: key-by-key comparisons of config files in both.
        notes: plain lines about limits reached and what was not compared.
        bytes_read: bytes read from both stores (tensor headers, config files; listings
            and checksum lookups not counted).
    """

    a: Run
    b: Run
    uri_a: str
    uri_b: str
    params: KeyedDiff = field(default_factory=KeyedDiff)
    metrics: list[MetricComparison] = field(default_factory=list)
    files: FilesDiff = field(default_factory=FilesDiff)
    tensors: list[TensorFileDiff] = field(default_factory=list)
    configs: list[ConfigFileDiff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bytes_read: int = 0


def diff_runs(
    driver_a: StorageDriver,
    bucket_a: str,
    run_a: Run,
    driver_b: StorageDriver,
    bucket_b: str,
    run_b: Run,
    *,
    limits: DiffLimits = DiffLimits(),
    cancel: threading.Event | None = None,
) -> RunDiff:
    """Compare ``run_a`` (in ``bucket_a`` through ``driver_a``) with ``run_b``.

    Lists both runs' objects (at most ``limits.max_objects`` each), looks up checksums
    where sizes match and the listed ETags do not settle it, reads the tensor headers and
    config files of both runs where they are not proven identical, all within ``limits``
    and ``limits.workers`` requests at once.

    Both runs must own at least one prefix (as detection returns them).

    Returns:
        A :class:`RunDiff`. A storage error on one file is a note on that item; a listing
        that fails or stops at the limit makes ``files.complete`` false with a note, and
        the files of the other run are then not called "only in" it.

    Raises:
        DiffCancelled: ``cancel`` was set.
    """
    a = _Side(driver_a, bucket_a, run_a, "a")
    b = _Side(driver_b, bucket_b, run_b, "b")
    diff = RunDiff(run_a, run_b, a.uri(run_a.home), b.uri(run_b.home))
    diff.params = diff_values(run_a.params, run_b.params)
    diff.metrics = compare_metrics(run_a, run_b)
    with DaemonPool(max(1, limits.workers), name="pail-diff") as pool:
        listed = _gather(
            [pool.submit(_list_run, s, limits.max_objects, cancel) for s in (a, b)], cancel
        )
        diff.files = _compare_files(a, b, listed[0], listed[1], limits, pool, cancel)
        both = [e for e in diff.files.entries if e.key_a and e.key_b and e.state != "identical"]
        diff.tensors = _compare_tensors(a, b, both, limits, pool, cancel, diff.notes)
        diff.configs = _compare_configs(a, b, both, limits, pool, cancel, diff.notes)
    diff.bytes_read = a.bytes_read + b.bytes_read
    return diff


# --- params and metrics -------------------------------------------------------------------


def diff_values(a: Mapping[str, str], b: Mapping[str, str]) -> KeyedDiff:
    """``a`` and ``b`` compared name by name (values compared as they are)."""
    out = KeyedDiff()
    for name in sorted(set(a) | set(b)):
        if name not in a:
            out.added.append(ValueChange(name, None, b[name]))
        elif name not in b:
            out.removed.append(ValueChange(name, a[name], None))
        elif a[name] != b[name]:
            out.changed.append(ValueChange(name, a[name], b[name]))
        else:
            out.same += 1
    return out


def compare_metrics(a: Run, b: Run) -> list[MetricComparison]:
    """Every metric either run logged (sorted by name), final and best side by side."""
    out = []
    for name in sorted(set(a.metrics) | set(b.metrics)):
        mode = known_mode(name)
        final_a, final_b = a.final(name), b.final(name)
        best_a, best_b = a.best(name, mode), b.best(name, mode)
        better = None
        if mode is not None and best_a is not None and best_b is not None:
            better = best_b < best_a if mode == "min" else best_b > best_a
        out.append(
            MetricComparison(
                name,
                mode,
                final_a,
                final_b,
                best_a,
                best_b,
                _delta(final_a, final_b),
                _delta(best_a, best_b),
                better,
            )
        )
    return out


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


# --- files --------------------------------------------------------------------------------


class _Side:
    """One run with where it lives, and the bytes read and lookups made for it."""

    def __init__(self, driver: StorageDriver, bucket: str, run: Run, name: str) -> None:
        self.driver, self.bucket, self.run, self.name = driver, bucket, run, name
        self.bytes_read = 0
        self.lookups = 0
        self.hashed = 0
        self._lock = threading.Lock()

    def uri(self, key: str) -> str:
        return location_uri(self.driver, self.bucket, key)

    def read(self, key: str, start: int, length: int) -> bytes:
        data = self.driver.read_range(self.bucket, key, start, length)
        self.count(len(data))
        return data

    def count(self, n: int) -> None:
        with self._lock:
            self.bytes_read += n


@dataclass
class _Listing:
    objects: dict[str, Entry] = field(default_factory=dict)  # path -> entry
    bytes: int = 0
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def path_labels(run: Run) -> dict[str, str]:
    """Each of ``run``'s prefixes -> what leads its objects' paths: ``""`` for a run with
    one prefix; else the artifact group named for the prefix (``run.groups``, e.g.
    ``"trainer/model/"``, so the step outputs of two pipeline runs line up), or the prefix
    relative to the prefixes' common parent when groups do not name them all apart."""
    prefixes = run.prefixes
    if len(prefixes) <= 1:
        return dict.fromkeys(prefixes, "")
    common = os.path.commonprefix(list(prefixes))  # noqa: RUF071 - keys, not OS paths
    parent = common[: common.rfind("/") + 1]
    relative = {p: p[len(parent) :] for p in prefixes}
    named: dict[str, str] = {}
    for group, where in run.groups.items():
        if where in relative and where not in named and group.strip("/"):
            named[where] = group.strip("/") + "/"
    labels = {p: named.get(p, relative[p]) for p in prefixes}
    if len(set(labels.values())) < len(labels):
        labels = relative
    return labels


def _list_run(side: _Side, limit: int, cancel: threading.Event | None) -> _Listing:
    """Every object under the run's prefixes by path, at most ``limit`` (key order per
    prefix); a failed listing is a note and makes the listing incomplete."""
    out = _Listing()
    labels = path_labels(side.run)
    seen: set[str] = set()
    for prefix in side.run.prefixes:
        try:
            for page in iter_pages(side.driver, side.bucket, prefix, delimiter=""):
                _check(cancel)
                for entry in page.entries:
                    key = entry.key
                    if entry.is_prefix or not key.startswith(prefix) or key == prefix:
                        continue  # a folder marker or a key outside the prefix
                    if key in seen:
                        continue  # under two nested prefixes of the run
                    if len(seen) >= limit:
                        out.complete = False
                        out.notes.append(
                            f"run {side.name}: only the first {plural(limit, 'object')} were listed"
                        )
                        return out
                    seen.add(key)
                    out.objects[labels[prefix] + key[len(prefix) :]] = entry
                    out.bytes += entry.size or 0
        except StorageError as exc:
            out.complete = False
            out.errors.append(f"run {side.name}: listing {side.uri(prefix)} failed: {exc}")
    _add_single_keys(side, out, seen)
    return out


def _add_single_keys(side: _Side, out: _Listing, seen: set[str]) -> None:
    """The run's single objects (``Run.keys``: a modelkit version stored as one object and
    its ``.meta``), looked up with HEAD. Their paths are led by ``version`` in place of the
    shortest key (``asset/0.1`` -> ``version``, ``asset/0.1.meta`` -> ``version.meta``), so
    two versions of an asset line up."""
    keys = [k for k in side.run.keys if k not in seen]
    if not keys:
        return
    stem = min(side.run.keys, key=len)
    for key in keys:
        try:
            info = side.driver.head(side.bucket, key)
        except StorageError as exc:
            out.complete = False
            out.errors.append(f"run {side.name}: {side.uri(key)}: {exc}")
            continue
        label = "version" + key[len(stem) :] if key.startswith(stem) else key.rsplit("/", 1)[-1]
        seen.add(key)
        out.objects[label] = Entry(
            key, "object", info.size, info.last_modified, info.etag, info.storage_class
        )
        out.bytes += info.size


def _listed_md5(side: _Side, entry: Entry) -> str | None:
    """The listed ETag when it is a plain MD5 (:func:`pail.services.checksums.listed_md5`)."""
    return listed_md5(side.driver.provider, entry.etag)


def _compare_files(
    a: _Side,
    b: _Side,
    la: _Listing,
    lb: _Listing,
    limits: DiffLimits,
    pool: DaemonPool,
    cancel: threading.Event | None,
) -> FilesDiff:
    out = FilesDiff(
        objects_a=len(la.objects),
        objects_b=len(lb.objects),
        bytes_a=la.bytes,
        bytes_b=lb.bytes,
        complete=la.complete and lb.complete,
        notes=la.notes + lb.notes,
        errors=la.errors + lb.errors,
    )
    hidden = {"a": 0, "b": 0}
    entries: dict[str, FileComparison] = {}
    lookups: list[tuple[str, Entry, Entry]] = []
    for path in sorted(set(la.objects) | set(lb.objects)):
        ea, eb = la.objects.get(path), lb.objects.get(path)
        if ea is None or eb is None:
            # Fail closed: a file is "only in" one run only when the other was fully listed.
            one = ea or eb
            assert one is not None
            if (eb is None and not lb.complete) or (ea is None and not la.complete):
                hidden["a" if ea else "b"] += 1
                continue
            entries[path] = FileComparison(
                path,
                "only_a" if ea else "only_b",
                key_a=ea.key if ea else None,
                key_b=eb.key if eb else None,
                size_a=ea.size if ea else None,
                size_b=eb.size if eb else None,
            )
            continue
        same = FileComparison(path, "not_comparable", ea.key, eb.key, ea.size, eb.size)
        if ea.size != eb.size:
            entries[path] = replace(same, state="size_differs")
            continue
        md5_a, md5_b = _listed_md5(a, ea), _listed_md5(b, eb)
        if md5_a and md5_b and md5_a == md5_b:
            entries[path] = replace(same, state="identical", checksum="ETag (MD5)")
            continue
        # Differing MD5-looking ETags may still be the same bytes (SSE-KMS and SSE-C
        # objects have ETags that are not MD5s): the store's own answer decides.
        entries[path] = same
        lookups.append((path, ea, eb))
    for side, n in hidden.items():
        if n:
            other = "b" if side == "a" else "a"
            out.notes.append(
                f"{plural(n, 'file')} of run {side} not compared: run {other}'s listing is "
                "incomplete"
            )
    _look_up(a, b, lookups, entries, limits, pool, cancel)
    out.entries = [entries[p] for p in sorted(entries)]
    return out


def _look_up(
    a: _Side,
    b: _Side,
    pairs: list[tuple[str, Entry, Entry]],
    entries: dict[str, FileComparison],
    limits: DiffLimits,
    pool: DaemonPool,
    cancel: threading.Event | None,
) -> None:
    """Settle same-size pairs with the stores' checksums, within the lookup budgets."""
    jobs: list[tuple[str, Future[FileComparison]]] = []
    for path, ea, eb in pairs:
        size = ea.size or 0
        reason = _over_budget(a, size, limits) or _over_budget(b, size, limits)
        if reason is not None:
            entries[path] = replace(entries[path], note=reason)
            continue
        for side in (a, b):
            side.lookups += 1
            if side.driver.provider == "local":
                side.hashed += size
        jobs.append((path, pool.submit(_judge_pair, a, b, entries[path], ea, eb, cancel)))
    for (path, _), result in zip(jobs, _gather([f for _, f in jobs], cancel), strict=True):
        entries[path] = result


def _over_budget(side: _Side, size: int, limits: DiffLimits) -> str | None:
    if side.lookups >= limits.max_checksums:
        return (
            f"same size; checksum not looked up (at most {plural(limits.max_checksums, 'lookup')}"
            " per run)"
        )
    if side.driver.provider == "local" and side.hashed + size > limits.max_hash_bytes:
        return (
            "same size; checksum not computed (local files are hashed up to "
            f"{size_text(limits.max_hash_bytes)} per run)"
        )
    return None


def _judge_pair(
    a: _Side,
    b: _Side,
    item: FileComparison,
    ea: Entry,
    eb: Entry,
    cancel: threading.Event | None,
) -> FileComparison:
    if cancel is not None and cancel.is_set():
        return replace(item, note="not checked: cancelled")
    try:
        ca = a.driver.object_checksums(a.bucket, ea.key, version_id=ea.version_id)
        cb = b.driver.object_checksums(b.bucket, eb.key, version_id=eb.version_id)
    except StorageError as exc:
        return replace(item, note=f"same size; checksum lookup failed: {exc}")
    if ca.size != cb.size:  # rewritten since the listing
        return replace(item, state="size_differs", size_a=ca.size, size_b=cb.size)
    state, checksum, note = judge_checksums(ca, cb)
    return replace(item, state=state, checksum=checksum, note=note)


def judge_checksums(
    ca: ObjectChecksums, cb: ObjectChecksums
) -> tuple[FileState, str | None, str | None]:
    """Whether two same-size objects are the same bytes, from what their stores vouch for
    (:func:`pail.services.checksums.judge`, in this module's terms): ``(state, checksum
    used, note)`` with state ``"identical"``, ``"checksum_differs"``, ``"not_comparable"``
    (``"size_differs"`` when the answers' sizes differ).

    The checksum is the algorithm's name (``"SHA256"``, ``"CRC32C"``, ``"MD5"``), or
    ``"ETag (MD5)"`` when an MD5 read from a plain MD5 ETag decided. The note says, for
    ``not_comparable``, what each side offers (``"same size; checksum not comparable (a:
    SHA256; b: multipart ETag)"``).
    """
    verdict = judge(ca, cb)
    if verdict.state == "unproven":
        return "not_comparable", None, f"same size; {verdict.note}"
    if verdict.method is None:
        return "size_differs", None, None
    label = "ETag (MD5)" if verdict.from_etag else verdict.method
    return ("identical" if verdict.state == "identical" else "checksum_differs"), label, None


# --- tensors ------------------------------------------------------------------------------

#: Tensors compared at most per header (a header is also bounded in bytes).
MAX_DIFF_TENSORS = 100_000


def _tensor_format(path: str) -> str | None:
    lowered = path.lower()
    if lowered.endswith(".safetensors"):
        return "safetensors"
    if lowered.endswith(".npy"):
        return "npy"
    return None


def _compare_tensors(
    a: _Side,
    b: _Side,
    both: list[FileComparison],
    limits: DiffLimits,
    pool: DaemonPool,
    cancel: threading.Event | None,
    notes: list[str],
) -> list[TensorFileDiff]:
    files = [item for item in both if _tensor_format(item.path)]
    if len(files) > limits.max_tensor_files:
        notes.append(
            f"tensor headers compared for the first {plural(limits.max_tensor_files, 'file')}"
            f" of {len(files):,}"
        )
        files = files[: limits.max_tensor_files]
    _check(cancel)
    futures = [pool.submit(_tensor_pair, a, b, item, limits.max_header_bytes) for item in files]
    return _gather(futures, cancel)


def _tensor_pair(a: _Side, b: _Side, item: FileComparison, budget: int) -> TensorFileDiff:
    fmt = _tensor_format(item.path) or ""
    out = TensorFileDiff(item.path, fmt)
    headers = []
    for side, key, size in ((a, item.key_a, item.size_a), (b, item.key_b, item.size_b)):
        assert key is not None
        try:
            header = read_tensor_header(side.driver, side.bucket, key, size or 0, fmt, budget)
        except (StorageError, NotThisFormat, PreviewBudgetExceeded) as exc:
            out.note = f"run {side.name}: header not read: {exc}"
            return out
        side.count(header.bytes_read)
        headers.append(header)
    ha, hb = headers
    out.header_bytes = ha.bytes_read + hb.bytes_read
    out.tensors_a, out.tensors_b = ha.total_tensors, hb.total_tensors
    ta = {t.name: t for t in ha.tensors}
    tb = {t.name: t for t in hb.tensors}
    capped = len(ta) < ha.total_tensors or len(tb) < hb.total_tensors
    for name in sorted(set(ta) | set(tb)):
        x, y = ta.get(name), tb.get(name)
        change = TensorChange(
            name,
            x.dtype if x else None,
            y.dtype if y else None,
            x.shape if x else None,
            y.shape if y else None,
        )
        if x is None or y is None:
            if not capped:  # past the cap a tensor may be in the part not compared
                (out.only_b if x is None else out.only_a).append(change)
        elif (x.dtype, x.shape) != (y.dtype, y.shape):
            out.changed.append(change)
        else:
            out.same += 1
    if capped:
        out.note = (
            f"the first {MAX_DIFF_TENSORS:,} tensors of each header compared; tensors in one "
            "file only are not listed"
        )
    return out


def read_tensor_header(
    driver: StorageDriver, bucket: str, key: str, size: int, fmt: str, budget: int
) -> TensorHeaderPreview:
    """The header of a ``"safetensors"`` or ``"npy"`` object of ``size`` bytes, read by
    range with at most ``budget`` bytes (the previews' parsers,
    :mod:`pail.services.previews.tensors`).

    Raises:
        NotThisFormat: not a valid header of that format, or larger than ``budget``.
        PreviewBudgetExceeded: the header needs more than ``budget`` bytes.
        StorageError: the read failed.
    """
    reader = RangedReader(driver, bucket, key, size, budget=budget, readahead=4096)
    job = Job(ObjectInfo(bucket, key, size), reader, budget, image_limit=0, window=0)
    if fmt == "safetensors":
        return safetensors_preview(job, max_tensors=MAX_DIFF_TENSORS)
    return npy_preview(job)


# --- config files -------------------------------------------------------------------------

#: Config file names diffed key by key (besides ``*.json``, ``*.yaml``, ``*.yml``).
_CONFIG_NAMES = {"MLmodel"}
#: Flattened keys kept at most per file.
MAX_CONFIG_KEYS = 20_000
#: Nesting followed at most; deeper values are compared as one JSON text.
MAX_CONFIG_DEPTH = 64
#: Characters of a value kept in a ValueChange (values are compared whole).
MAX_VALUE_CHARS = 2000


def config_kind(path: str) -> str | None:
    """``"json"`` or ``"yaml"`` for a config file diffed key by key, else ``None``."""
    name = path.rsplit("/", 1)[-1]
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")) or name in _CONFIG_NAMES:
        return "yaml"
    return None


def _compare_configs(
    a: _Side,
    b: _Side,
    both: list[FileComparison],
    limits: DiffLimits,
    pool: DaemonPool,
    cancel: threading.Event | None,
    notes: list[str],
) -> list[ConfigFileDiff]:
    files = [item for item in both if config_kind(item.path)]
    if len(files) > limits.max_config_files:
        notes.append(
            f"config files compared: the first {plural(limits.max_config_files, 'file')} of "
            f"{len(files):,}"
        )
        files = files[: limits.max_config_files]
    _check(cancel)
    futures = [pool.submit(_config_pair, a, b, item, limits.max_config_bytes) for item in files]
    return _gather(futures, cancel)


def _config_pair(a: _Side, b: _Side, item: FileComparison, limit: int) -> ConfigFileDiff:
    out = ConfigFileDiff(item.path)
    kind = config_kind(item.path) or "json"
    flat = []
    for side, key, size in ((a, item.key_a, item.size_a), (b, item.key_b, item.size_b)):
        assert key is not None
        if (size or 0) > limit:
            out.note = (
                f"run {side.name}: {size_text(size)}, larger than the {size_text(limit)} read"
            )
            return out
        try:
            data = side.read(key, 0, limit + 1)
        except StorageError as exc:
            out.note = f"run {side.name}: not read: {exc}"
            return out
        if len(data) > limit:  # grew since the listing
            out.note = f"run {side.name}: larger than the {size_text(limit)} read"
            return out
        try:
            flat.append(flatten(parse_config(data, kind)))
        except ConfigUnreadable as exc:
            out.note = f"run {side.name}: {exc}"
            return out
    keys = diff_values(flat[0], flat[1])
    keys.added = [_clipped(c) for c in keys.added]
    keys.removed = [_clipped(c) for c in keys.removed]
    keys.changed = [_clipped(c) for c in keys.changed]
    out.keys = keys
    return out


class ConfigUnreadable(ValueError):
    """A config file that is not valid JSON/YAML, or has too many keys to compare."""


def parse_config(data: bytes, kind: str) -> object:
    """``data`` (UTF-8) parsed as ``"json"`` or ``"yaml"``. YAML is read with the safe
    loader; a tag it does not know (``!!python/object``, ``!custom``) is read as the plain
    mapping, list or text under it with the tag's name (:func:`_untagged`), never
    constructed.

    Raises:
        ConfigUnreadable: not valid UTF-8 JSON / YAML.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigUnreadable("not UTF-8 text") from None
    if kind == "json":
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ConfigUnreadable(f"not valid JSON ({_first_line(exc)})") from None
    try:
        return yaml.load(text, Loader=_PlainLoader)  # SafeLoader, unknown tags plain
    except (yaml.YAMLError, RecursionError, TypeError, ValueError) as exc:
        raise ConfigUnreadable(f"not valid YAML ({_first_line(exc)})") from None


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that reads unknown tags as their plain node (never constructs objects)."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    """The node under an unknown tag, the tag kept where it carries meaning: a scalar as
    ``"!!python/name:torch.optim.Adam"`` (plus its text, if any), a mapping with a
    ``"!tag"`` key (``!!python/object:argparse.Namespace``); a sequence (``python/tuple``)
    as a plain list."""
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    if isinstance(node, yaml.MappingNode):
        return {"!tag": tag, **loader.construct_mapping(node, deep=True)}
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    text = loader.construct_scalar(node)  # type: ignore[arg-type]
    return f"{tag} {text}" if text else tag


_PlainLoader.add_multi_constructor("", _untagged)


def flatten(document: object) -> dict[str, str]:
    """``{"optimizer": {"lr": 0.001}, "layers": [64, 32]}`` -> ``{"optimizer.lr":
    "0.001", "layers[0]": "64", "layers[1]": "32"}``: dotted paths to leaf values as JSON
    text (empty mappings and lists are leaves ``"{}"`` / ``"[]"``; a document that is one
    value has the path ``""``).

    Raises:
        ConfigUnreadable: more than :data:`MAX_CONFIG_KEYS` leaves.
    """
    out: dict[str, str] = {}

    def walk(value: object, path: str, depth: int) -> None:
        if len(out) >= MAX_CONFIG_KEYS:
            raise ConfigUnreadable(f"more than {MAX_CONFIG_KEYS:,} keys; not compared")
        if depth < MAX_CONFIG_DEPTH and isinstance(value, dict) and value:
            for name, item in value.items():
                walk(item, f"{path}.{name}" if path else str(name), depth + 1)
        elif depth < MAX_CONFIG_DEPTH and isinstance(value, list) and value:
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]", depth + 1)
        else:
            out[path] = _json_text(value)

    walk(document, "", 0)
    return out


def _json_text(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (ValueError, TypeError, RecursionError):  # a self-referencing YAML anchor
        return f"<{type(value).__name__} nested too deep>"


def _clipped(change: ValueChange) -> ValueChange:
    def cut(text: str | None) -> str | None:
        if text is None or len(text) <= MAX_VALUE_CHARS:
            return text
        return text[: MAX_VALUE_CHARS - 1] + "…"

    return ValueChange(change.name, cut(change.a), cut(change.b))


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# --- helpers ------------------------------------------------------------------------------

T = TypeVar("T")


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise DiffCancelled("diff cancelled")


def _gather(futures: list[Future[T]], cancel: threading.Event | None) -> list[T]:
    """Every future's result in order; short waits so a cancel is seen at once."""
    pending = set(futures)
    while pending:
        _check(cancel)
        _, pending = wait(pending, timeout=0.1)
    _check(cancel)
    return [f.result() for f in futures]


# --- which runs ---------------------------------------------------------------------------

#: Levels above a run's folder where :func:`resolve_run` looks for the layout (a Lightning
#: version's parent is the logger folder; an MLflow run's grandparent the artifact root).
RESOLVE_LEVELS = 3
#: Objects listed at most at the levels above the parent.
RESOLVE_ABOVE_OBJECTS = 50_000


class UnknownRun(LookupError):
    """No run with this id or name at the location (``where`` a URI, ``wanted`` the id)."""

    def __init__(self, where: str, wanted: str, known: list[str]) -> None:
        self.where, self.wanted = where, wanted
        shown = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
        super().__init__(f"no run {wanted!r} under {where} (runs there: {shown})")


class NotARunFolder(NoRunsFound):
    """The folder given is no run's folder (a :class:`NoRunsFound`): ``where`` the folder
    as a URI, ``evidence`` what was seen around it."""

    def __init__(self, where: str, evidence: str = "") -> None:
        super().__init__(where, evidence)
        detail = f" ({evidence})" if evidence else ""
        self.args = (f"{where} is not a run's folder{detail}",)


def resolve_run(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    *,
    cancel: threading.Event | None = None,
    warnings: list[str] | None = None,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    tracking: TrackingServer | None = None,
) -> Run:
    """The run whose folder is ``prefix``, its params and metrics read (and, with
    ``tracking``, merged with what the tracking server knows of it).

    Runs are detected at the parent location (then up to :data:`RESOLVE_LEVELS` levels
    up while they hold at most :data:`RESOLVE_ABOVE_OBJECTS` objects, for layouts
    recognised from higher up); the run returned is the one with
    ``prefix`` among its prefixes, or the one ``prefix`` is inside (``artifacts/`` of an
    MLflow run). A folder that holds several runs is not one run.

    Args:
        warnings: receives plain lines about metadata that could not be read.

    Raises:
        NotARunFolder: runs were found around ``prefix`` but it is not (inside) one's
            folder (a NoRunsFound).
        NoRunsFound: no layout was recognised around ``prefix``.
        StorageError, TooManyObjects, DetectCancelled: from detection.
    """
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    where = location_uri(driver, bucket, prefix)
    evidence = ""
    level = prefix
    for depth in range(RESOLVE_LEVELS):
        if not level:
            break
        level = _parent(level)
        try:
            # Higher levels are looked at only while they are small.
            limit = max_objects if depth == 0 else min(max_objects, RESOLVE_ABOVE_OBJECTS)
            found = detect_runs(
                driver, bucket, level, details=False, cancel=cancel, max_objects=limit
            )
        except TooManyObjects:
            if depth == 0:
                raise
            break  # the location above is too large to look at for a layout
        run = _run_at(found, prefix)
        if run is not None:
            lines = _load_details(driver, bucket, [run])[id(run)]
            lines += _merge_tracked(found, [run], tracking)
            if warnings is not None:
                warnings.extend(lines)
            return run
        if found.runs:
            inside = [r for r in found.runs if all(p.startswith(prefix) for p in r.prefixes)]
            if len(inside) > 1:
                raise NotARunFolder(where, f"it holds {len(inside):,} runs: {found.evidence}")
            raise NotARunFolder(where, f"runs at {found.where}: {found.evidence}")
        if depth == 0:
            evidence = f"looked at {found.where}: {found.evidence}"
    raise NoRunsFound(where, evidence)


def runs_by_id(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    wanted: list[str],
    *,
    cancel: threading.Event | None = None,
    warnings: list[str] | None = None,
    tracking: TrackingServer | None = None,
) -> list[Run]:
    """The runs named by ``wanted`` (ids, or names when unique: :meth:`RunSet.by_id`)
    among the runs detected at ``prefix``, in that order, their params and metrics read
    (and, with ``tracking``, merged with the server's: names from it count too).

    Raises:
        NoRunsFound: no runs at ``prefix``.
        UnknownRun: one of ``wanted`` is not there.
        StorageError, TooManyObjects, DetectCancelled: from detection.
    """
    found = require_runs(detect_runs(driver, bucket, prefix, details=False, cancel=cancel))
    where = found.where or format_uri(found.provider, found.bucket, found.prefix)
    chosen = [found.by_id(name) for name in wanted]
    loaded: dict[int, list[str]] = {}
    merged: list[str] = []
    if any(run is None for run in chosen):
        # Names (an MLflow run name, ...) come from the metadata: read every run's.
        loaded = _load_details(driver, bucket, found.runs)
        merged = _merge_tracked(found, found.runs, tracking)
        chosen = [found.by_id(name) for name in wanted]
    runs = []
    for name, run in zip(wanted, chosen, strict=True):
        if run is None:
            raise UnknownRun(where, name, [r.id for r in found.runs])
        runs.append(run)
    if not loaded:
        distinct = list({id(r): r for r in runs}.values())
        loaded = _load_details(driver, bucket, distinct)
        merged = _merge_tracked(found, distinct, tracking)
    if warnings is not None:
        for key in dict.fromkeys(id(r) for r in runs):
            warnings.extend(loaded.get(key, []))
        warnings.extend(merged)
    return runs


def _merge_tracked(found: RunSet, runs: list[Run], tracking: TrackingServer | None) -> list[str]:
    """Merge what ``tracking`` knows into ``runs`` (of ``found``); its warning lines."""
    if tracking is None:
        return []
    part = RunSet(found.provider, found.bucket, found.prefix, found.layout, runs=list(runs))
    tracking.merge(part)
    return part.warnings


def _parent(prefix: str) -> str:
    """``"a/b/c/"`` -> ``"a/b/"``; ``"a/"`` -> ``""``."""
    trimmed = prefix[:-1] if prefix.endswith("/") else prefix
    cut = trimmed.rfind("/")
    return trimmed[: cut + 1] if cut >= 0 else ""


def _run_at(found: RunSet, prefix: str) -> Run | None:
    exact = [run for run in found.runs if prefix in run.prefixes]
    if len(exact) == 1:
        return exact[0]
    inside = [run for run in found.runs if any(prefix.startswith(p) for p in run.prefixes)]
    return inside[0] if len(inside) == 1 and not exact else None


def _load_details(driver: StorageDriver, bucket: str, runs: list[Run]) -> dict[int, list[str]]:
    """Read the metadata of ``runs`` only (detection reads every run's; a diff needs two),
    :data:`~pail.services.runs.detect.DEFAULT_READERS` at once. Returns ``id(run)`` ->
    plain warning lines."""
    limit = DEFAULT_MAX_METADATA_BYTES
    layouts = {layout.name: layout for layout in LAYOUTS}

    def read(key: str) -> str:
        data = driver.read_range(bucket, key, 0, limit + 1)
        if len(data) > limit:
            raise MetadataTooLarge(key, len(data), limit)
        return data.decode("utf-8", "replace")

    def load(run: Run) -> list[str]:
        layout = layouts.get(run.layout)
        if layout is None:
            return []
        try:
            return layout.load(run, read)
        except (StorageError, MetadataTooLarge) as exc:
            return [f"{run.name}: metadata not read: {exc}"]

    with DaemonPool(DEFAULT_READERS, name="pail-diff-meta") as pool:
        futures = [(id(run), pool.submit(load, run)) for run in runs]
        return {key: future.result() for key, future in futures}


# --- JSON ---------------------------------------------------------------------------------


def diff_json(diff: RunDiff) -> dict[str, object]:
    """The whole RunDiff as JSON-ready values (``pail diff --json``): each run summarised
    (id, name, layout, experiment, uri, prefixes, objects, bytes, status, start/end as
    ISO 8601 UTC), then params, metrics, files, tensors, configs, notes, bytes_read.
    Sizes are bytes; shapes lists of ints; floats that are not finite are the strings
    ``"inf"``, ``"-inf"``, ``"nan"`` (JSON has no such numbers)."""
    doc = {
        "a": _run_json(diff.a, diff.uri_a),
        "b": _run_json(diff.b, diff.uri_b),
        "params": _plain(diff.params),
        "metrics": _plain(diff.metrics),
        "files": {**_plain(diff.files), "counts": _file_counts(diff.files)},
        "tensors": _plain(diff.tensors),
        "configs": _plain(diff.configs),
        "notes": list(diff.notes),
        "bytes_read": diff.bytes_read,
    }
    return doc


def _file_counts(files: FilesDiff) -> dict[str, int]:
    return {state: files.count(state) for state in FILE_STATES}


def _run_json(run: Run, uri: str) -> dict[str, object]:
    def when(value: datetime | None) -> str | None:
        if value is None:
            return None
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "id": run.id,
        "name": run.name,
        "layout": run.layout,
        "experiment": run.experiment,
        "uri": uri,
        "prefixes": list(run.prefixes),
        "objects": run.objects,
        "bytes": run.bytes,
        "status": run.status,
        "start": when(run.start),
        "end": when(run.end),
    }


def _plain(value: Any) -> Any:
    """Dataclasses, lists and tuples as dicts and lists; non-finite floats as text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value
