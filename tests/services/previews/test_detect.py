"""Choosing a previewer (pail.services.previews.detect).

* The syntax lexer of a preview comes from Pygments' own filename table, for the previews
  and the app alike (language_for).
* Objects whose name and content type say nothing (Llama Stack's ``file-<hex>`` as
  ``binary/octet-stream``, MLflow's ``MLmodel``, modelkit's assets) get their text format
  from their first bytes (by_content, sniff_text), on bytes written by the tools themselves
  (tests/support/tool_files.py).
"""

from __future__ import annotations

import io
import json
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pygments.lexers import get_lexer_by_name

from pail.drivers.base import ObjectInfo
from pail.services.previews.detect import (
    by_content,
    format_for,
    language_for,
    sniff,
    sniff_text,
)
from support import stores, tool_files


@pytest.mark.parametrize(
    ("key", "language"),
    [
        ("src/train.py", "python"),
        ("stubs/x.pyi", "python"),
        ("config.yaml", "yaml"),
        ("config.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("metrics.json", "json"),
        ("events.jsonl", "json"),
        ("events.ndjson", "json"),
        ("params.json.gz", "json"),  # looked up without the .gz
        ("MODEL.JSON", "json"),  # then in lower case
        ("area.geojson", "json"),  # the two ML names Pygments lacks
        ("analysis.ipynb", "json"),
        ("README.md", "markdown"),
        ("run.sh", "bash"),
        ("setup.cfg", "ini"),
        ("Dockerfile", "docker"),
        ("Makefile", "make"),
        ("main.rs", "rust"),
        ("model.proto", "protobuf"),
        ("analysis.R", "splus"),
    ],
)
def test_language_for_known_names(key, language):
    assert language_for(key) == language
    assert get_lexer_by_name(language) is not None  # a name Rich's Syntax can load


@pytest.mark.parametrize(
    "key",
    [
        "notes.txt",
        "requirements.txt",
        "train.log",
        "stdout.out",
        "model.ckpt",
        "weights.bin",
        "LICENSE",
        "runs/",
        "",
        "no-extension",
        ".gz",
    ],
)
def test_plain_text_and_unknown_names_have_no_language(key):
    assert language_for(key) is None


# -- formats by content ------------------------------------------------------------------------

#: What a 64 KiB first window leaves of objects larger than it.
WINDOW = 64 * 1024
BIG_JSON = json.dumps(
    {"rows": [{"id": i, "text": f"row {i}", "score": i / 7} for i in range(4000)]}, indent=2
).encode()
BIG_JSONL = tool_files.eval_results_jsonl(600)
LONG_LINES_JSONL = tool_files.eval_results_jsonl(3, pad=40_000)  # one line > half the window
BIG_CSV = tool_files.lightning_metrics_csv(6000)
assert min(len(BIG_JSON), len(BIG_JSONL), len(BIG_CSV), len(LONG_LINES_JSONL)) > WINDOW


@pytest.mark.parametrize(
    ("head", "complete", "expected"),
    [
        # Llama Stack uploads (file-<hex>, binary/octet-stream)
        pytest.param(tool_files.batch_jsonl(), True, "jsonl", id="batch-jsonl"),
        pytest.param(tool_files.eval_results_jsonl(), True, "jsonl", id="eval-results-jsonl"),
        pytest.param(tool_files.dataset_json(), True, "json", id="json-indent-2"),
        pytest.param(b"\xef\xbb\xbf \r\n" + tool_files.dataset_json(), True, "json", id="json-bom"),
        pytest.param(b"[1, 2, 3]", True, "json", id="json-array"),
        # first windows of larger objects: cut mid-token, mid-line, mid-row
        pytest.param(BIG_JSON[:WINDOW], False, "json", id="json-cut"),
        pytest.param(BIG_JSON[:WINDOW].rstrip(b"0123456789"), False, "json", id="json-cut-number"),
        pytest.param(b'{\n  "note": "caf\xc3', False, "json", id="json-cut-in-character"),
        pytest.param(b'{"a": [true, fal', False, "json", id="json-cut-in-literal"),
        pytest.param(BIG_JSONL[:WINDOW], False, "jsonl", id="jsonl-cut"),
        pytest.param(LONG_LINES_JSONL[:WINDOW], False, "jsonl", id="jsonl-long-lines-cut"),
        pytest.param(BIG_CSV[:WINDOW], False, "csv", id="csv-cut"),
        # metrics tables
        pytest.param(tool_files.lightning_metrics_csv(), True, "csv", id="lightning-metrics"),
        pytest.param(tool_files.arrow_csv(), True, "csv", id="pyarrow-csv"),
        pytest.param(tool_files.arrow_csv(delimiter="\t"), True, "tsv", id="pyarrow-tsv"),
        pytest.param(
            "\ufeff".encode() + tool_files.lightning_metrics_csv(), True, "csv", id="csv-utf-8-sig"
        ),
        pytest.param(b"epoch;loss\n1;0,52\n2;0,48\n", True, "csv", id="semicolon-decimal-comma"),
        pytest.param(
            b"question,answer\nWhat is the capital of France?,Paris\nWho wrote Hamlet?,Shakespeare",
            True,
            "csv",
            id="csv-of-words",
        ),
        # configs
        pytest.param(tool_files.mlflow_mlmodel(), True, "yaml", id="mlflow-MLmodel"),
        pytest.param(b"---\nlr: 0.001\n", True, "yaml", id="yaml-document-start"),
        pytest.param(b"lr: 0.001\nlayers: [64, 64]\n", True, "yaml", id="yaml-flow-list"),
        pytest.param(b"- name: a\n  lr: 1\n- name: b\n  lr: 2\n", True, "yaml", id="yaml-list"),
        # modelkit
        pytest.param(tool_files.modelkit_meta(), True, "json", id="modelkit-meta"),
        pytest.param(tool_files.modelkit_versions(), True, "json", id="modelkit-versions"),
        # prose and other text: no table, no YAML
        pytest.param(tool_files.MIT_LICENSE, True, "text", id="licence-prose"),
        pytest.param(b"Hello, world.\nGoodbye, moon.\n", True, "text", id="two-lines-one-comma"),
        pytest.param(b"In 2023, 45 runs.\nIn 2024, 50 runs.\n", True, "text", id="prose-numbers"),
        pytest.param(tool_files.python_log(), True, "text", id="logging-asctime-comma"),
        pytest.param(b"INFO:     Started\nINFO:     Waiting\n", True, "text", id="uvicorn-log"),
        pytest.param(
            b"Note: the run failed.\nCause: out of memory.\n", True, "text", id="prose-colons"
        ),
        pytest.param(b"all: build\nbuild:\n\tgo build ./...\n", True, "text", id="makefile"),
        pytest.param(b"[INFO] starting\n[INFO] done\n", True, "text", id="bracketed-log"),
        pytest.param(b"[1] Introduction\n[2] Methods\n", True, "text", id="numbered-list"),
        pytest.param(b"| a | b |\n|---|---|\n| 1 | 2 |\n", True, "text", id="markdown-table"),
        pytest.param(b'{"a": 1,}', True, "text", id="invalid-json"),
        pytest.param(b'{"a": 1} {"b": 2}', False, "text", id="two-values-one-line"),
        pytest.param(b"epoch\n1\n2\n", True, "text", id="one-column"),
        pytest.param(b"caf\xc3", False, "text", id="utf-8-cut"),
        pytest.param(b" \n", True, "text", id="blank"),
        # binary
        pytest.param(pickle.dumps({"w": [0.5] * 8}), True, None, id="pickle"),
        pytest.param(b"caf\xc3", True, None, id="utf-8-truncated-for-good"),
        pytest.param(b"step 1\x1b[31m red\n", True, None, id="control-bytes"),
        pytest.param(b'{"a": 1}\x00', True, None, id="nul"),
    ],
)
def test_sniff_text(head: bytes, complete: bool, expected: str | None) -> None:
    assert sniff_text(head, complete=complete) == expected


def _parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"step": [1, 2]}), buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (stores.png(4, 3), "image"),
        (_parquet(), "parquet"),
        (stores.npy("<f4", (2, 2)), "npy"),
        (stores.safetensors({"w": ("F32", [2])}), "safetensors"),
        (stores.checkpoint({"archive/data.pkl": b"."}), "zip"),
    ],
    ids=["png", "parquet", "npy", "safetensors", "zip"],
)
def test_magic_numbers_still_decide_before_text(head: bytes, fmt: str) -> None:
    assert sniff(head) == fmt
    assert sniff_text(head, complete=True) in (None, "text")  # never a text format


