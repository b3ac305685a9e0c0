"""Queries over one inventory report with an embedded DuckDB (no server, no extensions).

:class:`Inventory` answers the questions the front-ends ask of a report: one level of the
key space with each child's recursive totals, ``du`` of a prefix, an age histogram, a
storage-class breakdown, a search over every key, and the current objects under a prefix
as a stream (for plans). Every answer is about the snapshot, never the live bucket.

How the data is read:

* Parquet (S3 Inventory, GCS Storage Insights) is queried **in place**: a view over
  ``read_parquet([...])`` names the columns the way pail does (S3 ``last_modified_date``
  and GCS ``updated`` are both ``last_modified``...). Prefix filters are
  ``starts_with(key, ?)``, which DuckDB turns into a key range on the scan, so row groups
  outside the prefix are skipped by their statistics.
* CSV and ORC are converted **once** to Parquet under ``work_dir`` (sorted by key, so that
  prefix filters prune), then reused while the source files are unchanged (a marker holds
  their sizes and modification times). S3 CSV (S3 User Guide, "Amazon S3 Inventory list")
  is gzip'd, has no header and URL-encodes the key ("the key name is URL-encoded and must
  be decoded before you can use it"): S3 form-encodes it, a space as ``+`` and a ``+`` as
  ``%2B``, so the key is decoded as :func:`urllib.parse.unquote_plus` does (Athena's
  ``url_decode`` in AWS's own inventory queries). GCS CSV has a header row (read when
  present) and plain keys. ORC is read stripe by stripe with pyarrow and streamed into
  DuckDB (out of core).
* A versioned report (``IncludedObjectVersions=All``) counts current versions only:
  ``is_latest`` and not ``is_delete_marker``; a report without those fields lists current
  objects only, so every row counts.
* Times are kept as microseconds since the epoch (UTC) inside the queries and returned as
  timezone-aware UTC ``datetime``; ages are counted from :attr:`Report.created`.

Every user-supplied value (prefix, text, glob, class) is a bound parameter, never SQL text.
DuckDB is told never to install or load an extension (``autoinstall_known_extensions``,
``autoload_known_extensions`` off, its extension directory under ``work_dir``): only the
built-in Parquet and CSV readers are used. Each call runs on its own cursor, so any method
may run on a worker thread; :meth:`Inventory.interrupt` cancels the calls running at that
moment (they raise :class:`QueryCancelled`).
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from pail.core.text import one_line
from pail.drivers.base import Entry
from pail.services.inventory.model import (
    AgeBucket,
    ClassShare,
    InventoryError,
    Level,
    LevelRow,
    OpenProgress,
    Report,
    SearchQuery,
    SearchResult,
    Usage,
)

__all__ = ["DEFAULT_AGE_EDGES", "UNKNOWN_CLASS", "Inventory", "QueryCancelled", "glob_regex"]

#: Age histogram edges in days: buckets ``[0, 1)``, ``[1, 7)`` ... ``[730, ∞)``.
DEFAULT_AGE_EDGES: tuple[int, ...] = (1, 7, 30, 90, 180, 365, 730)

#: The storage class shown for rows of a report that has no storage-class field.
UNKNOWN_CLASS = "unknown"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAY_US = 86_400 * 1_000_000
# Bump when the converted files' layout changes: older conversions are then redone.
_PREPARED_VERSION = 1
_MARKER = "prepared.json"
# Levels whose groups are kept in memory (for paging and du of their children).
_LEVEL_CACHE = 32
# A level with at most this many prefix children is fetched whole and cached.
_LEVEL_WHOLE = 10_000
_ROW_GROUP = 122_880
# Characters DuckDB's file readers take as a glob in a path (and "{" for safety).
_GLOB_IN_PATH = frozenset("*?[]{}")
# The columns the queries use, as pail names them (model.FIELD_NAMES).
_USED = (
    "key",
    "size",
    "last_modified",
    "etag",
    "storage_class",
    "version_id",
    "generation",
    "is_latest",
    "is_delete_marker",
)


class QueryCancelled(InventoryError):
    """The query was cancelled (:meth:`Inventory.interrupt`, or the ``cancel`` event while
    preparing the report)."""


# -- small helpers -----------------------------------------------------------------------


def _literal(text: str) -> str:
    """A SQL string literal (for file paths pail chose; user text is always bound)."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _time(us: int | None) -> datetime | None:
    return None if us is None else _EPOCH + timedelta(microseconds=us)


def _us(when: datetime) -> int:
    when = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _etag(value: str | None) -> str | None:
    return None if value is None else value.strip('"')


