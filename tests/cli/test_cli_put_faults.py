"""`pail put` as a real process under faults (the fault proxy in front of moto): Ctrl-C
(SIGINT) during a hung PutObject stops at once with exit 130 and nothing published; the
same command afterwards uploads it."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from support.cli import pail_exe, s3_args
from support.fault_proxy import Rule
from support.servers import s3_client

ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _wait(predicate, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_ctrl_c_during_a_hung_put_exits_130_and_the_rerun_uploads(
    s3_endpoint, bucket_name, faults, tmp_path
):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    (tmp_path / "a.bin").write_bytes(b"payload" * 1000)
    faults.add(Rule(method="PUT", path=r"/up/a\.bin$", action="hang", times=None))
    args = ["put", *s3_args(faults.url), str(tmp_path / "a.bin"), f"s3://{bucket_name}/up/"]
    proc = subprocess.Popen(
        [pail_exe(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=ENV,
        text=True,
    )
    try:
        _wait(
            lambda: any(
                r.method == "PUT" and r.path.endswith("/up/a.bin") for r in faults.requests
            ),
            30,
            "the PutObject to reach the proxy",
        )
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait(10)
    assert time.monotonic() - sent < 5  # functional bound: it does not wait out the hang
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert "Contents" not in client.list_objects_v2(Bucket=bucket_name)
    faults.reset()
    again = subprocess.run(
        [pail_exe(), *args], capture_output=True, text=True, env=ENV, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert client.get_object(Bucket=bucket_name, Key="up/a.bin")["Body"].read() == (
        b"payload" * 1000
    )
    assert again.stdout.startswith(f"uploaded {tmp_path / 'a.bin'} -> s3://{bucket_name}/up/a.bin")
