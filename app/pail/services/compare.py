"""Comparing two trees of objects: a local folder with a prefix, or two prefixes (issue 16,
``pail check`` and the app's check screen).

:func:`compare` lists both sides recursively (:func:`pail.services.walk.walk_objects`, the
two listings at once, child prefixes listed concurrently), pairs the objects by their path
below each side's base (``rel``) and decides for each path:

* ``only_a`` / ``only_b``: an object on one side only (with ``one_way``, ``only_b`` is not
  reported: only A's objects matter);
* ``differ``: sizes differ, or a checksum both sides vouch for differs;
* ``identical``: same size and a checksum proves the same bytes; ``method`` says which
  (``md5``, ``multipart-md5``, ``crc64nvme``, ``crc32c``, ``sha256``...);
* ``unproven``: same size and nothing comparable (an SSE-KMS ETag, a multipart ETag whose
  part sizes the store does not tell, two equal multipart ETags, stores with no common
  algorithm). Never "identical" on size alone.

Checks, cheapest first: two plain-MD5 S3 ETags from the listings that are equal (no request);
else, with a local file on one side, the file is hashed to match what the other side
vouches for (:func:`pail.services.download.verify.verify_object`: a plain-MD5 ETag, an
additional full-object or composite checksum, a multipart ETag with the store's part sizes
(:class:`~pail.drivers.base.PartSizes`) or guessed layouts: a match proves, a miss with
guessed sizes proves nothing); else both objects' checksums (one HeadObject /
``objects.get`` each, only for same-size pairs the listing did not settle) judged by
:func:`pail.services.checksums.judge` (equal values of one algorithm prove, none
contradicting them; a plain-MD5 ETag counts as an MD5, so an S3 ETag meets a GCS
``md5Hash``; equal multipart ETags prove nothing).

Call from a worker thread: it lists, HEADs and reads local files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import Literal

from pail.core.units import plural
from pail.drivers.base import Entry
from pail.drivers.errors import NotFound, StorageError
from pail.services.checksums import judge, listed_md5
from pail.services.download.verify import MISMATCH, VERIFIED, verify_object
from pail.services.jobs import DaemonPool
from pail.services.transfer import Side
from pail.services.walk import WalkCancelled, walk_objects

#: What one path's comparison found (see the module doc).
Outcome = Literal["only_a", "only_b", "differ", "identical", "unproven"]
#: Every outcome, in the order reports list them.
OUTCOMES: tuple[Outcome, ...] = ("only_a", "only_b", "differ", "unproven", "identical")

#: Checksum lookups / local hashes running at once.
DEFAULT_CHECKERS = 8


class CompareCancelled(Exception):
    """The caller's cancel event was set; no report is returned."""


@dataclass(frozen=True)
class CompareEntry:
    """One path, on either side or both.

    Attributes:
        rel: the path below both bases, ``/``-separated (``"data/part-0.parquet"``).
        a / b: the listed object on each side (``None`` on the side without it).
        outcome: see :data:`Outcome`.
        reason: plain text: why it differs or is unproven (``"size 10 vs 12"``,
            ``"checksum md5 0cc1.. vs 4a8a.."``, ``"same size, no comparable checksum
            (...)"``); ``""`` for one-sided and identical paths.
        method: for ``identical`` (and a checksum ``differ``): the check that decided
            (``md5``, ``multipart-md5``, ``crc64nvme``, ``sha256``...), else ``None``.
    """

    rel: str
    a: Entry | None
    b: Entry | None
    outcome: Outcome
    reason: str = ""
    method: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-able: rel, outcome, reason, method, and each side's key/size/etag."""

        def side(entry: Entry | None) -> dict[str, object] | None:
            if entry is None:
                return None
            return {"key": entry.key, "size": entry.size, "etag": entry.etag}

        return {
            "rel": self.rel,
            "outcome": self.outcome,
            "reason": self.reason,
            "method": self.method,
            "a": side(self.a),
            "b": side(self.b),
        }


