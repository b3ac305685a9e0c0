"""Runs benchmark: finding an experiment's runs with their params and metric histories.

The same MLflow file store (``mlruns/<exp>/<run>/{meta.yaml, params/, metrics/, tags/,
artifacts/}``, the bytes MLflow's FileStore writes) read three ways, in one process:

* **local folder**: pail's ``detect_runs`` through the local-folder driver, against
  MLflow's own ``FileStore`` (mlflow-skinny) doing what its UI does for the runs table
  (``search_runs``: params, tags, last metric values), and ``search_runs`` plus
  ``get_metric_history`` for every metric of every run (what pail's detection returns);
* **S3 (moto server over HTTP)**: pail's ``detect_runs`` through its S3 driver, against raw
  boto3 listing the prefix and GETting every metadata file with the same 8 threads (the
  least any S3 client must do to know the same things). MLflow cannot read a file store
  from a bucket.

Repetitions are interleaved (rotating which goes first) after one uncounted warm-up; each
result's run and metric-point counts are checked. Medians, and pail's time over each peer's.

Usage: ``python benchmarks/runs_bench.py [--runs N] [--steps N] [--reps N] [--json]``.
This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import yaml
from moto.server import ThreadedMotoServer

from pail.drivers.local import LocalDriver
from pail.drivers.s3.driver import S3Driver
from pail.services.runs.detect import detect_runs

METRICS = ("loss", "val_loss", "accuracy", "learning_rate")
BUCKET = "bench-runs"


def file_store(runs: int, steps: int) -> dict[str, bytes]:
    """Keys under ``mlruns/`` -> bytes, as MLflow's FileStore writes an experiment of
    ``runs`` runs logging ``steps`` points of each metric."""
    rng = random.Random(7)
    files: dict[str, bytes] = {}
    exp = "1"
    files[f"mlruns/{exp}/meta.yaml"] = yaml.safe_dump(
        {"experiment_id": exp, "name": "bench", "lifecycle_stage": "active"},
        default_flow_style=False,
    ).encode()
    start = 1_790_000_000_000
    for n in range(runs):
        run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        base = f"mlruns/{exp}/{run_id}/"
        info = {
            "artifact_uri": f"file:///mlruns/{exp}/{run_id}/artifacts",
            "end_time": start + n * 3_600_000 + steps * 1000,
            "entry_point_name": "",
            "experiment_id": exp,
            "lifecycle_stage": "active",
            "run_id": run_id,
            "run_name": f"run-{n}",
            "run_uuid": run_id,
            "source_name": "",
            "source_type": 4,
            "source_version": "",
            "start_time": start + n * 3_600_000,
            "status": 3,
            "tags": [],
            "user_id": "bench",
        }
        files[base + "meta.yaml"] = yaml.safe_dump(info, default_flow_style=False).encode()
        for name, value in (("lr", "0.001"), ("batch_size", "64"), ("seed", str(n))):
            files[base + f"params/{name}"] = value.encode()
        files[base + "tags/mlflow.runName"] = f"run-{n}".encode()
        for metric in METRICS:
            lines = "".join(
                f"{start + n * 3_600_000 + s * 1000} {rng.random()} {s}\n" for s in range(steps)
            )
            files[base + f"metrics/{metric}"] = lines.encode()
        for i in range(3):
            files[base + f"artifacts/file-{i}.bin"] = b"x" * 256
    return files


def _points(runset: Any) -> int:
    return sum(len(points) for run in runset.runs for points in run.metrics.values())


def bench(tasks: dict[str, Callable[[], tuple[int, int]]], want: tuple[int, int], reps: int):
    names = list(tasks)
    times: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(reps + 1):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            began = time.perf_counter()
            got = tasks[name]()
            seconds = time.perf_counter() - began
            if got[0] != want[0] or (got[1] != -1 and got[1] != want[1]):
                raise SystemExit(f"{name}: {got} runs/points, expected {want}")
            if rep:
                times[name].append(seconds)
    return {n: statistics.median(t) for n, t in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files = file_store(args.runs, args.steps)
    want = (args.runs, args.runs * len(METRICS) * args.steps)

    # -- local folder ------------------------------------------------------------------------
    root = tempfile.mkdtemp(prefix="pail-runs-bench-")
    for key, body in files.items():
        path = os.path.join(root, BUCKET, *key.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(body)
    from mlflow.entities import ViewType
    from mlflow.store.tracking.file_store import FileStore

    store = FileStore(os.path.join(root, BUCKET, "mlruns"))

    def mlflow_table() -> tuple[int, int]:
        found = store.search_runs(["1"], "", ViewType.ALL, max_results=50_000)
        return len(found), -1

    def mlflow_histories() -> tuple[int, int]:
        found = store.search_runs(["1"], "", ViewType.ALL, max_results=50_000)
        points = sum(
            len(store.get_metric_history(run.info.run_id, metric))
            for run in found
            for metric in run.data.metrics
        )
        return len(found), points

    local = LocalDriver(root)

    def pail_local() -> tuple[int, int]:
        result = detect_runs(local, BUCKET, "mlruns/")
        return len(result.runs), _points(result)

    local_medians = bench(
        {
            "pail detect_runs": pail_local,
            "mlflow search_runs": mlflow_table,
            "mlflow search_runs + histories": mlflow_histories,
        },
        want,
        args.reps,
    )

    # -- S3 (moto over HTTP) -----------------------------------------------------------------
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    for key, body in files.items():
        backend.put_object(BUCKET, key, body)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    driver = S3Driver(client=client)

    def pail_s3() -> tuple[int, int]:
        result = detect_runs(driver, BUCKET, "mlruns/")
        return len(result.runs), _points(result)

    def raw_boto3() -> tuple[int, int]:
        keys = [
            obj["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix="mlruns/"
            )
            for obj in page.get("Contents", [])
        ]
        wanted = [k for k in keys if "/artifacts/" not in k and k.count("/") >= 3]

        def get(key: str) -> bytes:
            return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

        with ThreadPoolExecutor(8) as pool:
            bodies = dict(zip(wanted, pool.map(get, wanted), strict=True))
        runs = {k.split("/")[2] for k in wanted if k.endswith("/meta.yaml") and k.count("/") == 3}
        points = sum(b.count(b"\n") for k, b in bodies.items() if "/metrics/" in k)
        return len(runs), points

    s3_medians = bench(
        {"pail detect_runs": pail_s3, "raw boto3 (8 threads)": raw_boto3}, want, args.reps
    )
    server.stop()

    report = {
        "runs": args.runs,
        "metric_points": want[1],
        "objects": len(files),
        "local": local_medians,
        "s3": s3_medians,
        "ratios": {
            "local: pail / mlflow search_runs": local_medians["pail detect_runs"]
            / local_medians["mlflow search_runs"],
            "local: pail / mlflow search_runs + histories": local_medians["pail detect_runs"]
            / local_medians["mlflow search_runs + histories"],
            "s3: pail / raw boto3": s3_medians["pail detect_runs"]
            / s3_medians["raw boto3 (8 threads)"],
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{args.runs} runs, {want[1]:,} metric points, {len(files):,} objects; "
            f"medians of {args.reps}"
        )
        for where in ("local", "s3"):
            for name, seconds in report[where].items():
                print(f"  {where:5} {name:34} {seconds:7.3f} s")
        for name, ratio in report["ratios"].items():
            print(f"  {name:48} {ratio:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
