"""Run diff (pail.services.runs.diff): params, metrics, files, tensors and config files of
two runs in real stores (a local folder, moto over HTTP, moto behind the fault proxy), and
finding a run from its folder (MLflow layouts)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path

import pytest
import yaml

from pail.core.connection import ConnectionSpec
from pail.drivers.base import ObjectChecksums, StorageDriver
from pail.drivers.local import LocalDriver
from pail.drivers.registry import open_driver
from pail.services.runs.diff import (
    DiffCancelled,
    DiffLimits,
    NotARunFolder,
    UnknownRun,
    compare_metrics,
    diff_json,
    diff_runs,
    diff_values,
    flatten,
    judge_checksums,
    path_labels,
    resolve_run,
    runs_by_id,
)
from pail.services.runs.model import MetricPoint, NoRunsFound, Run
from support.servers import s3_client, seed_keys
from support.stores import npy, safetensors

RUN_A = "0123456789abcdef0123456789abcdef"
RUN_B = "fedcba9876543210fedcba9876543210"


def _run(run_id: str, *prefixes: str, **fields: object) -> Run:
    return Run(run_id, run_id, "mlflow", tuple(prefixes), **fields)  # type: ignore[arg-type]


def _local(tmp_path: Path, files: dict[str, bytes]) -> LocalDriver:
    """A local store with bucket ``b`` holding ``files``."""
    for key, data in files.items():
        path = tmp_path / "store" / "b" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (tmp_path / "store" / "b").mkdir(parents=True, exist_ok=True)
    return LocalDriver(str(tmp_path / "store"))


def _s3(endpoint: str) -> StorageDriver:
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec)


class Counting:
    """One of pail's drivers, counting object_checksums calls (every other call passes)."""

    def __init__(self, inner: StorageDriver) -> None:
        self.inner, self.provider, self.lookups = inner, inner.provider, 0

    def object_checksums(self, bucket, key, *, version_id=None):
        self.lookups += 1
        return self.inner.object_checksums(bucket, key, version_id=version_id)

    def __getattr__(self, name):
        return getattr(self.inner, name)


# --- params and metrics ---------------------------------------------------------------------


def test_params_added_removed_changed():
    keys = diff_values(
        {"lr": "0.1", "bs": "32", "seed": "1"}, {"lr": "0.01", "opt": "adam", "seed": "1"}
    )
    assert [(c.name, c.a, c.b, c.kind) for c in keys.changed] == [("lr", "0.1", "0.01", "changed")]
    assert [(c.name, c.a, c.b, c.kind) for c in keys.added] == [("opt", None, "adam", "added")]
    assert [(c.name, c.a, c.b, c.kind) for c in keys.removed] == [("bs", "32", None, "removed")]
    assert keys.same == 1 and keys.differs
    assert not diff_values({"x": "1"}, {"x": "1"}).differs


def test_metrics_side_by_side_with_deltas_and_modes():
    def points(*values: float) -> list[MetricPoint]:
        return [MetricPoint(step, value) for step, value in enumerate(values)]

    a = _run("a", "a/", metrics={"val_loss": points(1.0, 0.5, 0.6), "acc": points(0.7, 0.8)})
    b = _run(
        "b", "b/", metrics={"val_loss": points(0.9, 0.4), "acc": points(0.6), "f1": points(0.3)}
    )
    by_name = {m.name: m for m in compare_metrics(a, b)}
    assert list(by_name) == ["acc", "f1", "val_loss"]
    loss = by_name["val_loss"]
    assert (loss.mode, loss.final_a, loss.final_b, loss.best_a, loss.best_b) == (
        "min",
        0.6,
        0.4,
        0.5,
        0.4,
    )
    assert loss.delta_final == pytest.approx(-0.2) and loss.delta_best == pytest.approx(-0.1)
    assert loss.b_better is True  # lower loss
    acc = by_name["acc"]
    assert acc.mode == "max" and acc.best_a == 0.8 and acc.best_b == 0.6 and acc.b_better is False
    f1 = by_name["f1"]
    assert f1.final_a is None and f1.delta_final is None and f1.b_better is None