@dataclass
class CompareReport:
    """Everything :func:`compare` found, sorted by ``rel`` (UTF-8 order).

    Attributes:
        a / b: the sides compared. entries: one :class:`CompareEntry` per path in scope.
        one_way: only A's objects were in scope (no ``only_b`` entries).
        checksums: ``False`` when checksums were not compared (sizes only: equal sizes are
            ``unproven``).
        errors: plain lines about lookups that failed (those paths are ``unproven``).
    """

    a: Side
    b: Side
    entries: list[CompareEntry] = field(default_factory=list)
    one_way: bool = False
    checksums: bool = True
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[Outcome, int]:
        """Paths per outcome (every outcome present, zero included)."""
        out: dict[Outcome, int] = dict.fromkeys(OUTCOMES, 0)
        for entry in self.entries:
            out[entry.outcome] += 1
        return out

    def methods(self) -> dict[str, int]:
        """Identical paths per proving method, most first."""
        out: dict[str, int] = {}
        for entry in self.identical:
            name = entry.method or "?"
            out[name] = out.get(name, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def _of(self, outcome: Outcome) -> list[CompareEntry]:
        return [e for e in self.entries if e.outcome == outcome]

    @property
    def only_a(self) -> list[CompareEntry]:
        """Objects only on side A."""
        return self._of("only_a")

    @property
    def only_b(self) -> list[CompareEntry]:
        """Objects only on side B (empty with ``one_way``)."""
        return self._of("only_b")

    @property
    def differ(self) -> list[CompareEntry]:
        """Paths on both sides whose sizes or checksums differ."""
        return self._of("differ")

    @property
    def identical(self) -> list[CompareEntry]:
        """Paths proven the same bytes."""
        return self._of("identical")

    @property
    def unproven(self) -> list[CompareEntry]:
        """Same size, nothing comparable: not proven identical."""
        return self._of("unproven")

    @property
    def differences(self) -> list[CompareEntry]:
        """Every entry that is not identical, in ``rel`` order."""
        return [e for e in self.entries if e.outcome != "identical"]

    @property
    def all_identical(self) -> bool:
        """True when every path in scope is proven identical and no lookup failed."""
        return not self.differences and not self.errors

    def summary(self) -> str:
        """One plain line: ``"12 identical (md5 10, crc64nvme 2); 1 differs; 2 only in A"``."""
        counts = self.counts()
        methods = ", ".join(f"{name} {n:,}" for name, n in self.methods().items())
        parts = [f"{counts['identical']:,} identical" + (f" ({methods})" if methods else "")]
        for outcome, label in (
            ("differ", "differ"),
            ("unproven", "unproven"),
            ("only_a", "only in A"),
            ("only_b", "only in B"),
        ):
            count = counts[outcome]  # type: ignore[index]
            if count:
                if outcome == "differ" and count == 1:
                    label = "differs"
                parts.append(f"{count:,} {label}")
        if self.errors:
            parts.append(plural(len(self.errors), "lookup error"))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """JSON-able: the sides' URIs, one_way, checksums, counts, methods, errors,
        ``all_identical`` and the entries that are not identical (``differences``)."""
        return {
            "a": self.a.uri,
            "b": self.b.uri,
            "one_way": self.one_way,
            "checksums": self.checksums,
            "counts": dict(self.counts()),
            "methods": self.methods(),
            "all_identical": self.all_identical,
            "differences": [e.to_dict() for e in self.differences],
            "errors": list(self.errors),
        }


def base_prefix(side: Side) -> str:
    """The prefix whose objects are compared: ``side.key``, with ``/`` added when it is a
    non-empty key without one (``s3://b/data`` compares ``data/``)."""
    key = side.key
    return key if key == "" or key.endswith("/") else key + "/"


def _objects(
    side: Side, cancel: threading.Event | None, counted: Callable[[int], None]
) -> dict[str, Entry]:
    prefix = base_prefix(side)
    try:
        found = walk_objects(side.driver, side.bucket, prefix, cancel=cancel, on_page=counted)
    except NotFound:  # a local folder (or bucket) that does not exist: nothing there
        if side.provider != "local":
            raise
        found = []
    out: dict[str, Entry] = {}
    for entry in found:
        if entry.is_prefix or entry.key.endswith("/"):  # folder markers are not files
            continue
        out[entry.key[len(prefix) :]] = entry
    return out


def _listed_md5(side: Side, entry: Entry) -> str | None:
    """A listed S3 ETag that is a plain MD5 (:func:`pail.services.checksums.listed_md5`)."""
    return listed_md5(side.provider, entry.etag)


def _short(value: str) -> str:
    return value[:8] + ".." if len(value) > 10 else value


def _reader(side: Side, entry: Entry) -> Callable[[int, int], bytes]:
    def read(offset: int, length: int) -> bytes:
        return side.driver.read_range(side.bucket, entry.key, offset, length)

    return read


def _why(exc: StorageError) -> str:
    code = exc.code or type(exc).__name__
    return f"{exc.operation or 'request'} answered {code}"


def judge_pair(a: Side, b: Side, item: CompareEntry) -> CompareEntry:
    """Settle one same-size pair whose listings did not decide, with the stores' checksums
    (and a local file hashed on demand). Returns the entry as ``identical``, ``differ`` or
    ``unproven``; a failed lookup is ``unproven`` with the reason (never raised)."""
    ea, eb = item.a, item.b
    assert ea is not None and eb is not None
    size = ea.size or 0
    try:
        if a.provider == "local" and b.provider == "local":
            ca = a.driver.object_checksums(a.bucket, ea.key)
            cb = b.driver.object_checksums(b.bucket, eb.key)
        elif a.provider == "local" or b.provider == "local":
            local, lent, remote, rent = (a, ea, b, eb) if a.provider == "local" else (b, eb, a, ea)
            verdict = verify_object(
                remote.driver, remote.provider, remote.bucket, rent.key,
                size=size, etag=rent.etag, version_id=rent.version_id,
                read=_reader(local, lent),
            )  # fmt: skip
            if verdict.status == VERIFIED:
                return replace(item, outcome="identical", method=verdict.method, reason="")
            if verdict.status == MISMATCH:
                if verdict.method == "etag":
                    why = "the object changed while compared (new ETag)"
                    return replace(item, outcome="unproven", reason=f"same size; {why}")
                why = f"checksum {verdict.method} differs" if verdict.method else verdict.reason
                return replace(item, outcome="differ", method=verdict.method or None, reason=why)
            return replace(item, outcome="unproven", reason=f"same size; {verdict.reason}")
        else:
            ca = a.driver.object_checksums(a.bucket, ea.key, version_id=ea.version_id)
            cb = b.driver.object_checksums(b.bucket, eb.key, version_id=eb.version_id)
    except (StorageError, OSError, ValueError) as exc:
        why = _why(exc) if isinstance(exc, StorageError) else str(exc)
        return replace(item, outcome="unproven", reason=f"same size; checksum lookup failed: {why}")
    if ca.size != cb.size:  # rewritten since the listing
        return replace(item, outcome="differ", reason=f"size {ca.size:,} vs {cb.size:,} (now)")
    proof = judge(ca, cb)
    method = proof.method.lower() if proof.method else None
    if proof.state == "identical":
        return replace(item, outcome="identical", method=method, reason="")
    if proof.state == "differ":
        va, vb = _short(proof.value_a or ""), _short(proof.value_b or "")
        return replace(
            item, outcome="differ", method=method, reason=f"checksum {method} {va} vs {vb}"
        )
    return replace(item, outcome="unproven", reason=f"same size; {proof.note}")


def compare(
    a: Side,
    b: Side,
    *,
    one_way: bool = False,
    checksums: bool = True,
    on_progress: Callable[[str, int], None] | None = None,
    cancel: threading.Event | None = None,
    workers: int = DEFAULT_CHECKERS,
) -> CompareReport:
    """Compare every object below ``a`` with the object at the same path below ``b``.

    Args:
        a / b: the sides (a prefix ending ``/``, ``""`` for a whole bucket, a local folder;
            a key without ``/`` is taken as that prefix: :func:`base_prefix`).
        one_way: only A's objects matter (objects only in B are not reported).
        checksums: ``False``: sizes only (no request, no hashing): equal sizes are
            ``unproven``.
        on_progress: ``on_progress(phase, n)`` from any thread, serialised:
            ``("listed", objects listed so far on both sides)`` while listing, then
            ``("checked", same-size pairs settled so far)``.
        cancel: set to stop; in-flight lookups are abandoned.
        workers: checksum lookups / local hashes at once (bounded; default 8).

    Returns:
        A :class:`CompareReport` (entries sorted by ``rel``).

    Raises:
        StorageError: a listing failed (the comparison would be meaningless).
        CompareCancelled: ``cancel`` was set.
    """
    lock = threading.Lock()
    listed = [0]

    def tell(phase: str, n: int) -> None:
        if on_progress is not None:
            with lock:
                on_progress(phase, n)

    def counted(n: int) -> None:
        with lock:
            listed[0] += n
            total = listed[0]
        tell("listed", total)

    pool = DaemonPool(max(1, workers), name="pail-compare")
    try:
        try:
            fb = pool.submit(_objects, b, cancel, counted)
            objects_a = _objects(a, cancel, counted)
            objects_b = _wait_one(fb, cancel)
        except WalkCancelled as exc:
            raise CompareCancelled("comparison cancelled") from exc
        report = CompareReport(a, b, one_way=one_way, checksums=checksums)
        entries: dict[str, CompareEntry] = {}
        pending: list[CompareEntry] = []
        paths = set(objects_a) if one_way else set(objects_a) | set(objects_b)
        for rel in paths:
            ea, eb = objects_a.get(rel), objects_b.get(rel)
            if eb is None:
                entries[rel] = CompareEntry(rel, ea, None, "only_a")
            elif ea is None:
                entries[rel] = CompareEntry(rel, None, eb, "only_b")
            elif ea.size != eb.size:
                entries[rel] = CompareEntry(
                    rel, ea, eb, "differ", f"size {ea.size or 0:,} vs {eb.size or 0:,}"
                )
            elif not checksums:
                entries[rel] = CompareEntry(
                    rel, ea, eb, "unproven", "same size (checksums not compared)"
                )
            else:
                md5_a, md5_b = _listed_md5(a, ea), _listed_md5(b, eb)
                if md5_a and md5_a == md5_b:
                    entries[rel] = CompareEntry(rel, ea, eb, "identical", "", "md5")
                else:
                    # Differing MD5-looking ETags may still be the same bytes (SSE-KMS and
                    # SSE-C ETags are not MD5s): the stores' own answers decide.
                    pending.append(CompareEntry(rel, ea, eb, "unproven"))
        _settle(a, b, pending, entries, pool, cancel, tell)
        for entry in entries.values():
            if entry.outcome == "unproven" and "lookup failed" in entry.reason:
                report.errors.append(f"{entry.rel}: {entry.reason.removeprefix('same size; ')}")
        report.entries = [
            entries[rel]
            for rel in sorted(entries, key=lambda r: r.encode("utf-8", "surrogatepass"))
        ]
        return report
    finally:
        pool.shutdown(cancel_pending=True)


def _wait_one(future: Future[dict[str, Entry]], cancel: threading.Event | None) -> dict[str, Entry]:
    while True:
        done, _ = wait([future], timeout=0.1)
        if done:
            return future.result()
        if cancel is not None and cancel.is_set():
            raise CompareCancelled("comparison cancelled")


def _settle(
    a: Side,
    b: Side,
    pending: list[CompareEntry],
    entries: dict[str, CompareEntry],
    pool: DaemonPool,
    cancel: threading.Event | None,
    tell: Callable[[str, int], None],
) -> None:
    """Run :func:`judge_pair` for ``pending`` on the pool, at most the pool's size at
    once, checking ``cancel`` between results."""
    futures: set[Future[CompareEntry]] = {pool.submit(judge_pair, a, b, e) for e in pending}
    done_count = 0
    while futures:
        if cancel is not None and cancel.is_set():
            for future in futures:
                future.cancel()
            raise CompareCancelled("comparison cancelled")
        done, futures = wait(futures, timeout=0.1, return_when=FIRST_COMPLETED)
        for future in done:
            entry = future.result()
            entries[entry.rel] = entry
            done_count += 1
        if done:
            tell("checked", done_count)


__all__ = [
    "DEFAULT_CHECKERS",
    "OUTCOMES",
    "CompareCancelled",
    "CompareEntry",
    "CompareReport",
    "Outcome",
    "base_prefix",
    "compare",
    "judge_pair",
]
