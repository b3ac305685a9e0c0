"""Objects whose name and content type say nothing, previewed by their first bytes, end to
end: put over HTTP into moto server the way the tools put them (boto3 ``put_object`` with no
ContentType, so S3 keeps ``binary/octet-stream``), read back through pail's S3 driver and
:func:`pail.services.previews.build_preview`. The same bytes under a key with the matching
extension read exactly as many bytes: sniffing adds no read."""

from __future__ import annotations

import csv
import io
import itertools
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services.previews import (
    HexPreview,
    ImagePreview,
    MarkdownPreview,
    ParquetPreview,
    TablePreview,
    TextPreview,
    build_preview,
)
from support import stores, tool_files
from support.servers import s3_client, seed_keys
from support.stores import CountingDriver, Store, open_store


@pytest.fixture
def moto(moto_server, bucket_name):
    """``(boto3 client, pail's S3 driver counting its reads, bucket)`` on moto server."""
    seed_keys(bucket_name, {})
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=moto_server, region="us-east-1", path_style=True
    )
    return s3_client(moto_server), CountingDriver(open_driver(spec)), bucket_name


def put(moto, key: str, body: bytes, **kwargs):
    """PutObject as Llama Stack's S3 files provider sends it (no ContentType unless given),
    then pail's HeadObject of it."""
    client, driver, bucket = moto
    client.put_object(Bucket=bucket, Key=key, Body=body, **kwargs)
    return driver.head(bucket, key)


def preview(moto, info, **kwargs):
    _, driver, _ = moto
    driver.reads.clear()
    return build_preview(driver, info, **kwargs)


def test_llama_stack_files_preview_by_content(moto) -> None:
    # JSON document: pretty-printed like a .json key.
    doc = tool_files.dataset_json()
    info = put(moto, tool_files.llama_file_id(), doc)
    assert info.content_type == "binary/octet-stream"
    result = preview(moto, info)
    assert isinstance(result, TextPreview) and result.pretty and result.language == "json"
    assert result.text == json.dumps(json.loads(doc), indent=2)

    # JSON Lines (a batch input file): shown as stored, highlighted as JSON.
    batch = tool_files.batch_jsonl()
    result = preview(moto, put(moto, tool_files.llama_file_id(), batch))
    assert isinstance(result, TextPreview) and not result.pretty
    assert result.language == "json" and result.text == batch.decode()

    # CSV metrics: a table with the header's columns and every row.
    metrics = tool_files.lightning_metrics_csv()
    result = preview(moto, put(moto, tool_files.llama_file_id(), metrics))
    assert isinstance(result, TablePreview) and result.delimiter == ","
    header, *rows = list(csv.reader(io.StringIO(metrics.decode())))
    assert result.columns == tuple(header) and result.rows == tuple(map(tuple, rows))
    assert result.total_rows == 6 and not result.truncated
    assert result.rows[0] == ("0", "49", "1.0", "")  # val_acc not logged on that step

    # TSV: a table split on tabs.
    result = preview(
        moto, put(moto, tool_files.llama_file_id(), tool_files.arrow_csv(delimiter="\t"))
    )
    assert isinstance(result, TablePreview) and result.delimiter == "\t"
    assert result.columns == ("step", "loss", "split")
    assert result.rows[1] == ("1", "0.5", "train")

    # Prose with commas stays text.
    result = preview(moto, put(moto, tool_files.llama_file_id(), tool_files.MIT_LICENSE))
    assert isinstance(result, TextPreview) and result.language is None
    assert result.text == tool_files.MIT_LICENSE.decode()


def test_mlflow_and_modelkit_files_preview_by_content(moto) -> None:
    mlmodel = tool_files.mlflow_mlmodel()
    result = preview(moto, put(moto, "mlruns/1/8c1d/artifacts/model/MLmodel", mlmodel))
    assert isinstance(result, TextPreview) and result.language == "yaml"
    assert result.text == mlmodel.decode() and not result.pretty

    for key, body in [
        ("modelkit-assets/nlp/vocab/0.1.meta", tool_files.modelkit_meta()),
        ("modelkit-assets/nlp/vocab.versions", tool_files.modelkit_versions()),
    ]:
        result = preview(moto, put(moto, key, body))
        assert isinstance(result, TextPreview) and result.pretty, key
        assert result.text == json.dumps(json.loads(body), indent=2), key


