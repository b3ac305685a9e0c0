"""The demo store's S3 Inventory: a generated report of a large synthetic bucket.

The report lists bucket ``ml-archive`` the way S3 Inventory writes a Parquet report (S3 User
Guide, "Cataloging and analyzing your data with S3 Inventory", "Locating your inventory
list"): data files under ``<prefix>/<source bucket>/<config id>/data/<uuid>.parquet``, and per
report ``<prefix>/<source bucket>/<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.json`` with
``manifest.checksum`` (the MD5 of manifest.json, hex) and ``hive/dt=.../symlink.txt``. The
bucket has the inventory configuration that would produce it (PutBucketInventoryConfiguration:
daily, Parquet, current versions, the optional fields Size, LastModifiedDate, ETag,
StorageClass, IsMultipartUploaded).

Two kinds of rows:

* **Synthetic** rows (10 million by default; ``PAIL_DEMO_INVENTORY_ROWS`` overrides) under
  prefixes that exist only in the report: ``datasets/`` (webdataset shards), ``features/``
  (Spark output), ``hf/`` (Trainer checkpoints), ``lightning_logs/``, ``mlflow/`` (runs with
  checkpoints, metrics, logs), ``raw/`` (camera frames, the bulk) and ``tmp/`` (forgotten
  spill files). Sizes by kind (checkpoints in GB, logs in KB), storage classes by age as
  lifecycle rules leave them, last-modified times over three years, more of them recently.
  They are generated once with numpy and pyarrow (column at a time, never a Python loop per
  row), written as zstd Parquet, keys sorted, about a million rows a file, and cached under
  ``platformdirs.user_cache_path("pail")/demo-inventory/<format tag>-<rows>``. A plan made
  from them finds them gone when it re-checks the bucket live, which is the truth.
* **Live** rows: a few dozen real objects (``eval/``, ``registry/``) seeded into
  ``ml-archive`` at every start, whose rows are written at that start into one more small data
  file, so their size, ETag and last-modified match the bucket; a plan re-checks them and
  finds them unchanged, except ``registry/resnet50/latest.json``, which is overwritten after
  the report was taken ("changed since the report").

ETags: an S3 ETag is an MD5 (``<md5>-<parts>`` after a multipart upload, the MD5 of nothing
for an empty object), 128 random bits a row that no compressor shrinks: about 18 of the ~24
bytes a row the files take (10 million rows: ~245 MB, generated in ~20 s on a loaded 2-core
machine). Keeping only 8 random bytes a row (the rest from a pool) saved just a quarter of
the size, so the ETags stay whole MD5s: the report weighs what a real one of its size
weighs, which is what downloading it should cost in the benchmark.

The synthetic ages count back from the day before the cache was written (``anchor``); the
report itself is dated at every start (an hour before it), so a cache used for months shows
its rows that much older.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: The environment variable that sets the synthetic rows' count (tests: a few thousand).
ROWS_ENV = "PAIL_DEMO_INVENTORY_ROWS"
#: Synthetic rows by default (the issue's "at least 10 million").
DEFAULT_ROWS = 10_000_000
#: Fewest synthetic rows accepted (every kind of key gets at least one folder).
MIN_ROWS = 1_000
#: Bumped whenever the generator's output changes: part of the cache folder's name.
FORMAT_TAG = "v2"
#: Rows per data file (S3 splits a report into files of its own choosing).
ROWS_PER_FILE = 1_000_000
#: Rows per Parquet row group: min/max statistics per group let a prefix query skip groups.
ROW_GROUP_ROWS = 128 * 1024
#: The random seed of the synthetic rows (same seed and rows: same report).
SEED = 20_261_128

SOURCE_BUCKET = "ml-archive"
REPORT_BUCKET = "inventory-reports"
#: The configuration's destination prefix.
REPORT_PREFIX = "s3-inventory"
CONFIG_ID = "daily-parquet"
#: The live object overwritten after the report was taken.
CHANGED_KEY = "registry/resnet50/latest.json"

#: The configuration's optional fields, as PutBucketInventoryConfiguration names them.
OPTIONAL_FIELDS = ("Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded")
#: The manifest's ``fileSchema`` of a Parquet report with those fields, spelled as S3 writes
#: it (its two spaces included).
FILE_SCHEMA = (
    "message s3.inventory {  required binary bucket (STRING);  required binary key (STRING);"
    "  optional int64 size;  optional int64 last_modified_date (TIMESTAMP(MILLIS,true));"
    "  optional binary e_tag (STRING);  optional binary storage_class (STRING);"
    "  optional boolean is_multipart_uploaded;}"
)

STORAGE_CLASSES = ("STANDARD", "INTELLIGENT_TIERING", "STANDARD_IA", "GLACIER_IR", "DEEP_ARCHIVE")
_STD, _IT, _IA, _GIR, _DA = range(5)

_DAY_MS = 86_400_000
_MiB = 1 << 20
_GB = 10**9
#: boto3 / aws cli upload in parts above 8 MiB (TransferConfig's multipart_threshold).
_MULTIPART_THRESHOLD = 8 * _MiB
_EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
#: Three years of history.
_SPAN_DAYS = 1095
#: Chunks of about this many rows are built, sorted and written at a time (two are alive
#: at once, ~150 MB each).
_CHUNK_ROWS = 250_000

Progress = Callable[[str], None]
_REPORT_FOLDER = re.compile(r"v\d+-\d+")


def _schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field("bucket", pa.string(), nullable=False),
            pa.field("key", pa.string(), nullable=False),
            pa.field("size", pa.int64()),
            pa.field("last_modified_date", pa.timestamp("ms", tz="UTC")),
            pa.field("e_tag", pa.string()),
            pa.field("storage_class", pa.string()),
            pa.field("is_multipart_uploaded", pa.bool_()),
        ]
    )


# -- the cache -------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """One data file of the report on local disk.

    Attributes:
        path: the file; its name is the data file's name in the report (``<uuid>.parquet``).
        size: bytes. md5: hex MD5 of the file (the manifest's ``MD5checksum``).
        rows: rows in the file.
    """

    path: Path
    size: int
    md5: str
    rows: int


@dataclass(frozen=True)
class CachedReport:
    """The synthetic part of the report, generated once and cached.

    Attributes:
        folder: the cache folder (``<root>/<FORMAT_TAG>-<rows>``).
        rows: synthetic rows in all files.
        anchor: UTC time the synthetic ages count back from (no row is newer).
        files: the data files, in key order (each file's keys follow the previous file's).
        seconds: how long generating took (wall clock), for the benchmark's note.
    """

    folder: Path
    rows: int
    anchor: datetime
    files: tuple[DataFile, ...]
    seconds: float = 0.0

    @property
    def total_bytes(self) -> int:
        """Bytes of all data files."""
        return sum(f.size for f in self.files)


def report_rows(environ: Mapping[str, str] | None = None) -> int:
    """The synthetic rows wanted: ``PAIL_DEMO_INVENTORY_ROWS`` (digits, ``_`` allowed; ``0``:
    no inventory in the demo) or :data:`DEFAULT_ROWS`.

    Raises:
        ValueError: the variable is set but is neither 0 nor a whole number of at least
            :data:`MIN_ROWS`.
    """
    env = os.environ if environ is None else environ
    text = env.get(ROWS_ENV, "").strip()
    if not text:
        return DEFAULT_ROWS
    try:
        rows = int(text)
    except ValueError:
        raise ValueError(f"{ROWS_ENV} must be a whole number of rows, not {text!r}") from None
    if rows != 0 and rows < MIN_ROWS:
        raise ValueError(f"{ROWS_ENV} must be 0 (none) or at least {MIN_ROWS:,} (got {rows:,})")
    return rows


def cache_root() -> Path:
    """``platformdirs.user_cache_path("pail") / "demo-inventory"``."""
    import platformdirs

    return platformdirs.user_cache_path("pail") / "demo-inventory"


def cached_report(
    rows: int | None = None,
    *,
    root: Path | None = None,
    progress: Progress | None = None,
) -> CachedReport:
    """The cached synthetic report of ``rows`` rows, generated first when it is missing or
    incomplete.

    Generation writes into a temporary sibling folder and renames it into place when every
    file and ``report.json`` (the list of files with sizes and MD5s) are written, so a
    folder under the final name is complete; it is checked against ``report.json`` (files
    present, sizes equal) before use. Two processes generating at once both finish; the
    second rename loses and its copy is removed.

    Args:
        rows: synthetic rows; ``None``: :func:`report_rows`.
        root: the cache root; default :func:`cache_root`.
        progress: called with one plain line now and then while generating.

    Raises:
        ValueError: a bad row count (see :func:`report_rows`).
        OSError: the cache folder cannot be written.
    """
    rows = report_rows() if rows is None else rows
    if rows < MIN_ROWS:
        raise ValueError(f"at least {MIN_ROWS:,} rows (got {rows:,})")
    root = cache_root() if root is None else root
    folder = root / f"{FORMAT_TAG}-{rows}"
    found = _read_cache(folder)
    if found is not None:
        return found
    if folder.exists():  # incomplete or damaged (files removed by hand): start again
        shutil.rmtree(folder)
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(root)
    work = root / f".{folder.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        anchor = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        made = generate_report(work, rows, anchor=anchor - timedelta(days=1), progress=progress)
        try:
            os.rename(work, folder)
        except OSError:  # another process put a complete copy there first
            found = _read_cache(folder)
            if found is None:
                raise
            return found
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return CachedReport(
        folder,
        made.rows,
        made.anchor,
        tuple(DataFile(folder / f.path.name, f.size, f.md5, f.rows) for f in made.files),
        made.seconds,
    )


def _remove_abandoned(root: Path, age: float = 3_600.0) -> None:
    """Remove what no start will use again: work folders of generations killed midway
    (older than ``age`` seconds; a younger one may belong to a process still writing it)
    and reports of an older :data:`FORMAT_TAG` (``v<N>-<rows>``)."""
    for entry in root.iterdir():
        name = entry.name
        try:
            if name.startswith(".") and ".tmp-" in name:
                if time.time() - entry.stat().st_mtime > age:
                    shutil.rmtree(entry, ignore_errors=True)
            elif _REPORT_FOLDER.fullmatch(name) and not name.startswith(f"{FORMAT_TAG}-"):
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def _read_cache(folder: Path) -> CachedReport | None:
    """The report in ``folder`` when ``report.json`` is there and every file it lists is
    there with its size; else ``None``."""
    try:
        meta = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        files = tuple(
            DataFile(folder / f["name"], int(f["size"]), str(f["md5"]), int(f["rows"]))
            for f in meta["files"]
        )
        if meta.get("format") != FORMAT_TAG:
            return None
        for f in files:
            if f.path.stat().st_size != f.size:
                return None
        return CachedReport(
            folder,
            int(meta["rows"]),
            datetime.fromisoformat(meta["anchor"]),
            files,
            float(meta.get("seconds", 0.0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- the demo store's part -------------------------------------------------------------


@dataclass(frozen=True)
class InventoryDemo:
    """What :func:`seed_inventory` put into the demo store.

    Attributes:
        source_bucket: the bucket the report lists (``ml-archive``).
        report_bucket: the destination bucket (``inventory-reports``).
        config_id: the inventory configuration's id.
        manifest_key: the report's ``manifest.json`` key in ``report_bucket``.
        created: the report's ``creationTimestamp`` (UTC, whole minutes).
        rows: rows in the report (synthetic and live).
        data_keys: the data files' keys in ``report_bucket`` (the live rows' file last).
        live_keys: the live objects of ``source_bucket`` the report lists.
        changed_key: the live object overwritten after the report was taken.
    """

    source_bucket: str
    report_bucket: str
    config_id: str
    manifest_key: str
    created: datetime
    rows: int
    data_keys: tuple[str, ...]
    live_keys: tuple[str, ...]
    changed_key: str

    @property
    def manifest_uri(self) -> str:
        """``s3://inventory-reports/.../manifest.json``."""
        return f"s3://{self.report_bucket}/{self.manifest_key}"