# --- files ----------------------------------------------------------------------------------


def test_files_in_a_local_folder(tmp_path):
    driver = _local(
        tmp_path,
        {
            "r/a/same.txt": b"same",
            "r/b/same.txt": b"same",
            "r/a/edited.txt": b"v1",
            "r/b/edited.txt": b"v2",
            "r/a/grown.bin": b"12",
            "r/b/grown.bin": b"1234",
            "r/a/gone.txt": b"x",
            "r/b/new/thing.txt": b"y",
        },
    )
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"))
    states = {e.path: (e.state, e.checksum) for e in diff.files.entries}
    assert states == {
        "edited.txt": ("checksum_differs", "SHA256"),
        "gone.txt": ("only_a", None),
        "grown.bin": ("size_differs", None),
        "new/thing.txt": ("only_b", None),
        "same.txt": ("identical", "SHA256"),
    }
    files = diff.files
    assert (files.objects_a, files.objects_b, files.bytes_a, files.bytes_b) == (4, 4, 9, 11)
    assert files.complete and not files.notes and not files.errors
    assert diff.uri_a == f"file://{tmp_path}/store/b/r/a/"


def test_modelkit_versions_stored_as_single_objects_line_up(tmp_path):
    """A modelkit version is one data object and its .meta (Run.keys, no prefix): both
    are listed, under the same paths for two versions."""
    from datetime import datetime, timezone

    from pail.services.runs.detect import detect_runs
    from support.run_layouts import modelkit_asset, write_folder

    when = {v: datetime(2026, 11, d, tzinfo=timezone.utc) for v, d in (("0.1", 1), ("0.2", 2))}
    files = modelkit_asset("assets", "vocab", {"0.1": b"a b c", "0.2": b"a b c d"}, when)
    write_folder(tmp_path / "store" / "b", files)
    driver = LocalDriver(str(tmp_path / "store"))
    found = detect_runs(driver, "b", "assets/")
    v1, v2 = (found.by_id("vocab/0.1"), found.by_id("vocab/0.2"))
    assert v1 is not None and v2 is not None and v1.keys and not v1.prefixes
    diff = diff_runs(driver, "b", v1, driver, "b", v2)
    states = {e.path: e.state for e in diff.files.entries}
    assert states == {"version": "size_differs", "version.meta": "checksum_differs"}


def test_plain_md5_etags_settle_identity_without_lookups(s3_endpoint, bucket_name):
    seed_keys(
        bucket_name,
        {"a/same.bin": b"same", "b/same.bin": b"same", "a/edit.bin": b"v1", "b/edit.bin": b"v2"},
    )
    driver = Counting(_s3(s3_endpoint))
    diff = diff_runs(driver, bucket_name, _run("a", "a/"), driver, bucket_name, _run("b", "b/"))
    states = {e.path: (e.state, e.checksum) for e in diff.files.entries}
    assert states == {
        "same.bin": ("identical", "ETag (MD5)"),
        # Differing MD5-looking ETags are confirmed by HeadObject (an SSE-KMS ETag is no MD5).
        "edit.bin": ("checksum_differs", "ETag (MD5)"),
    }
    assert driver.lookups == 2  # edit.bin in each run; same.bin needed none


def _multipart(endpoint: str, bucket: str, key: str, data: bytes, part: int) -> str:
    raw = s3_client(endpoint)
    upload = raw.create_multipart_upload(Bucket=bucket, Key=key)
    parts = []
    for number, first in enumerate(range(0, len(data), part), start=1):
        etag = raw.upload_part(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number,
            Body=data[first : first + part],
        )["ETag"]  # fmt: skip
        parts.append({"PartNumber": number, "ETag": etag})
    done = raw.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    return done["ETag"].strip('"')


