"""``pail get`` as a real process under faults (the fault proxy in front of moto): killed
with SIGKILL mid-download and resumed, interrupted with Ctrl-C (SIGINT) during a hung
request, a connection that keeps resetting, and an object that cannot be verified."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from support.cli import pail_exe, s3_args
from support.fault_proxy import Rule
from support.servers import s3_client, seed_keys

MIB = 1024 * 1024
ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _body(size: int, salt: int = 0) -> bytes:
    block = hashlib.sha256(str(salt).encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [pail_exe(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=ENV,
        text=True,
    )


def _run(args: list[str], limit: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [pail_exe(), *args], capture_output=True, text=True, env=ENV, timeout=limit,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _recorded(dest: Path) -> int:
    """Bytes the partial's sidecar records as on disk (0 when there is none yet)."""
    for side in (dest / ".pail" / "partials").glob("*.json"):
        try:
            ranges = json.loads(side.read_text())["ranges"]
        except (OSError, ValueError, KeyError):
            return 0
        return sum(b - a for a, b in ranges)
    return 0


def _wait(predicate, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_sigkill_mid_download_then_the_rerun_fetches_only_what_is_missing(
    s3_endpoint, bucket_name, faults, tmp_path
):
    """A 70 MiB object goes in eight parallel parts (9 MiB, the last 7 MiB); the first
    part stalls after 5 MiB while the others complete; SIGKILL; the rerun asks only for
    the missing ranges and the file is the object, byte for byte."""
    size = 70 * MIB
    data = _body(size, salt=1)
    seed_keys(bucket_name, {"big/model.bin": data})
    faults.add(
        Rule(
            method="GET",
            path="/big/model.bin$",
            header=f"Range: bytes=0-{9 * MIB - 1}",
            action="stall",
            after=5 * MIB,
            times=None,
        )
    )
    dest = tmp_path / "d"
    args = ["get", *s3_args(faults.url), f"s3://{bucket_name}/big/model.bin", f"{dest}/"]
    proc = _start([*args, "--read-timeout", "60"])
    try:
        # The other parts (61 MiB) and at least 4 MiB of the stalled one are recorded.
        _wait(lambda: _recorded(dest) >= 61 * MIB + 4 * MIB, 60, "bytes on disk")
    finally:
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait(10)
    recorded = _recorded(dest)
    assert not (dest / "model.bin").exists()
    faults.reset()
    again = _run(args, 120)
    assert again.returncode == 0, again.stderr
    assert (dest / "model.bin").read_bytes() == data
    asked = 0
    for request in faults.requests:
        if request.method == "GET" and request.path.endswith("/big/model.bin"):
            first, last = request.headers["Range"].removeprefix("bytes=").split("-")
            asked += int(last) - int(first) + 1
    assert asked == size - recorded  # exactly the missing ranges, nothing twice
    assert f"{recorded} resumed" in again.stdout
    assert sorted(p.name for p in dest.iterdir()) == ["model.bin"]


def test_ctrl_c_during_a_hung_request_stops_at_once_and_resumes_later(
    s3_endpoint, bucket_name, faults, tmp_path
):
    data = _body(3 * MIB, salt=2)
    seed_keys(bucket_name, {"k/a.bin": data})
    faults.add(Rule(method="GET", path="/k/a.bin$", action="stall", after=MIB + 100, times=None))
    dest = tmp_path / "d"
    args = ["get", *s3_args(faults.url), f"s3://{bucket_name}/k/a.bin", f"{dest}/"]
    proc = _start(args)
    _wait(lambda: _recorded(dest) >= MIB, 30, "the first MiB on disk")
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 5  # functional bound: it does not wait out the stall
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert _recorded(dest) >= MIB
    faults.reset()
    again = _run(args, 60)
    assert again.returncode == 0, again.stderr
    assert (dest / "a.bin").read_bytes() == data


def test_resets_on_every_request_exit_6_with_one_error_and_no_traceback(
    s3_endpoint, bucket_name, faults, tmp_path
):
    seed_keys(bucket_name, {"k/a.bin": _body(2 * MIB, salt=3)})
    faults.add(Rule(method="GET", path="/k/a.bin$", action="reset", after=100, times=None))
    dest = tmp_path / "d"
    proc = _run(["get", *s3_args(faults.url), f"s3://{bucket_name}/k/a.bin", f"{dest}/"])
    assert proc.returncode == 6, proc.stderr
    assert "StreamInterrupted" in proc.stderr and "Traceback" not in proc.stderr
    assert not (dest / "a.bin").exists()


def test_unverifiable_object_fails_unless_allowed(s3_endpoint, bucket_name, faults, tmp_path):
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    data = _body(11 * MIB + 5, salt=4)
    upload = raw.create_multipart_upload(Bucket=bucket_name, Key="m/x.bin")
    parts = []
    for number, first in enumerate(range(0, len(data), 5 * MIB + 1), start=1):
        etag = raw.upload_part(
            Bucket=bucket_name, Key="m/x.bin", UploadId=upload["UploadId"], PartNumber=number,
            Body=data[first : first + 5 * MIB + 1],
        )["ETag"]  # fmt: skip
        parts.append({"PartNumber": number, "ETag": etag})
    raw.complete_multipart_upload(
        Bucket=bucket_name, Key="m/x.bin", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )  # fmt: skip
    faults.add(Rule(method="HEAD", query="partNumber", times=None, status=400))
    dest = tmp_path / "d"
    args = ["get", *s3_args(faults.url), f"s3://{bucket_name}/m/x.bin", f"{dest}/"]
    refused = _run(args, 120)
    assert refused.returncode == 1
    assert "1 not verified" in refused.stderr and "--allow-unverified" in refused.stderr
    assert not (dest / "x.bin").exists()
    allowed = _run([*args, "--allow-unverified"])
    assert allowed.returncode == 0, allowed.stderr
    assert "1 accepted unverified" in allowed.stderr
    assert (dest / "x.bin").read_bytes() == data
