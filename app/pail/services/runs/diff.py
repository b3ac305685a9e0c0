"""Compare two runs: params, metrics, files, tensor headers and config files.

:func:`diff_runs` takes two runs (each with the driver and bucket it lives in: the runs may
be in different buckets or stores) and returns a :class:`RunDiff`:

* **params**: added / removed / changed (:class:`KeyedDiff`);
* **metrics** side by side: final and best values (best by :func:`default_mode`), the
  deltas ``b - a``, and whether b is better (:class:`MetricComparison`);
* **files**: each run's objects by their path relative to the run's prefix, as only in a,
  only in b, sizes differ, checksums differ, same size but checksum not comparable, or
  identical (:class:`FileComparison`). "Identical" needs proof: two plain MD5 ETags that
  match, or a checksum of the same algorithm that the store gives for both;
* **tensors**: for ``.safetensors`` / ``.npy`` files in both, the tensors only in one and
  those whose dtype or shape differ, from headers read by range (:class:`TensorFileDiff`);
* **configs**: for ``*.json`` / ``*.yaml`` / ``*.yml`` / ``MLmodel`` files in both, a key
  by key diff of the flattened structure (dotted paths; :class:`ConfigFileDiff`).

Everything is bounded (:class:`DiffLimits`: objects listed, checksum lookups, files and
bytes read) and cancellable; a storage error on one file becomes a note on that item.
Nothing here imports the UI; call it from a worker thread (it lists and reads).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from pail.drivers.base import StorageDriver
from pail.services.runs.model import MetricMode, Run

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
        mode: ``"min"`` (lower is better) or ``"max"``, from :func:`default_mode`.
        final_a / final_b: the last logged value (:meth:`Run.final`), ``None`` when that
            run did not log it (or only NaN).
        best_a / best_b: the best logged value by ``mode`` (:meth:`Run.best`).
        delta_final / delta_best: ``b - a`` when both are known, else ``None``.
        b_better: by the best values: ``True`` when b's is better by ``mode``,
            ``False`` when a's is better or they are equal, ``None`` when either is
            unknown.
    """

    name: str
    mode: MetricMode
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
            ``entries`` covers only what was listed and ``notes`` says why).
        notes: plain lines about listings and limits.
    """

    entries: list[FileComparison] = field(default_factory=list)
    objects_a: int = 0
    objects_b: int = 0
    bytes_a: int = 0
    bytes_b: int = 0
    complete: bool = True
    notes: list[str] = field(default_factory=list)

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
        max_checksums: checksum lookups (one HEAD-like request each) per run, for files
            of the same size whose ETags do not settle it.
        max_tensor_files: ``.safetensors``/``.npy`` pairs whose headers are read.
        max_header_bytes: bytes read at most from one tensor header.
        max_config_files: config file pairs read.
        max_config_bytes: a config file larger than this (bytes) is not read.
        workers: reads and lookups at once.
    """

    max_objects: int = 100_000
    max_checksums: int = 200
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

    Lists both runs' objects, looks up checksums where sizes match, reads tensor headers
    and config files in both runs, all within ``limits``.

    Returns:
        A :class:`RunDiff`; a storage error on one file is a note on that item, a listing
        that fails makes ``files.complete`` false with a note.

    Raises:
        DiffCancelled: ``cancel`` was set.
    """
    raise NotImplementedError  # being written


def diff_json(diff: RunDiff) -> dict[str, object]:
    """The whole RunDiff as JSON-ready values (``pail diff --json``): runs summarised
    (id, name, layout, uri, prefixes, objects, bytes, start/end ISO 8601 UTC)."""
    raise NotImplementedError  # being written


def resolve_run(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    *,
    cancel: threading.Event | None = None,
) -> Run:
    """The run whose folder is ``prefix``: runs are detected at the parent location and
    the one whose prefixes include ``prefix`` is returned (details read).

    Raises:
        NoRunsFound: ``prefix`` is not a run's folder.
        StorageError, TooManyObjects, DetectCancelled: from detection.
    """
    raise NotImplementedError  # being written