def seed_inventory(
    backend: Any,
    endpoint: str,
    now: datetime,
    report: CachedReport,
    *,
    region: str = "us-east-1",
    seed: int = SEED,
) -> InventoryDemo:
    """Put the report, its manifest and the live sample into the demo store.

    Creates ``ml-archive`` (the live objects) and ``inventory-reports`` (the report: the
    cached data files, one data file of the live objects' rows written now, manifest.json,
    manifest.checksum, hive/dt=.../symlink.txt), puts the inventory configuration on
    ``ml-archive`` over HTTP (PutBucketInventoryConfiguration, so moto's server parses it as
    it would a client's), then overwrites :data:`CHANGED_KEY` (after the report).

    Args:
        backend: moto's in-process ``S3Backend`` (objects go in without HTTP).
        endpoint: the demo server's URL, with auth still off.
        now: timezone-aware UTC; the report is dated the whole hour before it.
        report: the cached synthetic rows (:func:`cached_report`).
        region: the buckets' region.
        seed: seeds the live objects' contents.

    Raises:
        OSError: a cached data file cannot be read.
        botocore.exceptions.ClientError: the server refused the configuration.
    """
    import random

    rng = random.Random(seed)
    created = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    stamp = created.strftime("%Y-%m-%dT%H-%MZ")
    base = f"{REPORT_PREFIX}/{SOURCE_BUCKET}/{CONFIG_ID}"
    for bucket, days in ((SOURCE_BUCKET, _SPAN_DAYS + 30), (REPORT_BUCKET, 400)):
        backend.create_bucket(bucket, region)
        backend.buckets[bucket].creation_date = (now - timedelta(days=days)).replace(tzinfo=None)

    live = _live_objects(rng, now)
    rows = []
    for key, body, when, storage in live:
        fake = backend.put_object(SOURCE_BUCKET, key, body, storage=storage,
                                  disable_notification=True)  # fmt: skip
        fake.last_modified = when.replace(tzinfo=None)  # moto keeps naive UTC
        rows.append((key, len(body), int(when.timestamp()) * 1000, fake.etag.strip('"'),
                     storage or "STANDARD"))  # fmt: skip
    live_file = _live_file(sorted(rows))

    delivered = (created + timedelta(minutes=40)).replace(tzinfo=None)
    files: list[dict[str, Any]] = []
    for f in report.files:
        key = f"{base}/data/{f.path.name}"
        fake = backend.put_object(REPORT_BUCKET, key, f.path.read_bytes(), etag=f.md5,
                                  disable_notification=True)  # fmt: skip
        fake.last_modified = delivered
        files.append({"key": key, "size": f.size, "MD5checksum": f.md5})
    key = f"{base}/data/{uuid.UUID(int=rng.getrandbits(128), version=4)}.parquet"
    fake = backend.put_object(REPORT_BUCKET, key, live_file, disable_notification=True)
    fake.last_modified = delivered
    files.append({"key": key, "size": len(live_file), "MD5checksum": fake.etag.strip('"')})

    manifest = manifest_json(created, files)
    checksum = hashlib.md5(manifest, usedforsecurity=False).hexdigest()
    symlink = "".join(f"s3://{REPORT_BUCKET}/{f['key']}\n" for f in files).encode()
    for name, body in (
        (f"{stamp}/manifest.json", manifest),
        (f"{stamp}/manifest.checksum", f"{checksum}\n".encode()),  # 33 bytes, as S3 writes
        (f"hive/dt={created.strftime('%Y-%m-%d-%H-%M')}/symlink.txt", symlink),
    ):
        fake = backend.put_object(REPORT_BUCKET, f"{base}/{name}", body,
                                  disable_notification=True)  # fmt: skip
        fake.last_modified = delivered + timedelta(minutes=1)
    _put_configuration(endpoint, region)

    # After the report: a new release moved the pointer (the plan must leave it alone).
    pointer = json.dumps({"version": 5, "uri": f"s3://{SOURCE_BUCKET}/registry/resnet50/v5/"})
    backend.put_object(SOURCE_BUCKET, CHANGED_KEY, pointer.encode(), disable_notification=True)
    return InventoryDemo(
        source_bucket=SOURCE_BUCKET,
        report_bucket=REPORT_BUCKET,
        config_id=CONFIG_ID,
        manifest_key=f"{base}/{stamp}/manifest.json",
        created=created,
        rows=report.rows + len(rows),
        data_keys=tuple(f["key"] for f in files),
        live_keys=tuple(r[0] for r in sorted(rows)),
        changed_key=CHANGED_KEY,
    )