def _message(exc: BaseException) -> str:
    return one_line(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


def _uncased_run(text: str) -> str:
    """The longest run of ``text`` without cased characters (``"step-2000"`` ->
    ``"-2000"``): lower-casing a key leaves such characters where they were, so a key whose
    lower-cased form contains ``text`` contains the run unchanged."""
    best = run = ""
    for ch in text:
        if ch.lower() == ch.upper():
            run += ch
            if len(run) > len(best):
                best = run
        else:
            run = ""
    return best


def glob_regex(pattern: str) -> str:
    """An RE2 regular expression (DuckDB ``regexp_full_match``) matching exactly what
    :func:`fnmatch.fnmatchcase` matches: ``*`` any run of characters, ``/`` included,
    ``?`` one character, ``[seq]`` / ``[!seq]`` a set with ``a-z`` ranges (an empty range
    matches nothing, an unclosed ``[`` is a literal), everything else literal. Characters
    are written as ``\\x{...}`` so nothing in the pattern is read as regex syntax.

    DuckDB's own ``GLOB`` also lets ``*`` cross ``/``, but it is not fnmatch: a backslash
    escapes the next character there (``'\\' GLOB '\\'`` is false) and an unclosed ``[``
    never matches (``'[' GLOB '['`` is false), hence this translation (the set rules are
    those of CPython's ``fnmatch.translate``; tests compare the two on random patterns).
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not out or out[-1] != ".*":
                out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(_char("["))
                continue
            out.append(_char_class(pattern, i, j))
            i = j + 1
        else:
            out.append(_char(c))
    return "(?s)" + "".join(out)


def _char(c: str) -> str:
    return c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}"


def _char_class(pat: str, i: int, j: int) -> str:
    """``pat[i:j]`` is a set's body (after ``[``, before ``]``), as CPython reads it."""
    negate = pat[i] == "!"
    items: list[tuple[str, str]] = []  # (low, high), inclusive
    if "-" not in pat[i:j]:
        body = pat[i + 1 if negate else i : j]
        items = [(ch, ch) for ch in body]
    else:
        chunks: list[str] = []
        k = i + 2 if negate else i + 1
        start = i
        while True:
            k = pat.find("-", k, j)
            if k < 0:
                break
            chunks.append(pat[start:k])
            start = k + 1
            k = k + 3
        chunk = pat[start:j]
        if chunk:
            chunks.append(chunk)
        else:
            chunks[-1] += "-"
        # Remove empty ranges (as fnmatch does): both ends go, the range matches nothing.
        for k in range(len(chunks) - 1, 0, -1):
            if chunks[k - 1] and chunks[k] and chunks[k - 1][-1] > chunks[k][0]:
                chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
                del chunks[k]
        if negate:
            chunks[0] = chunks[0][1:]
        last = len(chunks) - 1
        for idx, part in enumerate(chunks):
            lo = 1 if idx > 0 else 0
            hi = len(part) - 1 if idx < last else len(part)
            if idx > 0:
                items.append((chunks[idx - 1][-1], part[0]))
            items.extend((ch, ch) for ch in part[lo:hi])
    if not items:
        return "." if negate else "[^\\x{0}-\\x{10ffff}]"
    body = "".join(
        _char_any(lo) if lo == hi else f"{_char_any(lo)}-{_char_any(hi)}" for lo, hi in items
    )
    return f"[{'^' if negate else ''}{body}]"


def _char_any(c: str) -> str:
    return f"\\x{{{ord(c):x}}}"


def _prefix_end(prefix: str) -> int:
    """The position (1-based, in characters) where a key's part under ``prefix`` starts."""
    return len(prefix) + 1


# -- level cache -------------------------------------------------------------------------


@dataclass
class _Group:
    """One child of a level with its per-class totals (``classes``: class -> n, b, mx, mn)."""

    child: str
    objects: int
    bytes: int
    newest: int | None
    oldest: int | None
    classes: dict[str, tuple[int, int, int | None, int | None]]


@dataclass
class _LevelData:
    prefix: str
    prefixes: list[_Group]  # the prefix children (all of them when ``whole``)
    first: int  # index of prefixes[0] among the prefix children
    prefix_children: int
    direct: _Group | None  # the objects directly under the prefix, totalled
    top: list[tuple[Any, ...]]  # the first ``top_n`` direct objects, by key
    top_n: int
    whole: bool
    objects: int  # everything under the prefix
    bytes: int

    @property
    def groups(self) -> list[_Group]:
        return self.prefixes + ([self.direct] if self.direct is not None else [])


@dataclass(eq=False)
class _Call:
    cursor: duckdb.DuckDBPyConnection
    cancelled: bool = False
    parked: bool = False  # a stream handed out a batch: nothing runs on its cursor


@dataclass
class _Columns:
    """How the view reads the data files: pail name -> column name in the files."""

    names: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


# -- the inventory -----------------------------------------------------------------------


class Inventory:
    """One report opened for queries.

    Args:
        report: the report (its ``format``, ``fields``/``source_fields``, ``created``).
        files: the report's data files on local disk, in ``report.format``: CSV gzip'd
            with no header and columns ``report.source_fields`` (S3; keys URL-encoded) or
            with a header row (GCS); ORC; Parquet.
        work_dir: a directory for this report: converted Parquet (CSV/ORC), DuckDB's
            spill files (``tmp/``), its (unused) extension directory.
        memory_limit: DuckDB's ``memory_limit`` (``"2GB"``); queries spill beyond it.
        threads: DuckDB worker threads (``None``: one per core).
        on_progress: called with ``OpenProgress("preparing", done, total, file)`` while
            CSV/ORC files are converted (files done / to do).
        cancel: set it to stop a conversion (raises :class:`QueryCancelled`).

    Attributes:
        report: the report.
        converted: data files converted to Parquet by this open (0 when a previous
            conversion was reused, and for Parquet reports).

    Raises:
        InventoryError: a data file is missing, unreadable or lacks a listed column.
        QueryCancelled: ``cancel`` was set while converting.
    """

    report: Report

    def __init__(
        self,
        report: Report,
        files: Sequence[Path],
        *,
        work_dir: Path,
        memory_limit: str = "2GB",
        threads: int | None = None,
        on_progress: Callable[[OpenProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.report = report
        self.converted = 0
        self._work = Path(work_dir).resolve()
        if any(ch in _GLOB_IN_PATH for ch in str(self._work)):
            raise InventoryError(
                f"the inventory work folder's path has a glob character: {one_line(self._work)}"
            )
        self._created_us = _us(report.created)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when a call ends
        self._calls: set[_Call] = set()  # hashed by identity (eq=False)
        self._closed = False
        self._levels: OrderedDict[str, _LevelData] = OrderedDict()
        self._usage: OrderedDict[str, Usage] = OrderedDict()
        (self._work / "tmp").mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "temp_directory": str(self._work / "tmp"),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "extension_directory": str(self._work / "duckdb-extensions"),
            "allow_community_extensions": False,
            "preserve_insertion_order": False,
        }
        if threads is not None:
            config["threads"] = threads
        try:
            self._db = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            raise InventoryError(f"DuckDB could not start: {_message(exc)}") from None
        try:
            # Naive timestamps (ORC's) are UTC wall times: casts to TIMESTAMPTZ take them so.
            self._db.execute("SET TimeZone = 'UTC'")
            # DuckDB draws a progress bar on the terminal for long queries: never here
            # (a session setting: the cursors made from this connection inherit it).
            self._db.execute("SET enable_progress_bar = false")
            paths, columns = self._prepare(list(files), on_progress, cancel)
            self._create_view(paths, columns)
            self._db.execute("SET lock_configuration = true")
        except BaseException:
            self._db.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> Inventory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel running queries, wait up to ``timeout`` seconds for their calls to return
        (DuckDB refuses to close a connection a cursor is still busy on), and close the
        database (converted files stay). Past the timeout the database is left to be
        freed with the process."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.interrupt()
        with self._idle:
            self._idle.wait_for(lambda: all(c.parked for c in self._calls), timeout=timeout)
            busy = not all(c.parked for c in self._calls)
        if not busy:
            with contextlib.suppress(duckdb.Error):
                self._db.close()

    def interrupt(self) -> None:
        """Cancel every call running now (from any thread): each raises
        :class:`QueryCancelled`, even one whose query finished in the meantime."""
        with self._lock:
            calls = list(self._calls)
        for call in calls:
            call.cancelled = True
            with contextlib.suppress(duckdb.Error):  # closed: nothing runs there
                call.cursor.interrupt()

    # -- preparing the data --------------------------------------------------------------

    def _prepare(
        self,
        files: list[Path],
        on_progress: Callable[[OpenProgress], None] | None,
        cancel: threading.Event | None,
    ) -> tuple[list[Path], _Columns]:
        report = self.report
        names = dict(zip(report.fields, report.source_fields, strict=False))
        if "key" not in names:
            raise InventoryError("the report has no key field")
        for path in files:
            if not Path(path).is_file():
                raise InventoryError(f"data file missing: {one_line(path)}")
        if report.format == "Parquet":
            used = {f: names[f] for f in _USED if f in names}
            return [self._safe_path(Path(p), i) for i, p in enumerate(files)], _Columns(used)
        used = {f: f for f in _USED if f in names}
        return self._converted(files, on_progress, cancel), _Columns(used)

    def _safe_path(self, path: Path, index: int) -> Path:
        """``path``, or a link to it under ``work_dir`` when its name has a character
        DuckDB would read as a glob (a file name is data, not a pattern)."""
        path = path.resolve()
        if not any(ch in _GLOB_IN_PATH for ch in str(path)):
            return path
        links = self._work / "links"
        links.mkdir(exist_ok=True)
        link = links / f"{index:05d}{''.join(path.suffixes[-2:])}"
        if any(ch in _GLOB_IN_PATH for ch in link.name):
            link = links / f"{index:05d}.data"
        try:
            if link.is_symlink() or link.exists():
                link.unlink()
            os.symlink(path, link)
        except OSError:
            try:
                os.link(path, link)
            except OSError as exc:
                raise InventoryError(
                    f"cannot link {one_line(path)} under the work folder: {_message(exc)}"
                ) from None
        return link

    def _converted(
        self,
        files: list[Path],
        on_progress: Callable[[OpenProgress], None] | None,
        cancel: threading.Event | None,
    ) -> list[Path]:
        """Parquet copies of CSV/ORC files, one per file, sorted by key; reused while the
        sources' sizes and modification times are those the marker recorded."""
        out_dir = self._work / "prepared"
        sources = []
        for path in files:
            st = Path(path).stat()
            sources.append(
                {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            )
        wanted = {
            "version": _PREPARED_VERSION,
            "format": self.report.format,
            "provider": self.report.provider,
            "fields": list(self.report.fields),
            "source_fields": list(self.report.source_fields),
            "sources": sources,
        }
        outputs = [out_dir / f"part-{i:05d}.parquet" for i in range(len(files))]
        marker = self._work / _MARKER
        try:
            recorded = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = None
        if recorded == wanted and all(p.is_file() for p in outputs):
            return outputs
        marker.unlink(missing_ok=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob("*"):
            stale.unlink()
        total = len(files)
        for index, (source, target) in enumerate(zip(files, outputs, strict=True)):
            if cancel is not None and cancel.is_set():
                raise QueryCancelled("cancelled while preparing the report")
            if on_progress is not None:
                on_progress(OpenProgress("preparing", index, total, one_line(Path(source).name)))
            self._convert_one(Path(source), target, cancel)
            self.converted += 1
        if on_progress is not None:
            on_progress(OpenProgress("preparing", total, total, ""))
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(wanted), encoding="utf-8")
        os.replace(tmp, marker)
        return outputs

    def _convert_one(self, source: Path, target: Path, cancel: threading.Event | None) -> None:
        partial = target.with_suffix(".partial")
        cursor = self._db.cursor()
        done = threading.Event()
        watcher = None
        if cancel is not None:

            def watch() -> None:
                while not done.wait(0.1):
                    if cancel.is_set():
                        cursor.interrupt()
                        return

            watcher = threading.Thread(target=watch, name="inventory-convert-cancel", daemon=True)
            watcher.start()
        try:
            if self.report.format == "ORC":
                select = self._orc_select(source, cursor)
            else:
                select = self._csv_select(source)
            cursor.execute(
                f"COPY ({select} ORDER BY key) TO {_literal(str(partial))} "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {_ROW_GROUP})"
            )
        except duckdb.InterruptException:
            raise QueryCancelled("cancelled while preparing the report") from None
        except duckdb.Error as exc:
            if cancel is not None and cancel.is_set():
                raise QueryCancelled("cancelled while preparing the report") from None
            raise InventoryError(
                f"cannot read {one_line(source.name)} as {self.report.format}: {_message(exc)}"
            ) from None
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
            cursor.close()
        os.replace(partial, target)

    def _csv_select(self, source: Path) -> str:
        report = self.report
        fields = list(report.fields)
        header = False
        if report.provider == "gcs":
            # GCS CSV starts with a header row unless the config turned it off.
            header = self._first_row(source) == [f.strip() for f in report.source_fields]
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(fields))) + "}"
        reader = (
            f"read_csv({_literal(str(source.resolve()))}, columns = {columns}, "
            f"header = {str(header).lower()}, delim = ',', quote = '\"', escape = '\"', "
            "auto_detect = false, compression = 'auto')"
        )
        col = {name: f"nullif(c{i}, '')" for i, name in enumerate(fields)}
        exprs = []
        for name in _USED:
            if name not in col:
                continue
            value = col[name]
            if name == "key" and report.provider == "s3":
                # Form URL-encoding (S3 User Guide): '+' is a space, '%2B' a '+'.
                value = f"url_decode(replace({value}, '+', ' '))"
            elif name in ("size", "generation"):
                value = f"CAST({value} AS BIGINT)"
            elif name == "last_modified":
                value = f"CAST({value} AS TIMESTAMPTZ)"
            elif name in ("is_latest", "is_delete_marker"):
                value = f"(lower({value}) = 'true')"
            exprs.append(f"{value} AS {name}")
        return f"SELECT {', '.join(exprs)} FROM {reader}"

    @staticmethod
    def _first_row(source: Path) -> list[str]:
        import gzip

        try:
            with open(source, "rb") as raw:
                magic = raw.read(2)
            opener: Any = gzip.open if magic == b"\x1f\x8b" else open
            with opener(source, "rt", encoding="utf-8", newline="") as fh:
                return [v.strip() for v in next(csv.reader(fh), [])]
        except (OSError, UnicodeDecodeError, csv.Error):
            return []

    def _orc_select(self, source: Path, cursor: duckdb.DuckDBPyConnection) -> str:
        import pyarrow as pa
        import pyarrow.orc as pa_orc

        names = dict(zip(self.report.fields, self.report.source_fields, strict=False))
        try:
            orc = pa_orc.ORCFile(str(source))
            present = {n.lower(): n for n in orc.schema.names}
        except (OSError, pa.ArrowException) as exc:
            raise InventoryError(
                f"cannot read {one_line(source.name)} as ORC: {_message(exc)}"
            ) from None
        wanted = {}
        for name in _USED:
            if name in names:
                actual = present.get(names[name].lower())
                if actual is None:
                    raise InventoryError(
                        f"{one_line(source.name)} has no column {one_line(names[name])}"
                    )
                wanted[name] = actual
        schema = pa.schema([orc.schema.field(c) for c in wanted.values()])

        def stripes() -> Iterator[pa.RecordBatch]:
            columns = list(wanted.values())
            for i in range(orc.nstripes):
                stripe = orc.read_stripe(i, columns=columns)
                # read_stripe keeps the file's column order: put them in the schema's.
                yield pa.RecordBatch.from_arrays([stripe.column(c) for c in columns], schema=schema)

        reader = pa.RecordBatchReader.from_batches(schema, stripes())
        cursor.register("orc_source", reader)
        exprs = []
        for name, column in wanted.items():
            value = _ident(column)
            if name == "last_modified":
                value = f"CAST({value} AS TIMESTAMPTZ)"  # ORC timestamp: UTC wall time
            elif name in ("size", "generation"):
                value = f"CAST({value} AS BIGINT)"
            elif name in ("is_latest", "is_delete_marker"):
                value = f"CAST({value} AS BOOLEAN)"
            else:
                value = f"CAST({value} AS VARCHAR)"
            exprs.append(f"{value} AS {name}")
        return f"SELECT {', '.join(exprs)} FROM orc_source"

    def _create_view(self, paths: list[Path], columns: _Columns) -> None:
        if not paths:
            self._db.execute(
                "CREATE VIEW inv AS SELECT NULL::VARCHAR AS key, NULL::BIGINT AS size, "
                "NULL::BIGINT AS lm, NULL::VARCHAR AS etag, NULL::VARCHAR AS storage_class, "
                "NULL::VARCHAR AS version_id WHERE false"
            )
            return
        source = "read_parquet([" + ", ".join(_literal(str(p)) for p in paths) + "])"
        try:
            described = self._db.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        except duckdb.Error as exc:
            raise InventoryError(
                f"cannot read the report's Parquet files: {_message(exc)}"
            ) from None
        types = {str(row[0]).lower(): (str(row[0]), str(row[1]).upper()) for row in described}

        def column(name: str) -> tuple[str, str] | None:
            if name not in columns.names:
                return None
            found = types.get(columns.names[name].lower())
            if found is None:
                raise InventoryError(
                    f"the data files have no column {one_line(columns.names[name])}"
                )
            return _ident(found[0]), found[1]

        exprs: dict[str, str] = {}
        key = column("key")
        assert key is not None  # checked in _prepare
        exprs["key"] = key[0] if key[1] == "VARCHAR" else f"CAST({key[0]} AS VARCHAR)"
        size = column("size")
        exprs["size"] = "NULL::BIGINT" if size is None else f"CAST({size[0]} AS BIGINT)"
        lm = column("last_modified")
        if lm is None:
            exprs["lm"] = "NULL::BIGINT"
        elif lm[1].startswith("TIMESTAMP") or lm[1] == "DATE":
            exprs["lm"] = f"epoch_us(CAST({lm[0]} AS TIMESTAMPTZ))"
        elif lm[1] in ("BIGINT", "INTEGER", "HUGEINT", "UBIGINT"):
            exprs["lm"] = f"CAST({lm[0]} AS BIGINT) * 1000"  # S3 TIMESTAMP_MILLIS as int64
        else:
            exprs["lm"] = f"epoch_us(CAST({lm[0]} AS TIMESTAMPTZ))"
        for name, alias in (("etag", "etag"), ("storage_class", "storage_class")):
            col = column(name)
            exprs[alias] = "NULL::VARCHAR" if col is None else f"CAST({col[0]} AS VARCHAR)"
        version = column("version_id") or column("generation")
        exprs["version_id"] = (
            "NULL::VARCHAR" if version is None else f"CAST({version[0]} AS VARCHAR)"
        )
        where = []
        latest = column("is_latest")
        if latest is not None:
            where.append(f"coalesce(CAST({latest[0]} AS BOOLEAN), true)")
        marker = column("is_delete_marker")
        if marker is not None:
            where.append(f"NOT coalesce(CAST({marker[0]} AS BOOLEAN), false)")
        select = ", ".join(f"{expr} AS {alias}" for alias, expr in exprs.items())
        sql = f"CREATE VIEW inv AS SELECT {select} FROM {source}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        self._db.execute(sql)

    # -- running queries -----------------------------------------------------------------

    def _begin(self) -> _Call:
        with self._lock:
            if self._closed:
                raise InventoryError("the inventory is closed")
            call = _Call(self._db.cursor())
            self._calls.add(call)
        return call

    def _end(self, call: _Call) -> None:
        with contextlib.suppress(duckdb.Error):
            call.cursor.close()
        with self._idle:
            self._calls.discard(call)
            self._idle.notify_all()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        call = self._begin()
        try:
            try:
                rows = call.cursor.execute(sql, list(params)).fetchall()
            except duckdb.InterruptException:
                raise QueryCancelled("query cancelled") from None
            except duckdb.Error as exc:
                if call.cancelled:
                    raise QueryCancelled("query cancelled") from None
                raise InventoryError(f"inventory query failed: {_message(exc)}") from None
            if call.cancelled:
                raise QueryCancelled("query cancelled")
            return rows
        finally:
            self._end(call)

    @staticmethod
    def _under(prefix: str, params: list[Any]) -> str:
        """``starts_with(key, ?)`` (DuckDB prunes row groups by the key range), or
        ``true`` for the whole bucket."""
        if not prefix:
            return "true"
        params.append(prefix)
        return "starts_with(key, ?)"

    # -- levels --------------------------------------------------------------------------

    def _cached_level(self, prefix: str, need: int) -> _LevelData | None:
        """A kept level holding at least ``need`` direct objects (or all of them)."""
        with self._lock:
            data = self._levels.get(prefix)
            if data is None:
                return None
            self._levels.move_to_end(prefix)
        direct = data.direct.objects if data.direct is not None else 0
        return data if data.top_n >= need or len(data.top) >= direct else None

    def _level_scan(self, prefix: str, need: int, first: int, count: int) -> _LevelData:
        """One scan: the child prefixes with per-class totals, the direct objects' totals
        and the first ``need`` of them by key, the level's totals. All child prefixes come
        back when there are at most :data:`_LEVEL_WHOLE` (the level is then kept), else
        those ranked ``first .. first+count-1`` by name."""
        start = _prefix_end(prefix)
        params: list[Any] = [start]
        under = self._under(prefix, params)
        top_n = max(need, 1)
        params += [len(prefix), top_n, _LEVEL_WHOLE, first + 1, first + count]
        sql = f"""
        WITH p AS (
            SELECT key, size, lm, storage_class, etag, strpos(substr(key, ?), '/') AS slash
            FROM inv WHERE {under}
        ), s AS (
            SELECT key, size, lm, storage_class, etag,
                   CASE WHEN slash > 0 THEN substr(key, 1, ? + slash) END AS child
            FROM p
        ), g AS (
            SELECT child, storage_class AS sc, count(*) AS n, coalesce(sum(size), 0) AS b,
                   max(lm) AS mx, min(lm) AS mn,
                   arg_min({{'key': key, 'size': size, 'lm': lm, 'sc': storage_class,
                            'etag': etag}}, key, ?) FILTER (WHERE child IS NULL) AS top
            FROM s GROUP BY child, storage_class
        ), c AS (
            SELECT child, sum(n) AS n, sum(b) AS b,
                   list({{'sc': sc, 'n': n, 'b': b, 'mx': mx, 'mn': mn}}) AS classes,
                   flatten(list(top) FILTER (WHERE top IS NOT NULL)) AS top
            FROM g GROUP BY child
        ), r AS (
            SELECT *, row_number() OVER (ORDER BY child) AS rn,
                   count(child) OVER () AS nchildren,
                   sum(n) OVER () AS all_n, sum(b) OVER () AS all_b
            FROM c
        )
        SELECT child, classes, top, nchildren, all_n, all_b FROM r
        WHERE child IS NULL OR nchildren <= ? OR rn BETWEEN ? AND ?
        ORDER BY child NULLS LAST
        """
        rows = self._query(sql, params)
        prefixes: list[_Group] = []
        direct: _Group | None = None
        top: list[tuple[Any, ...]] = []
        nchildren = total_n = total_b = 0
        for child, classes, tops, n_children, all_n, all_b in rows:
            nchildren, total_n, total_b = int(n_children), int(all_n), int(all_b)
            group = _group(child or "", classes)
            if child is None:
                direct = group
                top = sorted(
                    ((t["key"], t["size"], t["lm"], t["sc"], t["etag"]) for t in tops or []),
                    key=lambda t: t[0],
                )[:top_n]
            else:
                prefixes.append(group)
        whole = nchildren <= _LEVEL_WHOLE
        data = _LevelData(
            prefix=prefix,
            prefixes=prefixes,
            first=0 if whole else first,
            prefix_children=nchildren,
            direct=direct,
            top=top,
            top_n=top_n,
            whole=whole,
            objects=total_n,
            bytes=total_b,
        )
        if whole:
            with self._lock:
                self._levels[prefix] = data
                self._levels.move_to_end(prefix)
                while len(self._levels) > _LEVEL_CACHE:
                    self._levels.popitem(last=False)
        return data

    def level(self, prefix: str = "", *, limit: int = 1000, offset: int = 0) -> Level:
        """One level under ``prefix`` as a ``Delimiter="/"`` listing would show it: child
        prefixes (by name, each with its recursive objects, bytes, newest and oldest),
        then the objects directly under ``prefix`` (by key); ``limit`` children from
        ``offset``, with the level's child count and recursive totals. A key ending in
        ``/`` is a prefix of the level above and an object in its own level (as S3 lists
        it); ``a//b`` has the child prefix ``a//`` under ``a/``.

        One scan of the report per level (row groups outside ``prefix`` skipped); a level
        with up to 10,000 child prefixes is kept, so its other pages and ``du`` of it and
        of its children answer without scanning again.

        Raises:
            QueryCancelled: :meth:`interrupt` was called meanwhile.
            InventoryError: the query failed.
        """
        limit = max(0, limit)
        offset = max(0, offset)
        data = self._cached_level(prefix, offset + limit)
        if data is None:
            data = self._level_scan(prefix, offset + limit, offset, limit)
        rows: list[LevelRow] = []
        n_prefix = data.prefix_children
        for index in range(offset, min(offset + limit, n_prefix)):
            g = data.prefixes[index - data.first]
            rows.append(
                LevelRow(
                    key=g.child,
                    is_prefix=True,
                    objects=g.objects,
                    bytes=g.bytes,
                    newest=_time(g.newest),
                    oldest=_time(g.oldest),
                )
            )
        n_direct = data.direct.objects if data.direct is not None else 0
        start = max(0, offset - n_prefix)
        want = offset + limit - max(offset, n_prefix)
        for key, size, lm, sc, etag in data.top[start : start + max(0, want)]:
            rows.append(
                LevelRow(
                    key=key,
                    is_prefix=False,
                    objects=1,
                    bytes=size or 0,
                    newest=_time(lm),
                    oldest=_time(lm),
                    storage_class=sc,
                    etag=_etag(etag),
                )
            )
        return Level(
            prefix=prefix,
            rows=rows,
            children=n_prefix + n_direct,
            objects=data.objects,
            bytes=data.bytes,
            offset=offset,
        )

    # -- du, classes, ages ---------------------------------------------------------------

    def du(self, prefix: str = "") -> Usage:
        """Objects and bytes under ``prefix`` (recursive), their oldest and newest
        last-modified times and the split by storage class (largest first).

        Answered from a kept level when ``prefix`` is one (or a child prefix of one),
        else by one scan (row groups outside ``prefix`` skipped).

        Raises:
            QueryCancelled / InventoryError: as :meth:`level`.
        """
        with self._lock:
            cached = self._usage.get(prefix)
            if cached is None:
                groups = self._cached_groups(prefix)
        if cached is not None:
            return cached
        if groups is None:
            params: list[Any] = []
            under = self._under(prefix, params)
            rows = self._query(
                f"SELECT storage_class, count(*), coalesce(sum(size), 0), max(lm), min(lm) "
                f"FROM inv WHERE {under} GROUP BY storage_class",
                params,
            )
            classes = {
                (sc if sc is not None else UNKNOWN_CLASS): (int(n), int(b), mx, mn)
                for sc, n, b, mx, mn in rows
            }
        else:
            classes = {}
            for g in groups:
                for sc, (n, b, mx, mn) in g.classes.items():
                    classes[sc] = _merge(classes.get(sc), (n, b, mx, mn))
        usage = _usage(prefix, classes)
        with self._lock:
            self._usage[prefix] = usage
            while len(self._usage) > 256:
                self._usage.popitem(last=False)
        return usage

    def _cached_groups(self, prefix: str) -> list[_Group] | None:
        """The groups that make up ``prefix`` in a kept level (lock held)."""
        data = self._levels.get(prefix)
        if data is not None and data.whole:
            return data.groups
        if prefix.endswith("/"):
            cut = prefix[:-1].rfind("/")
            parent = prefix[: cut + 1] if cut >= 0 else ""
            data = self._levels.get(parent)
            if data is not None and data.whole:
                for g in data.prefixes:
                    if g.child == prefix:
                        return [g]
                return []  # a kept level with no such child: nothing under it
        return None

    def storage_classes(self, prefix: str = "") -> list[ClassShare]:
        """Objects and bytes per storage class under ``prefix``, largest (bytes) first;
        a report without a storage-class field has one share, :data:`UNKNOWN_CLASS`.

        Raises:
            QueryCancelled / InventoryError: as :meth:`level`.
        """
        return list(self.du(prefix).classes)

    def ages(self, prefix: str = "", edges: Sequence[int] = DEFAULT_AGE_EDGES) -> list[AgeBucket]:
        """An age histogram under ``prefix``: age = report time - last_modified, in
        buckets ``[0, e1)``, ``[e1, e2)`` ... ``[ek, ∞)`` days (``edges`` ascending, whole
        days). Every bucket is returned, empty ones too. An object modified after the
        report's time counts as age 0; one without a time is not counted.

        Raises:
            ValueError: ``edges`` not strictly ascending positive days.
            QueryCancelled / InventoryError: as :meth:`level`.
        """
        edges = [int(e) for e in edges]
        if any(e <= 0 for e in edges) or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"age edges must be ascending positive days: {edges}")
        params: list[Any] = []
        cases = []
        for index, days in enumerate(edges):
            cases.append(f"WHEN lm > ? THEN {index}")
            params.append(self._created_us - days * _DAY_US)
        bucket = f"CASE {' '.join(cases)} ELSE {len(edges)} END" if cases else "0"
        under = self._under(prefix, params)
        rows = self._query(
            f"SELECT {bucket} AS bucket, count(*), coalesce(sum(size), 0) FROM inv "
            f"WHERE lm IS NOT NULL AND {under} GROUP BY bucket",
            params,
        )
        found = {int(b): (int(n), int(s)) for b, n, s in rows}
        out = []
        lows = [0, *edges]
        for index, lower in enumerate(lows):
            upper = edges[index] if index < len(edges) else None
            label = f"{lower}–{upper} d" if upper is not None else f"{lower}+ d"
            n, s = found.get(index, (0, 0))
            out.append(AgeBucket(label=label, lower=lower, upper=upper, objects=n, bytes=s))
        return out

    # -- search and objects --------------------------------------------------------------

    def _filters(
        self,
        prefix: str,
        params: list[Any],
        *,
        min_size: int | None = None,
        max_size: int | None = None,
        older_than: float | None = None,
        newer_than: float | None = None,
        storage_class: str | None = None,
    ) -> list[str]:
        where = [self._under(prefix, params)]
        if min_size is not None:
            where.append("size >= ?")
            params.append(int(min_size))
        if max_size is not None:
            where.append("size <= ?")
            params.append(int(max_size))
        if older_than is not None:
            where.append("lm < ?")  # age > older_than at the report's time
            params.append(self._created_us - round(older_than * 1_000_000))
        if newer_than is not None:
            where.append("lm > ?")  # age < newer_than
            params.append(self._created_us - round(newer_than * 1_000_000))
        if storage_class is not None:
            if storage_class == UNKNOWN_CLASS:
                where.append("storage_class IS NULL")
            else:
                where.append("storage_class = ?")
                params.append(storage_class)
        return where

    def search(self, query: SearchQuery) -> SearchResult:
        """Every current object matching ``query`` (all criteria hold): ``text`` a
        substring of the key relative to ``prefix``, ``glob`` on that relative key
        (:func:`fnmatch.fnmatchcase` rules), both case-insensitive as the live search
        (:mod:`pail.services.search`) is, sizes inclusive, ages strictly older /
        newer at the report's time, an exact storage class. Folder markers (keys ending in
        ``/``) never match, as in the live search. Returns the first ``limit`` by key with
        the exact count and total bytes of all matches (one scan).

        Raises:
            QueryCancelled / InventoryError: as :meth:`level`.
        """
        params: list[Any] = []
        limit = max(0, query.limit)
        top = (
            "arg_min({'key': key, 'size': size, 'lm': lm, 'sc': storage_class, 'etag': etag, "
            "'v': version_id}, key, ?)"
        )
        select_params: list[Any] = [max(limit, 1)]
        where = self._filters(
            query.prefix,
            params,
            min_size=query.min_size,
            max_size=query.max_size,
            older_than=query.older_than,
            newer_than=query.newer_than,
            storage_class=query.storage_class,
        )
        where.append("NOT ends_with(key, '/')")
        rel = "key" if not query.prefix else "substr(key, ?)"
        if query.text:
            cut = [_prefix_end(query.prefix)] if query.prefix else []  # rel's parameter
            needle = query.text
            if needle.lower() != needle.upper():  # cased letters: compare lower-cased
                # Its longest run without cased letters (digits, "-", "/"...) must be in
                # the key as is: a plain scan rules most keys out before any lower().
                run = _uncased_run(needle)
                if len(run) >= 2:
                    where.append(f"contains({rel}, ?)")
                    params.extend([*cut, run])
                where.append(f"contains(lower({rel}), ?)")
                params.extend([*cut, needle.lower()])
            else:  # nothing to fold: the plain scan (about half the time) finds the same
                where.append(f"contains({rel}, ?)")
                params.extend([*cut, needle])
        if query.glob is not None:
            if query.prefix:
                params.append(_prefix_end(query.prefix))
            where.append(f"regexp_full_match({rel}, ?, 'i')")
            params.append(glob_regex(query.glob))
        rows = self._query(
            f"SELECT count(*), coalesce(sum(size), 0), {top} FROM inv WHERE {' AND '.join(where)}",
            select_params + params,
        )
        matched, nbytes, found = rows[0]
        entries = [
            Entry(
                key=t["key"],
                type="object",
                size=t["size"],
                last_modified=_time(t["lm"]),
                etag=_etag(t["etag"]),
                storage_class=t["sc"],
                version_id=t["v"],
            )
            for t in sorted(found or [], key=lambda t: t["key"])[:limit]
        ]
        return SearchResult(rows=entries, matched=int(matched), bytes=int(nbytes))

    def objects(
        self,
        prefix: str = "",
        *,
        older_than: float | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        batch: int = 10_000,
    ) -> Iterator[list[Entry]]:
        """The current objects under ``prefix`` by key, ``batch`` at a time, as listing
        entries (``type="object"``, size, last_modified UTC, ETag without quotes, storage
        class, version id). ``older_than``: age in seconds at the report's time, strictly
        greater; sizes in bytes, inclusive. Folder markers are objects and are included.

        The rows stream from DuckDB (sorted out of core); close the iterator to stop.

        Raises:
            QueryCancelled / InventoryError: as :meth:`level`, while iterating.
        """
        params: list[Any] = []
        where = self._filters(
            prefix, params, min_size=min_size, max_size=max_size, older_than=older_than
        )
        sql = (
            "SELECT key, size, lm, etag, storage_class, version_id FROM inv "
            f"WHERE {' AND '.join(where)} ORDER BY key"
        )
        return self._stream(sql, params, max(1, batch))

    def _stream(self, sql: str, params: list[Any], batch: int) -> Iterator[list[Entry]]:
        call = self._begin()
        try:
            try:
                call.cursor.execute(sql, params)
                while True:
                    if call.cancelled:
                        raise QueryCancelled("query cancelled")
                    rows = call.cursor.fetchmany(batch)
                    if not rows:
                        break
                    entries = [
                        Entry(
                            key=key,
                            type="object",
                            size=size,
                            last_modified=_time(lm),
                            etag=_etag(etag),
                            storage_class=sc,
                            version_id=version,
                        )
                        for key, size, lm, etag, sc, version in rows
                    ]
                    with self._idle:
                        call.parked = True
                        self._idle.notify_all()
                    try:
                        yield entries
                    finally:
                        call.parked = False
            except duckdb.InterruptException:
                raise QueryCancelled("query cancelled") from None
            except duckdb.Error as exc:
                if call.cancelled:
                    raise QueryCancelled("query cancelled") from None
                raise InventoryError(f"inventory query failed: {_message(exc)}") from None
            if call.cancelled:
                raise QueryCancelled("query cancelled")
        finally:
            self._end(call)