def _info(key: str, content_type: str | None) -> ObjectInfo:
    return ObjectInfo(bucket="b", key=key, size=10, content_type=content_type)


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        ("file-6f1c2b0e9d8a4f7e8c3b2a1d0e9f8a7b", "binary/octet-stream"),  # Llama Stack on S3
        ("file-6f1c2b0e9d8a4f7e8c3b2a1d0e9f8a7b", "application/octet-stream"),  # on GCS
        ("file-6f1c2b0e9d8a4f7e8c3b2a1d0e9f8a7b", "Binary/Octet-Stream; charset=binary"),
        ("mlruns/1/abc/artifacts/model/MLmodel", None),  # a local folder: no type at all
        ("mlruns/1/abc/artifacts/model/MLmodel", ""),
        ("modelkit-assets/nlp/vocab/0.1", "binary/octet-stream"),  # a version, not a format
        ("modelkit-assets/nlp/vocab/0.1.meta", "binary/octet-stream"),
        ("modelkit-assets/nlp/vocab.versions", "binary/octet-stream"),
        ("uploads/notes", "text/plain"),  # google-cloud-storage's upload_from_string default
    ],
)
def test_names_and_types_that_say_nothing_are_sniffed(key: str, content_type: str | None) -> None:
    info = _info(key, content_type)
    assert by_content(info)
    assert format_for(info) is None


@pytest.mark.parametrize(
    ("key", "content_type", "fmt"),
    [
        # a specific content type wins over the bytes
        ("file-6f1c2b0e", "application/json", "json"),
        ("file-6f1c2b0e", "application/json; charset=utf-8", "json"),
        ("file-6f1c2b0e", "text/csv", "csv"),
        ("file-6f1c2b0e", "text/tab-separated-values", "tsv"),
        ("file-6f1c2b0e", "application/x-yaml", "yaml"),
        ("file-6f1c2b0e", "text/html", "text"),
        ("file-6f1c2b0e", "image/png", "image"),
        # a known extension wins over a generic type
        ("run/metrics.csv", "binary/octet-stream", "csv"),
        ("run/notes.txt", "binary/octet-stream", "text"),
        ("run/params.json", None, "json"),
        # logs are shown from their end, whatever their name
        ("run/logs/stdout", "binary/octet-stream", "log"),
    ],
)
def test_a_known_extension_or_a_specific_type_decides(key, content_type, fmt) -> None:
    info = _info(key, content_type)
    assert format_for(info) == fmt
    assert not by_content(info) or fmt == "log"


def test_an_unknown_specific_type_gets_magic_numbers_only() -> None:
    info = _info("file-6f1c2b0e", "application/x-custom")
    assert format_for(info) is None and not by_content(info)