def manifest_json(created: datetime, files: list[dict[str, Any]]) -> bytes:
    """A Parquet report's ``manifest.json`` as S3 writes it (S3 User Guide, "Locating your
    inventory list": sourceBucket, destinationBucket as an ARN, version ``2016-11-30``,
    creationTimestamp in ms as a string, fileFormat, fileSchema, files with key, size and
    MD5checksum), in S3's own layout (``"key" : value``, two-space indent).

    Args:
        created: the report's time (UTC).
        files: ``{"key", "size", "MD5checksum"}`` per data file.
    """
    manifest = {
        "sourceBucket": SOURCE_BUCKET,
        "destinationBucket": f"arn:aws:s3:::{REPORT_BUCKET}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)),
        "fileFormat": "Parquet",
        "fileSchema": FILE_SCHEMA,
        "files": files,
    }
    return json.dumps(manifest, indent=2, separators=(",", " : ")).encode()


def inventory_configuration() -> dict[str, Any]:
    """The ``InventoryConfiguration`` of ``ml-archive`` (boto3's shape): daily, Parquet,
    current versions, to ``arn:aws:s3:::inventory-reports`` under :data:`REPORT_PREFIX`."""
    return {
        "Id": CONFIG_ID,
        "IsEnabled": True,
        "Destination": {
            "S3BucketDestination": {
                "Bucket": f"arn:aws:s3:::{REPORT_BUCKET}",
                "Format": "Parquet",
                "Prefix": REPORT_PREFIX,
            }
        },
        "IncludedObjectVersions": "Current",
        "OptionalFields": list(OPTIONAL_FIELDS),
        "Schedule": {"Frequency": "Daily"},
    }


def _put_configuration(endpoint: str, region: str) -> None:
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",  # auth is still off while the demo seeds
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    )
    s3.put_bucket_inventory_configuration(
        Bucket=SOURCE_BUCKET, Id=CONFIG_ID, InventoryConfiguration=inventory_configuration()
    )