def test_multipart_etags_never_prove_identity(s3_endpoint, bucket_name, monkeypatch):
    """The same bytes uploaded in parts on one side and whole on the other (and in parts
    on both) have no checksum both sides share: same size, not comparable, never
    "identical" nor "differs"."""
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)  # small parts
    data = bytes(range(200)) * 5
    seed_keys(bucket_name, {"b/one.bin": data})
    assert _multipart(s3_endpoint, bucket_name, "a/one.bin", data, 300).endswith("-4")
    _multipart(s3_endpoint, bucket_name, "a/two.bin", data, 500)
    _multipart(s3_endpoint, bucket_name, "b/two.bin", data, 500)
    driver = _s3(s3_endpoint)
    diff = diff_runs(driver, bucket_name, _run("a", "a/"), driver, bucket_name, _run("b", "b/"))
    for entry in diff.files.entries:
        assert entry.state == "not_comparable", entry
        assert entry.note is not None and "checksum not comparable" in entry.note
    assert "multipart ETag" in diff.files.entries[0].note


def test_store_checksums_compare_across_stores(s3_endpoint, bucket_name, tmp_path):
    """A local file's SHA-256 and an S3 object's full-object SHA256 checksum are the same
    algorithm: the same bytes are identical across stores, other bytes differ; an object
    without that checksum is not comparable."""
    local = _local(tmp_path, {"r/m.bin": b"model-1", "r/x.bin": b"xxx", "r/n.bin": b"nnn"})
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    for key, body in (("s/m.bin", b"model-1"), ("s/x.bin", b"yyy")):
        raw.put_object(Bucket=bucket_name, Key=key, Body=body, ChecksumAlgorithm="SHA256")
    raw.put_object(Bucket=bucket_name, Key="s/n.bin", Body=b"nnn")  # no checksum stored
    s3 = _s3(s3_endpoint)
    diff = diff_runs(local, "b", _run("a", "r/"), s3, bucket_name, _run("b", "s/"))
    states = {e.path: (e.state, e.checksum) for e in diff.files.entries}
    assert states["m.bin"] == ("identical", "SHA256")
    assert states["x.bin"] == ("checksum_differs", "SHA256")
    assert states["n.bin"][0] == "not_comparable"


def _sums(value: str, kind: str | None = "FULL_OBJECT", **more: object) -> ObjectChecksums:
    return ObjectChecksums(size=3, checksums={"SHA256": value}, checksum_type=kind, **more)  # type: ignore[arg-type]


def test_judging_checksums():
    assert judge_checksums(_sums("x"), _sums("x"))[:2] == ("identical", "SHA256")
    assert judge_checksums(_sums("x"), _sums("y"))[:2] == ("checksum_differs", "SHA256")
    # Composite values depend on the part sizes: equal proves identity, different does not
    # prove a difference.
    assert judge_checksums(_sums("x-2", "COMPOSITE"), _sums("x-2", "COMPOSITE"))[0] == "identical"
    assert judge_checksums(_sums("x-2", "COMPOSITE"), _sums("y-3", "COMPOSITE"))[0] == (
        "not_comparable"
    )
    # ETags count only when both stores say they are plain MD5s.
    md5 = hashlib.md5(b"abc").hexdigest()
    plain = ObjectChecksums(size=3, etag=md5, etag_is_md5=True)
    kms = ObjectChecksums(size=3, etag=md5, etag_is_md5=False)
    other = ObjectChecksums(size=3, etag=hashlib.md5(b"abd").hexdigest(), etag_is_md5=True)
    assert judge_checksums(plain, plain)[:2] == ("identical", "ETag (MD5)")
    assert judge_checksums(plain, other)[:2] == ("checksum_differs", "ETag (MD5)")
    assert judge_checksums(plain, kms)[0] == "not_comparable"
    sha = base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    assert judge_checksums(_sums(sha), plain)[0] == "not_comparable"