def test_magic_numbers_and_binary_keep_working_without_an_extension(moto) -> None:
    result = preview(moto, put(moto, tool_files.llama_file_id(), stores.png(40, 30)))
    assert isinstance(result, ImagePreview) and (result.width, result.height) == (40, 30)
    buf = io.BytesIO()
    pq.write_table(pa.table({"step": [1, 2, 3]}), buf)
    result = preview(moto, put(moto, "modelkit-assets/tables/history/0.0", buf.getvalue()))
    assert isinstance(result, ParquetPreview) and result.num_rows == 3

    result = preview(moto, put(moto, tool_files.llama_file_id(), bytes(range(256)) * 4))
    assert isinstance(result, HexPreview) and result.text.startswith("00000000  00 01 02 03")


def test_a_specific_content_type_wins_over_the_bytes(moto) -> None:
    body = b"epoch,loss\n1,0.5\n2,0.4\n"  # reads as CSV, but the uploader said Markdown
    info = put(moto, tool_files.llama_file_id(), body, ContentType="text/markdown")
    result = preview(moto, info)
    assert isinstance(result, MarkdownPreview) and result.text == body.decode()

    jsonl = tool_files.eval_results_jsonl()  # said to be one JSON document: not reformatted
    info = put(moto, tool_files.llama_file_id(), jsonl, ContentType="application/json")
    result = preview(moto, info)
    assert isinstance(result, TextPreview) and not result.pretty
    assert result.note and result.note.startswith("not valid JSON")


def test_sniffing_reads_no_more_than_the_extension_would(moto) -> None:
    """Large objects: the first window decides, and the previewer reads the bytes it reads
    for a key with the extension (the text window, the table's share of the limit)."""
    _, driver, _ = moto
    cases = [
        (tool_files.eval_results_jsonl(3000), "results.jsonl", TextPreview),
        (tool_files.lightning_metrics_csv(20_000), "metrics.csv", TablePreview),
        (tool_files.MIT_LICENSE * 1000, "LICENSE.txt", TextPreview),
    ]
    for body, named, kind in cases:
        assert len(body) > 256 * 1024
        sniffed = preview(moto, put(moto, tool_files.llama_file_id(), body))
        reads = list(driver.reads)
        by_name = preview(moto, put(moto, named, body))
        assert isinstance(sniffed, kind) and isinstance(by_name, kind), named
        assert sniffed.bytes_read == by_name.bytes_read == driver.bytes_read, named
        assert len(driver.reads) == 1, named
        # The sniff looked at the first window only; a table then reads on from there (one
        # more GET for the rest of its share), never a byte twice.
        assert reads[0][:2] == (0, 64 * 1024), named
        assert all(b[0] == a[0] + a[3] for a, b in itertools.pairwise(reads)), named
        assert sniffed.truncated and by_name.truncated, named

    # A JSON document larger than the limit: its first window says JSON; shown as stored.
    body = json.dumps({"rows": [{"id": i, "loss": 1 / (i + 1)} for i in range(20_000)]}).encode()
    result = preview(moto, put(moto, tool_files.llama_file_id(), body), limit=128 * 1024)
    assert isinstance(result, TextPreview) and result.language == "json" and not result.pretty
    assert result.note and "preview limit" in result.note
    assert result.bytes_read == driver.bytes_read <= 128 * 1024


@pytest.fixture(params=["gcs", "local"])
def other_store(request, bucket_name, tmp_path) -> Store:
    """The GCS emulator (google-cloud-storage's ``upload_from_string`` stores
    ``text/plain``) and a local folder (no content type at all)."""
    return open_store(request.param, request, bucket_name, tmp_path)


def test_other_generic_types_are_sniffed_too(other_store: Store) -> None:
    info = other_store.put(tool_files.llama_file_id(), tool_files.lightning_metrics_csv())
    assert (info.content_type or "") in ("text/plain", "")
    result = build_preview(other_store.driver, info)
    assert isinstance(result, TablePreview) and result.columns[:2] == ("epoch", "step")
