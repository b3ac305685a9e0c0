"""Publishing inventory reports into test stores the way S3 and GCS lay them out.

Data files come from :mod:`support.inventory_reports` (B's writers); this module writes
the manifests over them, written from the docs, not through the code under test:

* S3 (S3 User Guide, "Locating your inventory list", "Inventory manifest"):
  data files at ``<prefix>/<source>/<config id>/data/<name>``, and per report
  ``<prefix>/<source>/<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.json`` +
  ``manifest.checksum`` (hex MD5 of manifest.json, as S3 writes it: 32 hex digits and a
  newline).
* GCS (Cloud Storage docs, "Inventory reports"): shards and
  ``<REPORT_CONFIG_ID>_<SNAPSHOT_TIME>_manifest.json`` side by side under the destination
  path (``report_shards_file_names`` holds the shard file names).

``put(key, bytes)`` is where the files go: :func:`moto_put` (moto's in-process backend,
the server's own data) or :func:`gcs_put` (a google-cloud-storage bucket on an emulator).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from support.inventory_reports import Written
from support.servers import REGION, moto_backend

Put = Callable[[str, bytes], None]


@dataclass
class Published:
    """What was written: the manifest's key and document, the data files' keys (manifest
    order), their bytes, and the report folder (S3) or destination path (GCS)."""

    manifest_key: str
    manifest: dict[str, Any]
    data_keys: list[str]
    data: dict[str, bytes] = field(default_factory=dict)
    folder: str = ""


def moto_put(bucket: str) -> Put:
    """``put`` into moto's in-process backend (creates the bucket when missing)."""
    backend = moto_backend()
    if bucket not in backend.buckets:
        backend.create_bucket(bucket, REGION)

    def put(key: str, body: bytes) -> None:
        backend.put_object(bucket, key, body)

    return put


def gcs_put(raw_bucket: Any) -> Put:
    """``put`` into a google-cloud-storage ``Bucket`` (the emulator's)."""

    def put(key: str, body: bytes) -> None:
        raw_bucket.blob(key).upload_from_string(body)

    return put


def s3_format(written: Written) -> str:
    """``CSV``/``ORC``/``Parquet`` from the written files' names."""
    name = written.paths[0].name
    if name.endswith(".orc"):
        return "ORC"
    if name.endswith(".parquet"):
        return "Parquet"
    return "CSV"


def folder_name(created: datetime) -> str:
    """``YYYY-MM-DDTHH-MMZ`` (UTC) for a report created at ``created``."""
    return created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H-%MZ")


def s3_manifest(
    *,
    source_bucket: str,
    dest_bucket: str,
    created: datetime,
    file_format: str,
    file_schema: str,
    files: Sequence[tuple[str, bytes]],
    md5s: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An S3 Inventory manifest document over ``files`` (``(key, bytes)``); ``md5s``
    overrides a file's ``MD5checksum``."""
    return {
        "sourceBucket": source_bucket,
        "destinationBucket": f"arn:aws:s3:::{dest_bucket}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)),
        "fileFormat": file_format,
        "fileSchema": file_schema,
        "files": [
            {
                "key": key,
                "size": len(body),
                "MD5checksum": (md5s or {}).get(key) or hashlib.md5(body).hexdigest(),
            }
            for key, body in files
        ],
    }


def publish_s3(
    put: Put,
    written: Written,
    *,
    source_bucket: str,
    dest_bucket: str,
    created: datetime,
    prefix: str = "inventory",
    config_id: str = "daily",
    checksum: bool | bytes = True,
    manifest_only: bool = False,
    data_names: Sequence[str] | None = None,
    md5s: Mapping[str, str] | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> Published:
    """Put an S3 report: its data files (unless ``manifest_only``), ``manifest.json`` and
    ``manifest.checksum``.

    Args:
        checksum: ``True`` = the right MD5 (hex + newline, as S3 writes it), ``False`` =
            no checksum object (an incomplete report), bytes = that content.
        data_names: the data files' names under ``data/`` (default: the written names);
            hostile names (spaces, unicode) go here.
        md5s: ``{data key: MD5checksum}`` written instead of the real MD5.
        edit: changes the manifest document before it is written.
    """
    base = (
        f"{prefix.rstrip('/')}/{source_bucket}/{config_id}"
        if prefix
        else (f"{source_bucket}/{config_id}")
    )
    names = list(data_names) if data_names is not None else [p.name for p in written.paths]
    files = [
        (f"{base}/data/{name}", path.read_bytes())
        for name, path in zip(names, written.paths, strict=True)
    ]
    if not manifest_only:
        for key, body in files:
            put(key, body)
    doc = s3_manifest(
        source_bucket=source_bucket,
        dest_bucket=dest_bucket,
        created=created,
        file_format=s3_format(written),
        file_schema=written.file_schema,
        files=files,
        md5s=md5s,
    )
    if edit is not None:
        edit(doc)
    folder = f"{base}/{folder_name(created)}/"
    body = json.dumps(doc, indent=2).encode()
    put(folder + "manifest.json", body)
    if checksum is True:
        put(folder + "manifest.checksum", (hashlib.md5(body).hexdigest() + "\n").encode())
    elif isinstance(checksum, bytes):
        put(folder + "manifest.checksum", checksum)
    return Published(folder + "manifest.json", doc, [k for k, _ in files], dict(files), folder)


def gcs_manifest_key(path: str, config_id: str, snapshot: datetime) -> str:
    """``<path>/<ID>_<YYYY-MM-DDTHH:MM:SSZ>_manifest.json`` (the time as B's shards spell
    it)."""
    stamp = snapshot.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = f"{config_id}_{stamp}_manifest.json"
    return f"{path.rstrip('/')}/{name}" if path else name


def publish_gcs(
    put: Put,
    written: Written,
    *,
    source_bucket: str,
    path: str = "reports",
    config_id: str = "cfg-1",
    snapshot: datetime = datetime(2026, 1, 2, tzinfo=timezone.utc),
    metadata_fields: bool = True,
    rows: int | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> Published:
    """Put a GCS report: its shards (named as written) and its manifest, beside them.

    ``metadata_fields=False`` leaves the field list out of the report config (the shards'
    header / schema must then say it)."""
    keys = []
    data = {}
    for shard in written.paths:
        key = f"{path.rstrip('/')}/{shard.name}" if path else shard.name
        body = shard.read_bytes()
        put(key, body)
        keys.append(key)
        data[key] = body
    fmt = "parquet_options" if written.paths[0].name.endswith(".parquet") else "csv_options"
    options: dict[str, Any] = {
        "storage_filters": {"bucket": source_bucket},
        "storage_destination_options": {"destination_path": path},
    }
    if metadata_fields:
        options["metadata_fields"] = list(written.source_fields)
    doc: dict[str, Any] = {
        "report_config": {
            fmt: {"delimiter": ",", "header_required": True, "record_separator": "\n"}
            if fmt == "csv_options"
            else {},
            "name": f"projects/pail-test/locations/us-central1/reportConfigs/{config_id}",
            "object_metadata_report_options": options,
        },
        "records_processed": rows,
        "snapshot_time": snapshot.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "shard_count": len(written.paths),
        "report_shards_file_names": [p.name for p in written.paths],
    }
    if edit is not None:
        edit(doc)
    key = gcs_manifest_key(path, config_id, snapshot)
    put(key, json.dumps(doc, indent=2).encode())
    return Published(key, doc, keys, data, path)