def test_checksum_lookups_are_bounded(tmp_path):
    files = {f"r/{side}/f{i}.txt": f"{side}{i}".encode() for side in "ab" for i in range(5)}
    driver = Counting(_local(tmp_path, files))
    limits = DiffLimits(max_checksums=2)
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"), limits=limits)
    assert driver.lookups == 4  # two pairs, one lookup on each side
    states = [e.state for e in diff.files.entries]
    assert states.count("checksum_differs") == 2 and states.count("not_comparable") == 3
    skipped = [e for e in diff.files.entries if e.state == "not_comparable"]
    assert all("at most 2 lookups per run" in (e.note or "") for e in skipped)


def test_local_hashing_is_bounded(tmp_path):
    driver = _local(tmp_path, {"r/a/big.bin": b"a" * 5000, "r/b/big.bin": b"b" * 5000})
    limits = DiffLimits(max_hash_bytes=4096)
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"), limits=limits)
    (entry,) = diff.files.entries
    assert entry.state == "not_comparable" and "hashed up to 4.0 KiB" in (entry.note or "")


def test_listing_limit_and_failure_never_claim_files_only_in_one(tmp_path):
    driver = _local(tmp_path, {f"r/{s}/f{i}.txt": b"x" for s in "ab" for i in range(4)})
    limits = DiffLimits(max_objects=2)
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"), limits=limits)
    assert not diff.files.complete
    assert {e.path: e.state for e in diff.files.entries} == {
        "f0.txt": "identical",
        "f1.txt": "identical",
    }
    assert "run a: only the first 2 objects were listed" in diff.files.notes
    # Run a in a bucket that does not exist: its listing fails, and none of b's files is
    # said to be only in b.
    failed = diff_runs(driver, "nope", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"))
    assert failed.files.entries == [] and not failed.files.complete
    assert failed.files.errors and failed.files.errors[0].startswith("run a: listing")
    assert "4 files of run b not compared: run a's listing is incomplete" in failed.files.notes


def test_several_prefixes_line_up_by_their_group(tmp_path):
    """A run with several prefixes (a ZenML pipeline run's step outputs) names its paths by
    each prefix's artifact group, so two runs' step outputs meet at the same path."""
    driver = _local(
        tmp_path,
        {
            "z/train/model/u1/1/model.bin": b"m1",
            "z/eval/report/u2/1/r.json": b"{}",
            "z/train/model/u3/1/model.bin": b"m2",
            "z/eval/report/u4/1/r.json": b"{}",
        },
    )
    a = _run(
        "a", "z/train/model/u1/", "z/eval/report/u2/",
        groups={"train/model": "z/train/model/u1/", "eval/report": "z/eval/report/u2/"},
    )  # fmt: skip
    b = _run(
        "b", "z/train/model/u3/", "z/eval/report/u4/",
        groups={"train/model": "z/train/model/u3/", "eval/report": "z/eval/report/u4/"},
    )  # fmt: skip
    diff = diff_runs(driver, "b", a, driver, "b", b)
    assert {e.path: e.state for e in diff.files.entries} == {
        "eval/report/1/r.json": "identical",
        "train/model/1/model.bin": "checksum_differs",
    }
    # Without groups naming them apart, the prefixes relative to their common parent.
    assert path_labels(_run("c", "z/x/u1/", "z/y/u2/")) == {"z/x/u1/": "x/u1/", "z/y/u2/": "y/u2/"}
    assert path_labels(_run("d", "z/x/")) == {"z/x/": ""}


# --- tensors --------------------------------------------------------------------------------


def test_tensor_headers_only_in_one_and_changed(tmp_path):
    fill = 1024 * 1024  # tensor data that must not be read
    driver = _local(
        tmp_path,
        {
            "r/a/model.safetensors": safetensors(
                {"w": ("F32", [4, 4]), "b": ("F32", [4]), "old": ("F16", [2]), "h": ("F16", [8])},
                fill=fill,
            ),
            "r/b/model.safetensors": safetensors(
                {"w": ("F32", [4, 8]), "b": ("F32", [4]), "new": ("I64", [1]), "h": ("BF16", [8])},
                fill=fill,
            ),
            "r/a/emb.npy": npy("<f4", (10, 3), data=120),
            "r/b/emb.npy": npy("<f4", (12, 3), data=144),
        },
    )
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"))
    by_path = {t.path: t for t in diff.tensors}
    st = by_path["model.safetensors"]
    assert (st.format, st.tensors_a, st.tensors_b, st.same, st.note) == (
        "safetensors",
        4,
        4,
        1,
        None,
    )
    assert [(c.name, c.dtype_a, c.dtype_b, c.shape_a, c.shape_b) for c in st.changed] == [
        ("h", "F16", "BF16", (8,), (8,)),
        ("w", "F32", "F32", (4, 4), (4, 8)),
    ]
    assert [(c.name, c.dtype_a, c.shape_a) for c in st.only_a] == [("old", "F16", (2,))]
    assert [(c.name, c.dtype_b, c.shape_b) for c in st.only_b] == [("new", "I64", (1,))]
    arr = by_path["emb.npy"]
    assert arr.format == "npy" and [(c.shape_a, c.shape_b) for c in arr.changed] == [
        ((10, 3), (12, 3))
    ]
    # Only the headers were read (by range), never the megabyte of data behind them.
    assert 0 < diff.bytes_read < 3 * 4096 + 2 * 1024


def test_tensor_headers_bounded_and_malformed(tmp_path):
    files = {}
    for i in range(3):
        files[f"r/a/t{i}.npy"] = npy("<f4", (i + 1,), data=4 * (i + 1))
        files[f"r/b/t{i}.npy"] = npy("<f8", (i + 1,), data=8 * (i + 1))
    files["r/a/bad.safetensors"] = b"\xff" * 64
    files["r/b/bad.safetensors"] = b"\xfe" * 64
    driver = _local(tmp_path, files)
    limits = DiffLimits(max_tensor_files=3)
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"), limits=limits)
    assert [t.path for t in diff.tensors] == ["bad.safetensors", "t0.npy", "t1.npy"]
    bad = diff.tensors[0]
    assert (
        not bad.differs and bad.note is not None and bad.note.startswith("run a: header not read")
    )
    assert "tensor headers compared for the first 3 files of 4" in diff.notes


# --- config files ---------------------------------------------------------------------------


def test_config_files_key_by_key(tmp_path):
    config_a = {"lr": 0.1, "model": {"layers": [64, 32], "act": "relu"}, "drop": None, "gone": 1}
    config_b = {"lr": 0.01, "model": {"layers": [64, 32, 16], "act": "relu"}, "drop": 0.1}
    driver = _local(
        tmp_path,
        {
            "r/a/config.json": json.dumps(config_a).encode(),
            "r/b/config.json": json.dumps(config_b).encode(),
            "r/a/hparams.yaml": b"lr: 0.1\noptimizer: !!python/name:torch.optim.Adam ''\n",
            "r/b/hparams.yaml": b"lr: 0.1\noptimizer: !!python/name:torch.optim.SGD ''\n",
            "r/a/model/MLmodel": yaml.safe_dump({"flavors": {"pytorch": {"v": "2.1"}}}).encode(),
            "r/b/model/MLmodel": yaml.safe_dump({"flavors": {"pytorch": {"v": "2.2"}}}).encode(),
            "r/a/same.yaml": b"a: 1\n",
            "r/b/same.yaml": b"a: 1\n",
            "r/a/broken.json": b"{not json",
            "r/b/broken.json": b"{not json!",
        },
    )
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"))
    by_path = {c.path: c for c in diff.configs}
    assert "same.yaml" not in by_path  # proven identical: nothing to read
    keys = by_path["config.json"].keys
    assert [(c.name, c.a, c.b) for c in keys.changed] == [
        ("drop", "null", "0.1"),
        ("lr", "0.1", "0.01"),
    ]
    assert [(c.name, c.b) for c in keys.added] == [("model.layers[2]", "16")]
    assert [(c.name, c.a) for c in keys.removed] == [("gone", "1")]
    assert keys.same == 3  # model.layers[0], model.layers[1], model.act
    # A Python tag is read as the plain value under it, never constructed.
    assert [(c.name, c.a, c.b) for c in by_path["hparams.yaml"].keys.changed] == [
        ("optimizer", '"!!python/name:torch.optim.Adam"', '"!!python/name:torch.optim.SGD"')
    ]
    assert [(c.name, c.a, c.b) for c in by_path["model/MLmodel"].keys.changed] == [
        ("flavors.pytorch.v", '"2.1"', '"2.2"')
    ]
    broken = by_path["broken.json"]
    assert broken.note is not None and broken.note.startswith("run a: not valid JSON")


def test_config_files_bounded_in_size(tmp_path):
    driver = _local(
        tmp_path, {"r/a/big.json": b'{"a": "' + b"x" * 3000 + b'"}', "r/b/big.json": b"{}"}
    )
    limits = DiffLimits(max_config_bytes=1024)
    diff = diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"), limits=limits)
    (config,) = diff.configs
    assert config.note == "run a: 2.9 KiB, larger than the 1.0 KiB read"
    assert diff.bytes_read == 0


def test_flatten():
    assert flatten({"a": {"b": [1, {"c": None}], "e": {}, "f": []}, "g": "x"}) == {
        "a.b[0]": "1",
        "a.b[1].c": "null",
        "a.e": "{}",
        "a.f": "[]",
        "g": '"x"',
    }
    assert flatten(3) == {"": "3"}


# --- errors, cancel, JSON -------------------------------------------------------------------


def test_storage_errors_on_one_file_are_notes(faults, bucket_name):
    from support.fault_proxy import Rule

    files = {
        "a/w.safetensors": safetensors({"w": ("F32", [2])}),
        "b/w.safetensors": safetensors({"w": ("F16", [4])}),
        "a/c.json": b'{"x": 1}',
        "b/c.json": b'{"x": 22}',
        "a/ok.json": b'{"y": 1}',
        "b/ok.json": b'{"y": 2}',
    }
    seed_keys(bucket_name, files)
    faults.add(Rule(method="GET", path=r"/b/w\.safetensors$", status=403, times=None))
    faults.add(Rule(method="GET", path=r"/b/c\.json$", status=403, times=None))
    faults.add(Rule(method="HEAD", path=r"/b/ok\.json$", status=403, times=None))
    driver = _s3(faults.url)
    diff = diff_runs(driver, bucket_name, _run("a", "a/"), driver, bucket_name, _run("b", "b/"))
    (tensor,) = diff.tensors
    assert tensor.note is not None and tensor.note.startswith("run b: header not read")
    config = {c.path: c for c in diff.configs}
    assert (config["c.json"].note or "").startswith("run b: not read")
    assert [(c.name, c.a, c.b) for c in config["ok.json"].keys.changed] == [("y", "1", "2")]
    ok = next(e for e in diff.files.entries if e.path == "ok.json")
    assert ok.state == "not_comparable" and "checksum lookup failed" in (ok.note or "")
    assert diff.files.complete


def test_cancel(tmp_path):
    driver = _local(tmp_path, {"r/a/x": b"1", "r/b/x": b"2"})
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DiffCancelled):
        diff_runs(driver, "b", _run("a", "r/a/"), driver, "b", _run("b", "r/b/"), cancel=cancel)