def _live_objects(rng: Any, now: datetime) -> list[tuple[str, bytes, datetime, str | None]]:
    """The live sample: (key, body, last modified, storage class or None) of a small model
    registry and evaluation results, days to a year old (whole seconds)."""
    out: list[tuple[str, bytes, datetime, str | None]] = []

    def when(days: float) -> datetime:
        return (now - timedelta(days=days, seconds=rng.randint(0, 80_000))).replace(microsecond=0)

    for model, versions in (("resnet50", 4), ("vit-small", 3)):
        for v in range(1, versions + 1):
            days = 40 + (versions - v) * 110
            storage = "STANDARD_IA" if days > 180 else None
            folder = f"registry/{model}/v{v}/"
            out.append((folder + "model.safetensors", rng.randbytes(rng.randint(40_000, 90_000)),
                        when(days), storage))  # fmt: skip
            card = f"# {model} v{v}\n\ntop-1: {rng.uniform(0.70, 0.82):.4f}\n"
            out.append((folder + "model-card.md", card.encode(), when(days), storage))
        pointer = {
            "version": versions,
            "uri": f"s3://{SOURCE_BUCKET}/registry/{model}/v{versions}/",
        }
        out.append((f"registry/{model}/latest.json", json.dumps(pointer).encode(), when(40), None))
    for i in range(12):
        days = 20 + i * 27
        day = (now - timedelta(days=days)).strftime("%Y-%m-%d")
        result = {"suite": "imagenet-val", "top1": round(rng.uniform(0.7, 0.8), 4)}
        out.append((f"eval/imagenet-val/{day}/results.json", json.dumps(result).encode(),
                    when(days), None))  # fmt: skip
        rows = "".join(f"{c},{rng.random():.4f}\n" for c in range(100))
        out.append((f"eval/imagenet-val/{day}/per_class.csv", f"class,acc\n{rows}".encode(),
                    when(days), None))  # fmt: skip
    return out


