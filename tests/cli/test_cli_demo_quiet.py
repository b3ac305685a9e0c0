"""The demo server never writes to the terminal it shares with the app: its request lines
and the tracebacks of requests that fail inside moto go to its log file.

Runs the demo store in a fresh interpreter (moto's IAM switch is process-global) and reads
that process's stdout and stderr whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, sys, time, urllib.error, urllib.request
from pail.demo.server import start_demo

store = start_demo(large_prefix_keys=10, large_object_bytes=1024, local_root=sys.argv[1])
requests = [
    # No credentials at all: S3 answers 403 (moto alone failed with a KeyError, a 500).
    urllib.request.Request(store.endpoint + "/ml-artifacts/notes.txt"),
    # A form body makes moto's reset-auth handler raise: a 500 and a traceback.
    urllib.request.Request(
        store.endpoint + "/moto-api/reset-auth",
        data=b"x=1",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
]
codes = []
for request in requests:
    try:
        urllib.request.urlopen(request, timeout=30).read()
        codes.append(200)
    except urllib.error.HTTPError as exc:
        codes.append(exc.code)
# werkzeug logs a failed request's traceback after it sent the 500, from the request's own
# (daemon) thread: give it a moment to land before the process ends.
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    with open(store.log_path) as fh:
        if "Traceback" in fh.read():
            break
    time.sleep(0.05)
store.stop()
with open(sys.argv[2], "w") as fh:
    json.dump({"codes": codes, "log": store.log_path}, fh)
"""


def test_failing_requests_write_nothing_to_stdout_or_stderr(tmp_path):
    out = tmp_path / "out.json"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "local"), str(out)],
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stdout == b""
    assert proc.stderr == b""
    result = json.loads(out.read_text())
    assert result["codes"] == [403, 500]
    assert result["log"] == str(tmp_path / "cache" / "pail" / "demo-server.log")
    log = (tmp_path / "cache" / "pail" / "demo-server.log").read_text()
    assert "Traceback" in log and "/moto-api/reset-auth" in log  # it went here instead