def test_json_document_is_plain_json(tmp_path):
    driver = _local(
        tmp_path, {"r/a/x.npy": npy("<f4", (2,), data=8), "r/b/x.npy": npy("<f4", (3,), data=12)}
    )
    a = _run("a", "r/a/", params={"lr": "1"}, metrics={"loss": [MetricPoint(0, float("inf"))]})
    b = _run("b", "r/b/", params={"lr": "2"}, metrics={"loss": [MetricPoint(0, 1.0)]})
    doc = diff_json(diff_runs(driver, "b", a, driver, "b", b))
    text = json.dumps(doc, allow_nan=False)  # no NaN/Infinity tokens
    back = json.loads(text)
    assert back["a"]["id"] == "a" and back["a"]["prefixes"] == ["r/a/"]
    assert back["params"]["changed"] == [{"name": "lr", "a": "1", "b": "2"}]
    assert back["metrics"][0]["final_a"] == "inf" and back["metrics"][0]["delta_final"] == "-inf"
    assert back["files"]["counts"]["size_differs"] == 1
    assert back["tensors"][0]["changed"][0]["shape_b"] == [3]


# --- which runs (MLflow layouts) ------------------------------------------------------------


def _file_store_run(exp: str, run_id: str, name: str, params: dict[str, str], loss: list[float]):
    prefix = f"mlruns/{exp}/{run_id}/"
    meta = {"run_id": run_id, "run_name": name, "status": 3, "start_time": 1767225600000,
            "end_time": 1767229200000, "experiment_id": exp}  # fmt: skip
    files = {f"{prefix}meta.yaml": yaml.safe_dump(meta).encode()}
    files.update({f"{prefix}params/{k}": v.encode() for k, v in params.items()})
    lines = "".join(f"{1767225600000 + i} {v} {i}\n" for i, v in enumerate(loss))
    files[f"{prefix}metrics/val_loss"] = lines.encode()
    files[f"{prefix}artifacts/model/config.json"] = json.dumps(params).encode()
    return files


