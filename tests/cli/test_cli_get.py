"""`pail get` and `pail url` against moto over HTTP and the installed executable."""

from __future__ import annotations

import os
import subprocess
import urllib.request

from support.cli import pail_exe, run, s3_args
from support.servers import seed_keys

RUN = {
    "runs/7/metrics.json": b'{"loss": 0.25}',
    "runs/7/model/weights.bin": b"\x00\x01" * 50_000,
    "runs/8/other.txt": b"other run",
}


def test_get_recursive_keeps_key_paths_and_prints_plain_lines(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, RUN)
    dest = tmp_path / "dest"
    result = run(["get", "-r", *s3_args(s3_endpoint), f"s3://{bucket_name}/runs/7/", str(dest)])
    assert result.exit_code == 0, result.stderr
    assert (dest / "metrics.json").read_bytes() == RUN["runs/7/metrics.json"]
    assert (dest / "model" / "weights.bin").read_bytes() == RUN["runs/7/model/weights.bin"]
    assert not (dest / "other.txt").exists()
    lines = sorted(result.stdout.splitlines())
    assert lines == [
        f"downloaded runs/7/metrics.json -> {dest.resolve()}/metrics.json (14 bytes, md5)",
        f"downloaded runs/7/model/weights.bin -> {dest.resolve()}/model/weights.bin "
        "(100000 bytes, md5)",
    ]
    assert "2 downloaded" in result.stderr
    assert "\r" not in result.stderr  # no progress line when stderr is not a terminal


def test_get_prefix_without_slash_and_single_objects(
    s3_endpoint, bucket_name, tmp_path, monkeypatch
):
    seed_keys(bucket_name, RUN)
    args = s3_args(s3_endpoint)
    result = run(["get", "-r", *args, f"s3://{bucket_name}/runs/7", str(tmp_path / "a")])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a" / "model" / "weights.bin").exists()
    monkeypatch.chdir(tmp_path)
    result = run(["get", *args, f"s3://{bucket_name}/runs/8/other.txt"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "other.txt").read_bytes() == b"other run"
    result = run(["get", *args, f"s3://{bucket_name}/runs/8/other.txt", str(tmp_path / "x.txt")])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "x.txt").read_bytes() == b"other run"


def test_get_prefix_needs_recursive(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, RUN)
    result = run(["get", *s3_args(s3_endpoint), f"s3://{bucket_name}/runs/", str(tmp_path)])
    assert result.exit_code == 2
    assert "use -r" in result.stderr and "Traceback" not in result.stderr


def test_get_existing_file_is_kept_unless_overwrite(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"d/a.txt": b"remote"})
    (tmp_path / "a.txt").write_bytes(b"local!")
    uri = f"s3://{bucket_name}/d/a.txt"
    kept = run(["get", *s3_args(s3_endpoint), uri, str(tmp_path)])
    assert kept.exit_code == 0, kept.stderr
    assert (tmp_path / "a.txt").read_bytes() == b"local!"
    assert "skipped d/a.txt" in kept.stdout and "--overwrite" in kept.stderr
    over = run(["get", "--overwrite", *s3_args(s3_endpoint), uri, str(tmp_path)])
    assert over.exit_code == 0, over.stderr
    assert (tmp_path / "a.txt").read_bytes() == b"remote"
    same = run(["get", *s3_args(s3_endpoint), uri, str(tmp_path)])
    assert "identical" in same.stdout


def test_get_refused_keys_fail_the_command_and_are_listed(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"p/../../escape": b"EVIL", "p/esc\x1b]0;x": b"EVIL", "p/ok": b"ok"})
    dest = tmp_path / "dest"
    result = run(["get", "-r", *s3_args(s3_endpoint), f"s3://{bucket_name}/p/", str(dest)])
    assert result.exit_code == 1
    assert "refused p/../../escape: '..' segment (never written)" in result.stderr
    assert "refused p/esc\\x1b]0;x: control character" in result.stderr
    assert "\x1b" not in result.stderr + result.stdout
    assert sorted(os.listdir(tmp_path)) == ["dest"] and os.listdir(dest) == ["ok"]


def test_get_missing_object_exits_not_found(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"x": b"1"})
    result = run(["get", *s3_args(s3_endpoint), f"s3://{bucket_name}/nope.bin", str(tmp_path)])
    assert result.exit_code == 3
    assert "HeadObject" in result.stderr and os.listdir(tmp_path) == []


def test_get_denied_listing_exits_4(moto_iam_server, tmp_path):
    user = moto_iam_server.users["nolist"]
    env = {"AWS_ACCESS_KEY_ID": user.access_key_id, "AWS_SECRET_ACCESS_KEY": user.secret_access_key}
    uri = f"s3://{moto_iam_server.bucket}/data/"
    result = run(["get", "-r", *s3_args(moto_iam_server.endpoint), uri, str(tmp_path)], env=env)
    assert result.exit_code == 4
    assert "AccessDenied" in result.stderr


def test_url_prints_a_working_presigned_url(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"m/model.pt": b"weights"})
    result = run(
        ["url", "--expires", "120", *s3_args(s3_endpoint), f"s3://{bucket_name}/m/model.pt"]
    )
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    assert "X-Amz-Expires=120" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"weights"
    missing = run(["url", *s3_args(s3_endpoint), f"s3://{bucket_name}/m/none"])
    assert missing.exit_code == 3


def test_installed_pail_get_plain_lines(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"logs/a.log": b"line\n"})
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    proc = subprocess.run(
        [
            pail_exe(),
            "get",
            "-r",
            *s3_args(s3_endpoint),
            f"s3://{bucket_name}/logs/",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"downloaded logs/a.log -> {tmp_path.resolve()}/a.log (5 bytes, md5)\n"
    assert (tmp_path / "a.log").read_bytes() == b"line\n"


def test_the_live_figures_show_no_rate_before_bytes_move(tmp_path):
    """`pail get`'s progress line: no "0 B/s" while nothing has arrived, a rate in
    pail.core.units.size_text's words once bytes move, and counts in the right number."""
    from pail.cli.get import _Display
    from pail.drivers.local import LocalDriver
    from pail.services.download import Downloader, plan_keys

    src = tmp_path / "src"
    src.mkdir()
    (src / "one.bin").write_bytes(b"x" * 4096)
    driver = LocalDriver(str(src), single_bucket=True)
    plan = plan_keys(driver, "src", ["one.bin"], str(tmp_path / "dest"))
    display = _Display(live=False)
    display.download = Downloader(driver, plan)
    before = display.figures()
    assert before["rate"] == "" and before["files"] == "0/1 file"
    display.download.run()
    after = display.figures()
    assert after["files"] == "1/1 file" and after["rate"].endswith("/s")
    assert "Bytes" not in after["rate"]