def _live_file(rows: list[tuple[str, int, int, str, str]]) -> bytes:
    """One Parquet data file of the live objects' rows (same schema and writer options)."""
    keys, sizes, times, etags, classes = (list(c) for c in zip(*rows, strict=True))
    table = pa.table(
        [
            pa.repeat(SOURCE_BUCKET, len(rows)).cast(pa.string()),
            pa.array(keys, pa.string()),
            pa.array(sizes, pa.int64()),
            pa.array(times, pa.timestamp("ms", tz="UTC")),
            pa.array(etags, pa.string()),
            pa.array(classes, pa.string()),
            pa.array([s > _MULTIPART_THRESHOLD for s in sizes]),
        ],
        schema=_schema(),
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


# -- generation --------------------------------------------------------------------------


def generate_report(
    folder: Path,
    rows: int,
    *,
    anchor: datetime,
    seed: int = SEED,
    rows_per_file: int = ROWS_PER_FILE,
    progress: Progress | None = None,
) -> CachedReport:
    """Write ``rows`` synthetic rows of bucket ``ml-archive`` as S3 Inventory Parquet data
    files (zstd, keys sorted across files) and ``report.json`` into ``folder``.

    Rows are built a chunk (up to a million rows) at a time, each kind of key in its turn
    (:data:`_KINDS`, in key order), so memory stays bounded whatever ``rows`` is.

    Args:
        folder: created; should be new or empty.
        rows: synthetic rows (at least :data:`MIN_ROWS`).
        anchor: UTC; no last-modified time is later, ages count back from it.
        seed: the random seed.
        rows_per_file: rows per data file.
        progress: called with a plain line per file written.

    Returns:
        the report (``folder`` and its files).

    Raises:
        ValueError: fewer rows than :data:`MIN_ROWS`.
        OSError: writing failed.
    """
    if rows < MIN_ROWS:
        raise ValueError(f"at least {MIN_ROWS:,} rows (got {rows:,})")
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    anchor_ms = int(anchor.timestamp() * 1000)
    budget = _budget(rows)
    writer = _Writer(folder, rows_per_file, progress, rows)
    # One thread writes (Parquet encoding and zstd release the GIL) while the next chunk
    # is built: about a third less time on two cores.
    with ThreadPoolExecutor(1, thread_name_prefix="demo-inventory") as pool:
        pending: Future[None] | None = None
        for number, (name, build) in enumerate(_KINDS):
            rng = np.random.default_rng([seed, number])
            for chunk in build(budget[name], rng, anchor_ms):
                table = _finish(chunk, rng)
                if pending is not None:
                    pending.result()
                pending = pool.submit(writer.write, table)
        if pending is not None:
            pending.result()
    files = writer.close()
    seconds = time.monotonic() - started
    meta = {
        "format": FORMAT_TAG,
        "rows": rows,
        "anchor": anchor.isoformat(),
        "seconds": round(seconds, 3),
        "files": [
            {"name": f.path.name, "size": f.size, "md5": f.md5, "rows": f.rows} for f in files
        ],
    }
    (folder / "report.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return CachedReport(folder, rows, anchor, tuple(files), seconds)


class _Writer:
    """Appends sorted chunks to data files of ``rows_per_file`` rows each."""

    def __init__(
        self, folder: Path, rows_per_file: int, progress: Progress | None, total: int
    ) -> None:
        self.folder, self.rows_per_file, self.progress = folder, rows_per_file, progress
        self.total = total
        self.files: list[DataFile] = []
        self._writer: Any = None
        self._path: Path | None = None
        self._rows = 0
        self._written = 0
        self._last_key: str | None = None

    def write(self, table: pa.Table) -> None:
        if len(table) and self._last_key is not None:
            # Chunks come in key order; a generator bug would break the report's order.
            assert table.column("key")[0].as_py() > self._last_key, "chunks out of key order"
        if len(table):
            self._last_key = table.column("key")[-1].as_py()
        while len(table):
            if self._writer is None:
                self._open()
            room = self.rows_per_file - self._rows
            part, table = table.slice(0, room), table.slice(room)
            self._writer.write_table(part, row_group_size=ROW_GROUP_ROWS)
            self._rows += len(part)
            if self._rows >= self.rows_per_file:
                self._close_file()

    def _open(self) -> None:
        self._path = self.folder / f"{uuid.uuid4()}.parquet"
        self._writer = pq.ParquetWriter(
            self._path,
            _schema(),
            compression="zstd",
            use_dictionary=["bucket", "storage_class"],  # keys and ETags are unique
            write_statistics=True,
        )
        self._rows = 0

    def _close_file(self) -> None:
        assert self._path is not None
        self._writer.close()
        self._writer = None
        self.files.append(
            DataFile(self._path, self._path.stat().st_size, _md5_file(self._path), self._rows)
        )
        self._written += self._rows
        if self.progress:
            self.progress(
                f"demo inventory: {self._written:,} of {self.total:,} rows written"
                f" ({len(self.files)} files)"
            )

    def close(self) -> list[DataFile]:
        if self._writer is not None:
            self._close_file()
        return self.files


def _md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Chunk:
    """Rows of one kind before the ETag and the sort: ``keys`` (pyarrow strings), sizes in
    bytes, last-modified in ms since the epoch (UTC), storage class indices."""

    keys: Any
    sizes: np.ndarray
    times: np.ndarray
    classes: np.ndarray
    sorted: bool = False  # keys already in order


def _finish(chunk: _Chunk, rng: np.random.Generator) -> pa.Table:
    """The chunk as a report table: ETags (``<md5>-<parts>`` above the multipart threshold,
    the empty MD5 for empty objects), sorted by key."""
    n = len(chunk.sizes)
    sizes = np.maximum(chunk.sizes.astype(np.int64), 0)
    etag = _hex(rng, n, 16)
    multipart = sizes > _MULTIPART_THRESHOLD
    # boto3 keeps 8 MiB parts until an upload would need more than 10,000 of them.
    part = np.maximum(_MULTIPART_THRESHOLD, -(-sizes // 10_000))
    parts = -(-sizes // part)
    etag = pc.if_else(
        pa.array(multipart),
        pc.binary_join_element_wise(etag, pc.cast(pa.array(parts), pa.string()), "-"),
        etag,
    )
    etag = pc.if_else(pa.array(sizes == 0), pa.scalar(_EMPTY_MD5), etag)
    table = pa.table(
        [
            pa.repeat(SOURCE_BUCKET, n),
            chunk.keys,
            pa.array(sizes, pa.int64()),
            pa.array(chunk.times.astype(np.int64), pa.timestamp("ms", tz="UTC")),
            etag,
            pa.array(STORAGE_CLASSES).take(pa.array(chunk.classes)),
            pa.array(multipart),
        ],
        schema=_schema(),
    )
    if chunk.sorted:
        return table
    return table.take(pc.sort_indices(table, sort_keys=[("key", "ascending")]))


# -- helpers (vectorised) --------------------------------------------------------------


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> pa.Array:
    """``n`` random lower-case hex strings of ``2 * nbytes`` digits."""
    if nbytes <= 0:
        return pa.repeat("", n).cast(pa.string())
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    byte = np.arange(256)
    pairs = np.stack([digits[byte >> 4], digits[byte & 15]], axis=1)  # (256, 2) ASCII
    chars = np.ascontiguousarray(pairs[np.frombuffer(rng.bytes(n * nbytes), np.uint8)])
    width = 2 * nbytes
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(chars)])
    return fixed.cast(pa.string())


def _text(values: np.ndarray, width: int = 0) -> pa.Array:
    """Whole numbers as decimal strings, zero-padded to ``width``."""
    out = pc.cast(pa.array(values), pa.string())
    return pc.utf8_lpad(out, width=width, padding="0") if width else out


def _pick(names: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    """``names[index[i]]`` for each i."""
    return pa.array(list(names), pa.string()).take(pa.array(index))


def _join(*parts: Any) -> pa.Array:
    """Element-wise concatenation of string arrays and ``str`` constants."""
    return pc.binary_join_element_wise(*parts, "")


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split into whole counts in proportion to ``weights`` (sums to ``total``)."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    left = total - int(counts.sum())
    if left:
        counts[np.argsort(counts - share)[:left]] += 1
    return counts


def _spread(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For units holding ``counts`` rows each: each row's unit and its index within it."""
    unit = np.repeat(np.arange(len(counts)), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return unit, np.arange(int(counts.sum())) - starts[unit]


def _batches(counts: np.ndarray, limit: int | None = None) -> Iterator[slice]:
    """Consecutive unit ranges of about ``limit`` rows (:data:`_CHUNK_ROWS`) each (a unit is
    never split)."""
    limit = limit or _CHUNK_ROWS
    ends = np.cumsum(counts)
    start = 0
    while start < len(counts):
        base = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, base + limit, side="right"))
        stop = max(stop, start + 1)
        yield slice(start, stop)
        start = stop


def _recent_ages(rng: np.random.Generator, n: int, span: float = _SPAN_DAYS) -> np.ndarray:
    """Ages in days within ``span``, more of them recent (activity growing linearly)."""
    return span * (1.0 - np.sqrt(rng.random(n)))


def _dates(anchor_ms: int, ages: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """``YYYY-MM-DD`` of each whole age in days, and that day's midnight in ms."""
    days = np.asarray(ages, np.int64)
    anchor_day = anchor_ms // _DAY_MS
    uniq, inverse = np.unique(days, return_inverse=True)
    names = [
        datetime.fromtimestamp((anchor_day - int(d)) * 86_400, tz=timezone.utc).strftime("%Y-%m-%d")
        for d in uniq
    ]
    return _pick(names, inverse), (anchor_day - days) * _DAY_MS


def _lognormal(rng: np.random.Generator, median: Any, sigma: float, n: int) -> np.ndarray:
    return np.rint(rng.lognormal(np.log(median), sigma, n)).astype(np.int64)


def _by_age(
    ages: np.ndarray, rng: np.random.Generator, steps: tuple[tuple[float, int], ...], keep: float
) -> np.ndarray:
    """Storage classes as a lifecycle rule leaves them: the class of the last step whose age
    (days) the object has reached, STANDARD before the first; a share ``keep`` of objects the
    rule does not match stays STANDARD."""
    out = np.full(len(ages), _STD, np.uint8)
    for days, cls in steps:
        out[ages >= days] = cls
    out[rng.random(len(ages)) < keep] = _STD
    return out


def _times(anchor_ms: int, ages: np.ndarray, offset_ms: Any = 0) -> np.ndarray:
    """ms since the epoch of objects ``ages`` days old plus ``offset_ms``, never after the
    anchor."""
    ms = anchor_ms - np.asarray(ages * _DAY_MS, np.int64) + np.asarray(offset_ms, np.int64)
    return np.minimum(ms, anchor_ms)


# -- the kinds of keys, in key order ----------------------------------------------------

_Builder = Callable[[int, np.random.Generator, int], Iterator[_Chunk]]

#: share of the synthetic rows per kind; ``raw`` takes what is left.
_SHARES = {
    "datasets": 0.08,
    "features": 0.10,
    "hf": 0.05,
    "lightning_logs": 0.02,
    "mlflow": 0.15,
    "tmp": 0.04,
}


def _budget(rows: int) -> dict[str, int]:
    budget = {name: max(20, int(rows * share)) for name, share in _SHARES.items()}
    budget["raw"] = rows - sum(budget.values())
    return budget


# (name, share of the shards, age in days, median shard size, storage class)
_DATASETS = (
    ("coco-2017", 0.02, 1050, 180 * _MiB, _IA),
    ("fineweb-edu", 0.12, 70, 512 * _MiB, _STD),
    ("imagenet-21k", 0.12, 980, 256 * _MiB, _GIR),
    ("laion-aesthetics-v2", 0.30, 900, 400 * _MiB, _DA),
    ("librispeech-960h", 0.03, 620, 300 * _MiB, _IA),
    ("openwebtext2", 0.06, 700, 128 * _MiB, _GIR),
    ("redpajama-v2-sample", 0.20, 400, 512 * _MiB, _IT),
    ("the-stack-v2-dedup", 0.15, 240, 256 * _MiB, _IT),
)
_DATASET_FILES = ("README.md", "dataset_info.json", "index.json")


def _datasets(n: int, rng: np.random.Generator, anchor_ms: int) -> Iterator[_Chunk]:
    """``datasets/<name>/shards/shard-NNNNNN.tar`` (webdataset shards, uploaded over a few
    hours) and each dataset's README.md, dataset_info.json, index.json."""
    shards = _allocate(n - len(_DATASETS) * len(_DATASET_FILES),
                       np.array([d[1] for d in _DATASETS]))  # fmt: skip
    for (name, _share, age, median, cls), count in zip(_DATASETS, shards, strict=True):
        j = np.arange(count)
        upload = 6 * 3_600_000 * (j + rng.random(count)) / max(count, 1)  # over six hours
        meta = np.array([4_000 + int(rng.integers(4_000)), 2_000, 80 * (count + 1)])
        yield _Chunk(  # one dataset a chunk (datasets in name order)
            pa.concat_arrays([
                _join(f"datasets/{name}/shards/shard-", _text(j, 6), ".tar"),
                pa.array([f"datasets/{name}/{f}" for f in _DATASET_FILES]),
            ]),
            np.concatenate([_lognormal(rng, median, 0.08, count), meta]),
            np.concatenate([_times(anchor_ms, np.full(count, age), upload),
                            _times(anchor_ms, np.full(3, age), 6 * 3_600_000 + 60_000)]),
            np.concatenate([np.full(count, cls, np.uint8), np.full(3, _STD, np.uint8)]),
        )  # fmt: skip


_FEATURE_TABLES = (  # (name, days of daily partitions)
    ("clickstream_sessions", 730),
    ("doc_quality_scores", 540),
    ("image_captions", 400),
    ("user_embeddings", 300),
)


def _features(n: int, rng: np.random.Generator, anchor_ms: int) -> Iterator[_Chunk]:
    """Spark output: ``features/<table>/dt=YYYY-MM-DD/part-NNNNN-<job uuid>-c000.zstd.parquet``
    and ``_SUCCESS`` (empty) per daily partition; more parts per day as data grows."""
    units_table, units_age = [], []
    for t, (_name, days) in enumerate(_FEATURE_TABLES):
        units_table.append(np.full(days, t))
        units_age.append(np.arange(days - 1, -1, -1))  # oldest partition first (key order)
    table_of = np.concatenate(units_table)
    age_of = np.concatenate(units_age).astype(np.int64)
    units = len(table_of)
    if n < 2 * units:  # small reports: fewer days per table
        keep = np.sort(rng.choice(units, size=max(1, n // 4), replace=False))
        table_of, age_of, units = table_of[keep], age_of[keep], len(keep)
    parts = _allocate(n - units, 1.0 + 3.0 * (1.0 - age_of / _SPAN_DAYS))
    job = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(units)]
    names = [t[0] for t in _FEATURE_TABLES]
    for batch in _batches(parts + 1):
        counts = parts[batch] + 1
        unit, j = _spread(counts)
        unit += batch.start
        success = j == parts[unit]  # the partition's last row: _SUCCESS
        date, midnight = _dates(anchor_ms, age_of[unit])
        folder = _join("features/", _pick(names, table_of[unit]), "/dt=", date, "/")
        part = _join(folder, "part-", _text(j, 5), "-", _pick(job, unit), "-c000.zstd.parquet")
        keys = pc.if_else(pa.array(success), _join(folder, "_SUCCESS"), part)
        sizes = np.where(success, 0, _lognormal(rng, 48 * _MiB, 0.6, len(j)))
        offset = (2 * 3_600 + j * 4 + rng.integers(0, 4, len(j))) * 1000  # 02:00 UTC job
        times = np.minimum(midnight + offset, anchor_ms)
        ages = age_of[unit].astype(float)
        classes = _by_age(ages, rng, ((60, _IT),), keep=0.0)
        yield _Chunk(keys, sizes, times, classes)


# (model, weights in bytes, weight shards)
_HF_MODELS = (
    ("distilbert-sst2", 268 * 10**6, 1),
    ("llama3-8b-sft", 16_060 * 10**6, 4),
    ("mistral-7b-dpo", 14_480 * 10**6, 3),
    ("qwen2.5-1.5b-instruct", 3_090 * 10**6, 1),
    ("t5-base-summarize", 892 * 10**6, 1),
    ("whisper-small-ft", 967 * 10**6, 1),
)


def _hf_files(shards: int) -> list[tuple[str, str]]:
    """A Trainer checkpoint's files (name, what it is), sorted by name."""
    if shards == 1:
        weights = [("model.safetensors", "weights")]
    else:
        weights = [
            (f"model-{i:05d}-of-{shards:05d}.safetensors", "shard") for i in range(1, shards + 1)
        ] + [("model.safetensors.index.json", "small")]
    files = [
        ("config.json", "small"),
        ("generation_config.json", "small"),
        *weights,
        ("optimizer.pt", "optimizer"),
        ("rng_state.pth", "small"),
        ("scheduler.pt", "small"),
        ("trainer_state.json", "state"),
        ("training_args.bin", "small"),
    ]
    return sorted(files)


def _runs(rng: np.random.Generator, checkpoints: int, low: int, high: int) -> np.ndarray:
    """Checkpoints per run (``low`` to ``high`` each) adding up to ``checkpoints``."""
    sizes = rng.integers(low, high + 1, checkpoints // low + 1)
    ends = np.cumsum(sizes)
    last = int(np.searchsorted(ends, checkpoints))
    sizes = sizes[: last + 1]
    sizes[-1] -= int(ends[last]) - checkpoints
    return sizes


def _hf(n: int, rng: np.random.Generator, anchor_ms: int) -> Iterator[_Chunk]:
    """Hugging Face Trainer output: ``hf/<model>-runNNN/checkpoint-<step>/`` with the
    weights (sharded above 5 GB), optimizer state (twice the weights), scheduler, RNG state
    and trainer state; a run saves every 500 steps, 10 to 30 times. A model's newest
    checkpoint may be partly written."""
    budgets = _allocate(n, np.array([3.0, 1.0, 1.0, 2.0, 1.5, 1.5]))
    for (model, weights, shards), rows in zip(_HF_MODELS, budgets, strict=True):
        if rows <= 0:
            continue
        names, kinds = zip(*_hf_files(shards), strict=True)
        per = len(names)
        checkpoints = -(-int(rows) // per)
        run_of, k = _spread(_runs(rng, checkpoints, 10, 30))
        runs = int(run_of[-1]) + 1
        run_age = _recent_ages(rng, runs)
        hours = rng.uniform(0.5, 6.0, runs)  # between saves
        c, f = _spread(np.minimum(per, int(rows) - np.arange(checkpoints) * per))
        run, kind = run_of[c], np.array(kinds)[f]
        folder = _join(f"hf/{model}-run", _text(run, 3), "/checkpoint-", _text((k[c] + 1) * 500))
        keys = _join(folder, "/", _pick(names, f))
        m = len(f)
        size = np.select(
            [kind == "weights", kind == "shard", kind == "optimizer", kind == "state"],
            [weights, weights // shards, 2 * weights, 4_000 + 1_800 * k[c]],
            default=_lognormal(rng, 6_000, 0.8, m),
        ) + rng.integers(0, 4096, m)  # fmt: skip
        ages = np.maximum(run_age[run] - (k[c] + 1) * hours[run] / 24, 0.0)
        big = size > 100 * _MiB
        classes = np.where(big, _by_age(ages, rng, ((90, _IT), (365, _GIR)), keep=0.1), _STD)
        times = _times(anchor_ms, ages, f * 2_000)  # a checkpoint's files seconds apart
        yield _Chunk(keys, size, times, classes.astype(np.uint8))


def _lightning(n: int, rng: np.random.Generator, anchor_ms: int) -> Iterator[_Chunk]:
    """``lightning_logs/version_N/``: config.yaml, hparams.yaml, metrics.csv, the
    TensorBoard events file and ``checkpoints/`` (the best three epochs by val_loss and
    last.ckpt); versions numbered in time order. The newest version may be partly written.
    One chunk: ``version_10`` sorts before ``version_9``."""
    files = 8  # by f: last.ckpt, config, hparams, 3 best, events, metrics.csv
    versions = -(-n // files)
    v, f = _spread(np.minimum(files, n - np.arange(versions) * files))
    ages_v = np.sort(_recent_ages(rng, versions))[::-1]  # version_0 the oldest
    epochs = rng.integers(6, 40, versions)
    per_epoch = rng.choice([100, 250, 391, 500, 782, 1563], versions)
    # three different epochs near the end (val_loss bottoms out late)
    gaps = np.cumsum(rng.integers(1, 3, (versions, 3)), axis=1) - 1  # 0..5, increasing
    best = (epochs[:, None] - 1 - gaps)[:, ::-1]
    hosts = [f"gpu-node-{i:02d}" for i in range(16)]
    start_s = anchor_ms // 1000 - (ages_v * 86_400).astype(np.int64)
    pid = rng.integers(1_000, 99_999, versions)
    base = _join("lightning_logs/version_", _text(v), "/")
    epoch = best[v, np.clip(f - 3, 0, 2)]
    step = (epoch + 1) * per_epoch[v]
    rel = {
        0: pa.repeat("checkpoints/last.ckpt", len(f)),
        1: pa.repeat("config.yaml", len(f)),
        2: pa.repeat("hparams.yaml", len(f)),
        3: _join("checkpoints/epoch=", _text(epoch), "-step=", _text(step), ".ckpt"),
        6: _join("events.out.tfevents.", _text(start_s[v]), ".",
                 _pick(hosts, rng.integers(0, 16, versions)[v]), ".", _text(pid[v]), ".0"),
        7: pa.repeat("metrics.csv", len(f)),
    }  # fmt: skip
    which = np.select([f <= 2, f <= 5, f == 6], [f, 3, 6], default=7)
    name = rel[7]
    for i in (0, 1, 2, 3, 6):
        name = pc.if_else(pa.array(which == i), rel[i].cast(pa.string()), name)
    model = _lognormal(rng, 180 * _MiB, 1.1, versions)
    size = np.select(
        [which == 0, which == 3, which == 6, which == 7],
        [model[v] * 3, model[v] * 3, 20_000 + epochs[v] * 9_000,
         2_000 + epochs[v] * per_epoch[v] * 3],
        default=600 + rng.integers(0, 2_000, len(f)),
    )  # fmt: skip
    run_days = epochs[v] * per_epoch[v] * 0.35 / 86_400  # 0.35 s a step
    done = np.where(which == 3, (epoch + 1) / epochs[v], np.where(which <= 2, 0.0, 1.0))
    done[which == 0] = 1.0
    ages = np.maximum(ages_v[v] - run_days * done, 0.0)
    big = size > 100 * _MiB
    classes = np.where(big, _by_age(ages, rng, ((180, _IT), (540, _GIR)), keep=0.2), _STD)
    yield _Chunk(_join(base, name), size, _times(anchor_ms, ages), classes.astype(np.uint8))


_MLFLOW_PARAMS = ("batch_size", "epochs", "learning_rate", "model", "optimizer", "seed",
                  "warmup_steps", "weight_decay")  # fmt: skip
_MLFLOW_METRICS = ("accuracy", "loss", "lr", "val_accuracy", "val_loss")
_MLFLOW_TAGS = ("mlflow.runName", "mlflow.source.git.commit", "mlflow.source.name", "mlflow.user")
_MLFLOW_CHECKPOINTS = 8


def _mlflow_files() -> list[tuple[str, str]]:
    """A run's files under ``<run id>/`` (name, what it is); checkpoints are named by step."""
    files = [("meta.yaml", "tiny")]
    files += [(f"params/{p}", "tiny") for p in _MLFLOW_PARAMS]
    files += [(f"metrics/{m}", "metric") for m in _MLFLOW_METRICS]
    files += [(f"tags/{t}", "tiny") for t in _MLFLOW_TAGS]
    files += [("artifacts/checkpoints/", "checkpoint")] * _MLFLOW_CHECKPOINTS
    files += [("artifacts/logs/stderr.log", "log"), ("artifacts/logs/stdout.log", "log"),
              ("artifacts/logs/system_metrics.json", "log"),
              ("artifacts/metrics/history.parquet", "log"),
              ("artifacts/metrics/summary.json", "tiny"),
              ("artifacts/model/MLmodel", "tiny"), ("artifacts/model/conda.yaml", "tiny"),
              ("artifacts/model/model.safetensors", "model"),
              ("artifacts/model/requirements.txt", "tiny")]  # fmt: skip
    return files


def _mlflow(n: int, rng: np.random.Generator, anchor_ms: int) -> Iterator[_Chunk]:
    """``mlflow/<experiment id>/<32-hex run id>/``: MLflow's file-store metadata (meta.yaml,
    params, metrics, tags) and ``artifacts/`` (checkpoints/step-N.ckpt, logs, metrics,
    model). The newest run may be partly written (still running). Runs are in key order
    (experiments as strings, run ids sorted), so chunks of whole runs follow each other."""
    names, kinds = zip(*_mlflow_files(), strict=True)
    per = len(names)
    runs = -(-n // per)
    rows = np.minimum(per, n - np.arange(runs) * per)
    experiments = sorted(str(i) for i in range(1, 17))
    exp_of = np.sort(rng.integers(0, len(experiments), runs))
    ids = _hex(rng, runs, 16)
    ids = ids.take(pc.sort_indices(ids))
    run_age = _recent_ages(rng, runs)
    hours = rng.uniform(0.5, 48.0, runs)
    every = rng.choice([250, 500, 1000, 2000], runs)
    model = _lognormal(rng, 1.5 * _GB, 1.0, runs)
    kind_of = np.array(kinds)
    checkpoint_no = np.cumsum(kind_of == "checkpoint")  # 1..8 on the checkpoint rows
    for batch in _batches(rows):
        unit, f = _spread(rows[batch])
        unit += batch.start
        kind = kind_of[f]
        is_ckpt = kind == "checkpoint"
        steps = _join("artifacts/checkpoints/step-", _text(checkpoint_no[f] * every[unit]),
                      ".ckpt")  # fmt: skip
        rel = pc.if_else(pa.array(is_ckpt), steps, _pick(names, f))
        keys = _join("mlflow/", _pick(experiments, exp_of[unit]), "/",
                     ids.take(pa.array(unit)), "/", rel)  # fmt: skip
        m = len(f)
        size = np.select(
            [is_ckpt, kind == "model", kind == "metric", kind == "log"],
            [model[unit], model[unit] // 3, _lognormal(rng, 40_000, 1.0, m),
             _lognormal(rng, 300_000, 1.3, m)],
            default=_lognormal(rng, 120, 1.0, m),
        )  # fmt: skip
        done = np.where(is_ckpt, checkpoint_no[f] / _MLFLOW_CHECKPOINTS, 1.0)
        done[(kind == "tiny") & (f < 18)] = 0.0  # meta.yaml, params, tags: at the start
        ages = np.maximum(run_age[unit] - hours[unit] * done / 24, 0.0)
        big = size > 100 * _MiB
        classes = np.where(big, _by_age(ages, rng, ((90, _IT), (365, _GIR)), keep=0.15), _STD)
        yield _Chunk(keys, size, _times(anchor_ms, ages), classes.astype(np.uint8))


_DEVICES = tuple(f"rig-{r:02d}-cam-{c}" for r in (1, 2, 3) for c in range(4))


def _raw(n: int, rng: np.random.Generator, anchor_ms: int) -> Iterator[_Chunk]:
    """Camera frames: ``raw/YYYY-MM-DD/rig-RR-cam-C/frame-NNNNNN.jpg``, uploaded the evening
    of their day; rig 2 joined a year in, rig 3 two years in; more frames as time goes on.
    Lifecycle: Standard-IA after 30 days, Glacier IR after 120, Deep Archive after a year.
    Built in key order (days, then cameras, then zero-padded frames)."""
    days = int(min(_SPAN_DAYS, max(1, n // 200)))
    day = np.repeat(np.arange(days), len(_DEVICES))  # oldest first
    device = np.tile(np.arange(len(_DEVICES)), days)
    active = day >= (device // 4) * days // 3
    day, device = day[active], device[active]
    age = days - 1 - day
    counts = _allocate(n, 1.0 + 2.0 * day / days)
    width = max(6, len(str(int(counts.max()))))
    for batch in _batches(counts):
        unit, j = _spread(counts[batch])
        unit += batch.start
        date, midnight = _dates(anchor_ms, age[unit])
        keys = _join("raw/", date, "/", _pick(_DEVICES, device[unit]), "/frame-",
                     _text(j, width), ".jpg")  # fmt: skip
        sizes = _lognormal(rng, 180_000, 0.35, len(j))
        times = np.minimum(midnight + 18 * 3_600_000 + j * 120, anchor_ms)
        classes = _by_age(age[unit], rng, ((30, _IA), (120, _GIR), (365, _DA)), keep=0.03)
        yield _Chunk(keys, sizes, times, classes, sorted=True)


def _tmp(n: int, rng: np.random.Generator, anchor_ms: int) -> Iterator[_Chunk]:
    """Ray object spilling nobody cleaned up: ``tmp/ray/session_<date>_<time>_<pid>/
    spilled_objects/<40 hex>``, four months to three years old, all STANDARD."""
    sessions = max(1, n // 250)
    ages = np.sort(rng.uniform(120, 1000, sessions))[::-1]
    counts = _allocate(n, rng.uniform(0.2, 1.8, sessions))
    start_ms = anchor_ms - (ages * _DAY_MS).astype(np.int64)
    pids = rng.integers(1_000, 99_999, sessions)
    stamps = [
        datetime.fromtimestamp(int(ms) // 1000, tz=timezone.utc).strftime("%Y-%m-%d_%H-%M-%S")
        + f"_{int(pid)}"
        for ms, pid in zip(start_ms, pids, strict=True)
    ]
    unit, _ = _spread(counts)
    keys = _join("tmp/ray/session_", _pick(stamps, unit), "/spilled_objects/",
                 _hex(rng, len(unit), 20))  # fmt: skip
    sizes = _lognormal(rng, 24 * _MiB, 1.0, len(unit))
    times = np.minimum(start_ms[unit] + rng.integers(0, 3_600_000, len(unit)), anchor_ms)
    yield _Chunk(keys, sizes, times, np.full(len(unit), _STD, np.uint8))


_KINDS: tuple[tuple[str, _Builder], ...] = (
    ("datasets", _datasets),
    ("features", _features),
    ("hf", _hf),
    ("lightning_logs", _lightning),
    ("mlflow", _mlflow),
    ("raw", _raw),
    ("tmp", _tmp),
)
