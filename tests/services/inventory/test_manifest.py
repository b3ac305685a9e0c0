"""Manifests as S3 and GCS document them, parsed and verified (bytes in, a Report out).

The data files and schemas come from support.inventory_reports (written from the docs);
the manifests from support.inventory_manifests.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest

from pail.services.inventory.manifest import (
    field_name,
    gcs_field_name,
    gcs_manifest_name,
    parse_gcs_manifest,
    parse_s3_manifest,
    s3_folder_time,
    schema_fields,
    verify_checksum,
)
from pail.services.inventory.model import ManifestInvalid
from support.inventory_manifests import s3_manifest
from support.inventory_reports import (
    GCS_FIELDS,
    S3_FIELDS,
    S3_VERSIONED_FIELDS,
    InvRow,
    write_gcs_csv,
    write_s3_csv,
    write_s3_orc,
    write_s3_parquet,
)

CREATED = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)
KEY = "inv/src/daily/2026-11-28T02-00Z/manifest.json"
ROWS = [InvRow("a/b.txt", 3), InvRow("c d/é.bin", 5)]


def _manifest(written, **kw) -> bytes:
    files = [(f"inv/src/daily/data/{p.name}", p.read_bytes()) for p in written.paths]
    fmt = {".orc": "ORC", ".parquet": "Parquet"}.get(written.paths[0].suffix, "CSV")
    doc = s3_manifest(
        source_bucket="src",
        dest_bucket="dest",
        created=CREATED,
        file_format=fmt,
        file_schema=written.file_schema,
        files=files,
    )
    doc.update(kw)
    return json.dumps(doc).encode()


def _checksum(data: bytes) -> bytes:
    return hashlib.md5(data).hexdigest().encode() + b"\n"


@pytest.mark.parametrize(
    ("writer", "fields"),
    [
        (write_s3_csv, S3_FIELDS),
        (write_s3_csv, S3_VERSIONED_FIELDS),
        (write_s3_orc, S3_VERSIONED_FIELDS),
        (write_s3_parquet, S3_FIELDS),
    ],
)
def test_s3_manifest_of_each_format(tmp_path, writer, fields):
    written = writer(ROWS, tmp_path, fields=fields)
    data = _manifest(written)
    report = parse_s3_manifest(data, bucket="dest", key=KEY, checksum=_checksum(data))
    assert report.provider == "s3"
    assert report.fields == tuple(fields) == written.fields
    assert report.source_fields == written.source_fields
    assert report.created == CREATED
    assert report.source_bucket == "src" and report.destination_bucket == "dest"
    assert report.config_id == "daily"
    assert report.versions is ("version_id" in fields)
    (only,) = report.files
    body = written.paths[0].read_bytes()
    assert only.size == len(body) and only.md5 == hashlib.md5(body).hexdigest()
    assert report.label == "inventory of 2026-11-28 02:00 UTC"
    assert report.manifest_uri == f"s3://dest/{KEY}"


def test_checksum_must_match_the_bytes(tmp_path):
    data = _manifest(write_s3_csv(ROWS, tmp_path))
    good = _checksum(data)
    assert verify_checksum(data, good, where="s3://d/k") == good.decode().strip()
    assert verify_checksum(data, b"  " + good.upper() + b"\r\n", where="x")  # spacing, case
    with pytest.raises(ManifestInvalid, match="checksum mismatch"):
        parse_s3_manifest(data, bucket="dest", key=KEY, checksum=_checksum(data + b" "))
    with pytest.raises(ManifestInvalid, match="missing"):
        parse_s3_manifest(data, bucket="dest", key=KEY, checksum=None)
    with pytest.raises(ManifestInvalid, match="not an MD5"):
        parse_s3_manifest(data, bucket="dest", key=KEY, checksum=b"\xff\xfe")
    # One changed byte of the manifest (a file's size) is caught by the checksum.
    tampered = data.replace(b'"size": ', b'"size": 1', 1)
    with pytest.raises(ManifestInvalid, match="checksum mismatch"):
        parse_s3_manifest(tampered, bucket="dest", key=KEY, checksum=good)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"fileFormat": "JSON"}, "fileFormat"),
        ({"creationTimestamp": "yesterday"}, "creationTimestamp"),
        ({"destinationBucket": "dest"}, "ARN"),
        ({"files": []}, "files"),
        ({"fileSchema": "Bucket, Size"}, "Key"),
        ({"fileSchema": "Bucket, Key, Key"}, "twice"),
        ({"sourceBucket": ""}, "sourceBucket"),
    ],
)
def test_malformed_manifests_are_refused(tmp_path, change, why):
    data = _manifest(write_s3_csv(ROWS, tmp_path), **change)
    with pytest.raises(ManifestInvalid, match=why):
        parse_s3_manifest(data, bucket="dest", key=KEY, checksum=_checksum(data))


def test_file_entries_are_checked(tmp_path):
    doc = json.loads(_manifest(write_s3_csv(ROWS, tmp_path)))
    for bad in ({"size": -1}, {"size": "12"}, {"MD5checksum": "xyz"}, {"key": ""}):
        changed = {**doc, "files": [{**doc["files"][0], **bad}]}
        data = json.dumps(changed).encode()
        with pytest.raises(ManifestInvalid):
            parse_s3_manifest(data, bucket="dest", key=KEY, checksum=_checksum(data))
    data = b"{not json"
    with pytest.raises(ManifestInvalid, match="not JSON"):
        parse_s3_manifest(data, bucket="dest", key=KEY, checksum=_checksum(data))


def test_schemas_as_the_docs_write_them():
    assert schema_fields("CSV", "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass") == (
        "Bucket", "Key", "Size", "LastModifiedDate", "ETag", "StorageClass",
    )  # fmt: skip
    orc = "struct<bucket:string,key:string,size:bigint,last_modified_date:timestamp,e_tag:string>"
    assert schema_fields("ORC", orc) == ("bucket", "key", "size", "last_modified_date", "e_tag")
    parquet = (
        "message s3.inventory { required binary bucket (STRING); required binary key (UTF8);"
        " optional int64 size; optional int64 last_modified_date (TIMESTAMP(MILLIS,true));"
        " optional binary e_tag (STRING); optional boolean is_latest;}"
    )
    assert schema_fields("Parquet", parquet) == (
        "bucket", "key", "size", "last_modified_date", "e_tag", "is_latest",
    )  # fmt: skip
    with pytest.raises(ValueError):
        schema_fields("ORC", "bucket:string")
    with pytest.raises(ValueError):
        schema_fields("Parquet", "message s3.inventory { nonsense; }")


def test_field_names_are_normalised():
    s3 = {
        "Bucket": "bucket", "Key": "key", "VersionId": "version_id", "IsLatest": "is_latest",
        "IsDeleteMarker": "is_delete_marker", "Size": "size", "LastModifiedDate":
        "last_modified", "last_modified_date": "last_modified", "ETag": "etag", "e_tag":
        "etag", "StorageClass": "storage_class", "IsMultipartUploaded":
        "is_multipart_uploaded", "ObjectLockRetainUntilDate": "object_lock_retain_until_date",
        "intelligent_tiering_access_tier": "intelligent_tiering_access_tier",
    }  # fmt: skip
    assert {name: field_name(name) for name in s3} == s3
    gcs = {
        "name": "key", "size": "size", "updated": "last_modified", "storageClass":
        "storage_class", "etag": "etag", "md5Hash": "md5", "crc32c": "crc32c",
        "generation": "generation", "timeCreated": "created", "bucket": "bucket",
        "contentType": "content_type", "project": "project",
    }  # fmt: skip
    assert {name: gcs_field_name(name) for name in gcs} == gcs


def test_folder_and_file_name_times():
    assert s3_folder_time("2016-11-06T21-32Z") == datetime(2016, 11, 6, 21, 32, tzinfo=timezone.utc)
    assert s3_folder_time("2016-13-06T21-32Z") is None
    assert s3_folder_time("hive") is None
    assert gcs_manifest_name("p/abc-1_2026-01-02T00:00_manifest.json") == (
        "abc-1", datetime(2026, 1, 2, tzinfo=timezone.utc),
    )  # fmt: skip
    assert gcs_manifest_name("abc_2026-01-02T03:04:05Z_manifest.json")[1].minute == 4
    assert gcs_manifest_name("manifest.json") is None


def _gcs_doc(written, **kw):
    doc = {
        "report_config": {
            "csv_options": {"delimiter": ",", "header_required": True},
            "name": "projects/p/locations/us/reportConfigs/cfg-1",
            "object_metadata_report_options": {
                "metadata_fields": list(written.source_fields),
                "storage_filters": {"bucket": "src"},
            },
        },
        "records_processed": 2,
        "snapshot_time": "2026-01-02T00:00:00Z",
        "shard_count": len(written.paths),
        "report_shards_file_names": [p.name for p in written.paths],
    }
    doc.update(kw)
    return doc


def test_gcs_manifest(tmp_path):
    written = write_gcs_csv(ROWS, tmp_path, files=2)
    key = "reports/cfg-1_2026-01-02T00:00:00Z_manifest.json"
    report = parse_gcs_manifest(json.dumps(_gcs_doc(written)).encode(), bucket="d", key=key)
    assert report.provider == "gcs" and report.format == "CSV"
    assert report.fields == GCS_FIELDS and report.source_fields == written.source_fields
    assert [f.key for f in report.files] == [f"reports/{p.name}" for p in written.paths]
    assert all(f.md5 is None and f.size is None for f in report.files)
    assert report.created == datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert (report.source_bucket, report.config_id, report.rows) == ("src", "cfg-1", 2)
    assert report.manifest_uri == f"gs://d/{key}"


def test_gcs_manifest_fields_from_the_shard_and_refusals(tmp_path):
    written = write_gcs_csv(ROWS, tmp_path)
    doc = _gcs_doc(written)
    del doc["report_config"]["object_metadata_report_options"]["metadata_fields"]
    asked = []

    def header(shard, fmt):
        asked.append((shard.key, fmt))
        return written.source_fields

    report = parse_gcs_manifest(
        json.dumps(doc).encode(), bucket="d", key="x_manifest.json", shard_fields=header
    )
    assert report.fields == GCS_FIELDS and asked == [(written.paths[0].name, "CSV")]
    with pytest.raises(ManifestInvalid, match="fields"):
        parse_gcs_manifest(json.dumps(doc).encode(), bucket="d", key="x")
    for change, why in (
        ({"shard_count": 3}, "shard_count"),
        ({"report_shards_file_names": []}, "report_shards_file_names"),
        ({"report_shards_file_names": ["gs://elsewhere/x.csv"]}, "not in"),
        ({"snapshot_time": "soon"}, "snapshot_time"),
    ):
        bad = json.dumps(_gcs_doc(written, **change)).encode()
        with pytest.raises(ManifestInvalid, match=why):
            parse_gcs_manifest(bad, bucket="d", key="reports/m.json")
