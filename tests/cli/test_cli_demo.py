"""`pail demo --serve` in a subprocess (its IAM switch is process-global), driven over HTTP.

The store runs with small sizes (PAIL_DEMO_SMALL=1: 1,500 shard keys, a 1 MiB large
object) and its local folder under a temporary XDG_CACHE_HOME.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pail.cli.main import EXIT_DENIED, EXIT_INTERRUPTED
from support.cli import pail_exe, run
from support.servers import s3_client


@dataclass
class Demo:
    endpoint: str
    admin: dict[str, str]
    readonly: dict[str, str]
    local_root: str
    proc: subprocess.Popen


def _keys(text: str) -> dict[str, str]:
    return dict(re.findall(r"(AWS_[A-Z_]+)=(\S+)", text))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    cache = tmp_path_factory.mktemp("cache")
    env = {**os.environ, "PAIL_DEMO_SMALL": "1", "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.Popen(
        [pail_exe(), "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = []
    try:
        for line in proc.stdout:  # ends early (EOF) if the process dies
            lines.append(line)
            if line.startswith("then:"):
                break
        text = "".join(lines)
        assert "then:" in text, (text, proc.poll())
        endpoint = re.search(r"pail demo store: (http://127\.0\.0\.1:\d+)", text).group(1)
        admin = _keys("\n".join(x for x in lines if x.startswith("export")))
        readonly = _keys("\n".join(x for x in lines if x.startswith("#   AWS")))
        local = re.search(r"local folder: (.+)", text).group(1)
        yield Demo(endpoint, admin, readonly, local, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _env(demo: Demo, keys: dict[str, str]) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": demo.endpoint,
        "AWS_ACCESS_KEY_ID": keys["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": keys["AWS_SECRET_ACCESS_KEY"],
    }


def test_demo_serves_on_loopback_with_its_buckets(demo):
    assert demo.endpoint.startswith("http://127.0.0.1:")
    result = run(["ls", "s3://"], env=_env(demo, demo.admin))
    assert result.exit_code == 0, result.stderr
    assert [line.split()[-1] for line in result.stdout.splitlines()] == [
        "ml-artifacts/",
        "team-models/",
        "ml-archive/",  # the source of the inventory report
        "inventory-reports/",  # its destination
    ]


def test_demo_layout_has_runs_artifacts_and_a_paged_prefix(demo):
    env = _env(demo, demo.admin)
    top = run(["ls", "s3://ml-artifacts/"], env=env)
    assert {"mlflow/", "datasets/", "zenml/"} <= {
        line.split()[-1] for line in top.stdout.splitlines()
    }
    rows = [
        json.loads(x)
        for x in run(
            ["ls", "-r", "--json", "s3://ml-artifacts/mlflow/"], env=env
        ).stdout.splitlines()
    ]
    names = {r["key"].split("/artifacts/", 1)[1] for r in rows if "/artifacts/" in r["key"]}
    # Each run is also an MLflow file store run (synced mlruns/): meta.yaml, params, metrics.
    store = {r["key"].split("/", 3)[3] for r in rows if r["key"].count("/") >= 3}
    assert {"meta.yaml", "params/learning_rate", "metrics/val_loss", "tags/mlflow.runName"} <= store
    assert {
        "params.json",
        "metrics.json",
        "train.log",
        "plots/loss_curve.png",
        "metrics/history.csv",
        "metrics/history.parquet",
        "model/data/model.safetensors",
        "eval/per_class/val/top5/summary.json",
    } <= names
    assert max(r["size"] for r in rows) >= 1 << 20  # the large checkpoint
    assert len({r["last_modified"][:10] for r in rows}) > 3  # runs on different days
    shards = run(["ls", "--json", "s3://ml-artifacts/datasets/imagenet-mini/shards/"], env=env)
    assert len(shards.stdout.splitlines()) == 1500  # more than one 1,000-key page


def test_demo_files_are_real_formats(demo):
    client = s3_client(
        demo.endpoint,
        aws_access_key_id=demo.admin["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=demo.admin["AWS_SECRET_ACCESS_KEY"],
    )
    keys = [
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket="ml-artifacts", Prefix="mlflow/1/"
        )
        for o in page["Contents"]
    ]

    def body(suffix: str) -> bytes:
        key = next(k for k in keys if k.endswith(suffix))
        return client.get_object(Bucket="ml-artifacts", Key=key)["Body"].read()

    assert body("loss_curve.png").startswith(b"\x89PNG\r\n\x1a\n")
    parquet = body("history.parquet")
    assert parquet[:4] == parquet[-4:] == b"PAR1"
    assert json.loads(body("params.json"))["optimizer"] == "adamw"
    assert len(body("train.log").splitlines()) > 200
    header_len = int.from_bytes(body("model.safetensors")[:8], "little")
    assert json.loads(body("model.safetensors")[8 : 8 + header_len])["fc.bias"]["dtype"] == "F16"


def test_readonly_keys_get_real_403s(demo):
    env = _env(demo, demo.readonly)
    listed = run(["ls", "s3://ml-artifacts/"], env=env)
    assert listed.exit_code == 0, listed.stderr
    denied = run(["ls", "s3://team-models/"], env=env)
    assert denied.exit_code == EXIT_DENIED
    assert "  Code: AccessDenied" in denied.stderr.splitlines()
    assert run(["ls", "s3://"], env=env).exit_code == EXIT_DENIED  # ListBuckets


def test_demo_local_folder_is_seeded(demo):
    result = run(["ls", "-r", demo.local_root])
    assert result.exit_code == 0, result.stderr
    assert "lightning-logs/lightning_logs/version_0/hparams.yaml" in result.stdout
    assert "hf-trainer/checkpoint-500/trainer_state.json" in result.stdout


def _first_key(client, prefix: str) -> str:
    page = client.list_objects_v2(Bucket="ml-artifacts", Prefix=prefix)
    return next(o["Key"] for o in page["Contents"] if o["Key"].endswith("params.json"))


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_presigned_urls_of_the_demo_store_answer_the_object(demo):
    client = s3_client(
        demo.endpoint,
        aws_access_key_id=demo.admin["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=demo.admin["AWS_SECRET_ACCESS_KEY"],
    )
    key = _first_key(client, "mlflow/2/")
    made = run(["url", f"s3://ml-artifacts/{key}"], env=_env(demo, demo.admin))
    assert made.exit_code == 0, made.stderr
    url = made.stdout.strip()
    assert "X-Amz-Signature=" in url
    status, body = _fetch(url)  # no credentials: the URL alone
    assert status == 200
    assert body == client.get_object(Bucket="ml-artifacts", Key=key)["Body"].read()
    tampered, answer = _fetch(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200"))
    assert tampered == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer
    anonymous, answer = _fetch(url.split("?", 1)[0])
    assert anonymous == 403 and b"<Code>AccessDenied</Code>" in answer


def test_presigned_urls_keep_the_read_only_users_limits(demo):
    env = _env(demo, demo.readonly)
    admin = s3_client(
        demo.endpoint,
        aws_access_key_id=demo.admin["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=demo.admin["AWS_SECRET_ACCESS_KEY"],
    )
    readable = _first_key(admin, "mlflow/1/")
    outside = _first_key(admin, "mlflow/2/")
    url = run(["url", f"s3://ml-artifacts/{readable}"], env=env).stdout.strip()
    assert _fetch(url)[0] == 200
    # `pail url` checks with HeadObject first, which the user may not do outside its
    # prefix; a URL signed with its keys is refused by the store the same way.
    reader = s3_client(
        demo.endpoint,
        aws_access_key_id=demo.readonly["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=demo.readonly["AWS_SECRET_ACCESS_KEY"],
    )
    denied = reader.generate_presigned_url(
        "get_object", Params={"Bucket": "ml-artifacts", "Key": outside}, ExpiresIn=60
    )
    status, answer = _fetch(denied)
    assert status == 403 and b"<Code>AccessDenied</Code>" in answer


def test_ctrl_c_stops_the_demo_quietly(demo):
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(timeout=30) == EXIT_INTERRUPTED
    # Only pail's own lines (the first start also generates the inventory report, and says
    # so): the server's request lines and the tracebacks of the requests refused above
    # (403s, a tampered URL) went to its log file, not to the terminal.
    lines = demo.proc.stderr.read().splitlines()
    assert lines[0] == "Starting the demo store on 127.0.0.1 …"
    assert all(line.startswith("demo inventory: ") for line in lines[1:]), lines
