"""Files as ML tools write them, for the content-sniffing tests: each generator calls the
library the tool itself calls (json, csv.DictWriter, yaml.safe_dump, logging, pyarrow.csv),
with the tool's own arguments, so the bytes are the tool's, not a guess of ours.

* Llama Stack's Files API (remote::s3) stores an upload under ``file-<uuid4 hex>`` with
  ``put_object`` and no ContentType (S3 keeps ``binary/octet-stream``); uploads are what
  the OpenAI Files API takes: batch input JSON Lines, JSON documents, eval results.
* Lightning's ``CSVLogger`` writes ``metrics.csv`` with ``csv.DictWriter`` (one column per
  metric, empty cells where a step did not log it).
* MLflow writes ``MLmodel`` with ``yaml.safe_dump(model.to_dict(), default_flow_style=False)``.
* modelkit keeps ``<prefix>/<name>/<version>`` data objects (``0.1``), a
  ``<version>.meta`` JSON object beside each and a ``<name>.versions`` JSON object.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid

import pyarrow as pa
import pyarrow.csv as pacsv
import yaml


def llama_file_id() -> str:
    """An object key as Llama Stack's S3 files provider names it: ``file-<uuid4 hex>``."""
    return f"file-{uuid.uuid4().hex}"


def batch_jsonl(requests: int = 3) -> bytes:
    """An OpenAI-format batch input file (``purpose="batch"``), one request a line, written
    as the OpenAI cookbook does: ``json.dumps(request) + "\\n"``."""
    lines = []
    for i in range(requests):
        request = {
            "custom_id": f"request-{i + 1}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "meta-llama/Llama-3.2-3B-Instruct",
                "messages": [{"role": "user", "content": f"Question {i + 1}: what is {i} + {i}?"}],
                "max_tokens": 64,
            },
        }
        lines.append(json.dumps(request) + "\n")
    return "".join(lines).encode()


def eval_results_jsonl(rows: int = 4, *, pad: int = 0) -> bytes:
    """Eval results, one scored row a line (``json.dumps(row) + "\\n"``); ``pad``
    characters of generated text per row make long lines."""
    out = []
    for i in range(rows):
        row = {
            "input_query": f"What is the capital of country {i}?",
            "generated_answer": f"The capital is city {i}." + " more" * (pad // 5),
            "expected_answer": f"city {i}",
            "scores": {"basic::equality": {"score": float(i % 2)}},
        }
        out.append(json.dumps(row) + "\n")
    return "".join(out).encode()


def dataset_json(items: int = 3) -> bytes:
    """A JSON document as ``json.dump(obj, f, indent=2)`` writes it."""
    doc = {
        "name": "qa-eval",
        "rows": [{"id": i, "question": f"q{i}", "answer": f"a{i}"} for i in range(items)],
    }
    return json.dumps(doc, indent=2).encode()


def lightning_metrics_csv(steps: int = 6) -> bytes:
    """Lightning ``CSVLogger``'s ``metrics.csv``: ``csv.DictWriter`` over the sorted metric
    names, ``train_loss`` logged on steps, ``val_acc`` once an epoch (empty cells else)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["epoch", "step", "train_loss", "val_acc"])
    writer.writeheader()
    for i in range(steps):
        row: dict[str, object] = {"epoch": i // 3, "step": 50 * i + 49}
        if i % 3 == 2:
            row["val_acc"] = round(0.5 + i / 20, 4)
        else:
            row["train_loss"] = round(1 / (i + 1), 6)
        writer.writerow(row)
    return buf.getvalue().encode()


def arrow_csv(*, delimiter: str = ",", rows: int = 3) -> bytes:
    """``pyarrow.csv.write_csv`` output (it quotes string cells and the header)."""
    table = pa.table(
        {
            "step": list(range(rows)),
            "loss": [round(1 / (i + 1), 4) for i in range(rows)],
            "split": ["train" if i % 2 else "val" for i in range(rows)],
        }
    )
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(delimiter=delimiter))
    return buf.getvalue()


def mlflow_mlmodel() -> bytes:
    """An sklearn model's ``MLmodel`` file, dumped as MLflow's ``Model.to_yaml`` does."""
    model = {
        "artifact_path": "model",
        "flavors": {
            "python_function": {
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn",
                "model_path": "model.pkl",
                "predict_fn": "predict",
                "python_version": "3.11.9",
            },
            "sklearn": {
                "code": None,
                "pickled_model": "model.pkl",
                "serialization_format": "cloudpickle",
                "sklearn_version": "1.5.0",
            },
        },
        "mlflow_version": "2.14.1",
        "model_size_bytes": 1270,
        "model_uuid": "5b2f7c5e6d4a4c1f9a8e0d3b2c1a0f9e",
        "run_id": "8c1d0e4f5a6b4c7d8e9f0a1b2c3d4e5f",
        "utc_time_created": "2024-06-20 10:11:12.123456",
    }
    return yaml.safe_dump(model, default_flow_style=False).encode()


def modelkit_meta() -> bytes:
    """modelkit's ``<version>.meta`` object (``json.dumps`` of the push record)."""
    meta = {"push_date": "2024-06-20T10:11:12.123456Z", "is_directory": False, "contents": []}
    return json.dumps(meta).encode()


def modelkit_versions() -> bytes:
    """modelkit's ``<name>.versions`` object: the versions, latest first."""
    return json.dumps({"versions": ["0.1", "0.0"]}).encode()


def python_log(lines: int = 4) -> bytes:
    """Lines as ``logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s")``
    writes them: the default ``asctime`` has a comma before the milliseconds."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    out = []
    for i in range(lines):
        record = logging.LogRecord("train", logging.INFO, __file__, 1, "epoch %d done", (i,), None)
        record.created, record.msecs = 1718878272.0 + i, 123.0 + i
        out.append(formatter.format(record) + "\n")
    return "".join(out).encode()


#: The MIT licence's opening: prose full of commas.
MIT_LICENSE = (
    b"MIT License\n\nCopyright (c) 2024 Example Org\n\n"
    b"Permission is hereby granted, free of charge, to any person obtaining a copy\n"
    b'of this software and associated documentation files (the "Software"), to deal\n'
    b"in the Software without restriction, including without limitation the rights\n"
    b"to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n"
)