def test_resolve_run_from_its_folder(s3_endpoint, bucket_name):
    seed_keys(
        bucket_name,
        {
            **_file_store_run("1", RUN_A, "lr-small", {"lr": "0.001"}, [1.0, 0.5]),
            **_file_store_run("1", RUN_B, "lr-big", {"lr": "0.01"}, [0.9, 0.7]),
            "mlruns/1/meta.yaml": yaml.safe_dump({"name": "exp", "experiment_id": "1"}).encode(),
            "other/readme.txt": b"no runs here",
        },
    )
    driver = _s3(s3_endpoint)
    run = resolve_run(driver, bucket_name, f"mlruns/1/{RUN_A}/")
    assert (run.id, run.name, run.params, run.final("val_loss")) == (
        RUN_A, "lr-small", {"lr": "0.001"}, 0.5
    )  # fmt: skip
    inside = resolve_run(driver, bucket_name, f"mlruns/1/{RUN_B}/artifacts")
    assert inside.id == RUN_B and inside.params == {"lr": "0.01"}
    with pytest.raises(NotARunFolder, match="it holds 2 runs"):
        resolve_run(driver, bucket_name, "mlruns/1/")
    with pytest.raises(NoRunsFound):
        resolve_run(driver, bucket_name, "other/")
    a, b = runs_by_id(driver, bucket_name, "mlruns/", ["lr-small", RUN_B])
    assert (a.id, b.id, a.params, b.params) == (RUN_A, RUN_B, {"lr": "0.001"}, {"lr": "0.01"})
    with pytest.raises(UnknownRun, match="no run 'nope'"):
        runs_by_id(driver, bucket_name, "mlruns/", ["nope", RUN_B])
    with pytest.raises(NoRunsFound):
        runs_by_id(driver, bucket_name, "other/", ["x", "y"])
    diff = diff_runs(driver, bucket_name, a, driver, bucket_name, b)
    assert [(c.name, c.a, c.b) for c in diff.params.changed] == [("lr", "0.001", "0.01")]
    (loss,) = diff.metrics
    assert (loss.final_a, loss.final_b, loss.b_better) == (0.5, 0.7, False)
    config = {c.path: c for c in diff.configs}["artifacts/model/config.json"]
    assert [(c.name, c.a, c.b) for c in config.keys.changed] == [("lr", '"0.001"', '"0.01"')]