def _group(child: str, classes: list[dict[str, Any]]) -> _Group:
    per: dict[str, tuple[int, int, int | None, int | None]] = {}
    for c in classes:
        sc = c["sc"] if c["sc"] is not None else UNKNOWN_CLASS
        per[sc] = _merge(per.get(sc), (int(c["n"]), int(c["b"]), c["mx"], c["mn"]))
    newest = [v[2] for v in per.values() if v[2] is not None]
    oldest = [v[3] for v in per.values() if v[3] is not None]
    return _Group(
        child=child,
        objects=sum(v[0] for v in per.values()),
        bytes=sum(v[1] for v in per.values()),
        newest=max(newest) if newest else None,
        oldest=min(oldest) if oldest else None,
        classes=per,
    )


def _merge(
    a: tuple[int, int, int | None, int | None] | None, b: tuple[int, int, int | None, int | None]
) -> tuple[int, int, int | None, int | None]:
    if a is None:
        return b
    mx = [v for v in (a[2], b[2]) if v is not None]
    mn = [v for v in (a[3], b[3]) if v is not None]
    return (a[0] + b[0], a[1] + b[1], max(mx) if mx else None, min(mn) if mn else None)


def _usage(prefix: str, classes: dict[str, tuple[int, int, int | None, int | None]]) -> Usage:
    shares = sorted(
        (ClassShare(storage_class=sc, objects=v[0], bytes=v[1]) for sc, v in classes.items()),
        key=lambda s: (-s.bytes, -s.objects, s.storage_class),
    )
    newest = [v[2] for v in classes.values() if v[2] is not None]
    oldest = [v[3] for v in classes.values() if v[3] is not None]
    return Usage(
        prefix=prefix,
        objects=sum(v[0] for v in classes.values()),
        bytes=sum(v[1] for v in classes.values()),
        oldest=_time(min(oldest)) if oldest else None,
        newest=_time(max(newest)) if newest else None,
        classes=shares,
    )
