"""Presigned URLs, copy commands and viewer commands for an object (object_links)."""

from __future__ import annotations

import shlex
import urllib.request

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services.object_links import (
    copy_command,
    looks_textual,
    presigned_url,
    shell_quote,
    system_opener,
)
from support.servers import seed_keys


def test_presigned_url_reads_the_object(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"a/b c.json": b"{}"})
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    url = presigned_url(open_driver(spec), bucket_name, "a/b c.json", 300)
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"{}"


def test_copy_commands_are_quoted_per_provider():
    assert copy_command("s3", "b", "runs/7/model.pt") == "aws s3 cp s3://b/runs/7/model.pt ."
    assert (
        copy_command("s3", "b", "a b/it's", "out", endpoint_url="http://127.0.0.1:9000")
        == "aws s3 cp 's3://b/a b/it'\"'\"'s' out --endpoint-url http://127.0.0.1:9000"
    )
    assert copy_command("gcs", "g", "x.txt") == "gcloud storage cp gs://g/x.txt ."
    assert copy_command("local", "b", "d/f", root="/data/b") == "cp -- /data/b/d/f ."
    argv = shlex.split(copy_command("s3", "b", "a; rm -rf ~"))
    assert argv[3] == "s3://b/a; rm -rf ~"  # one argument, never a second command


def test_control_characters_never_reach_the_clipboard_raw():
    quoted = shell_quote("evil\x1b]52;c;x\x07\nname's")
    assert quoted == "$'evil\\x1b]52;c;x\\x07\\x0aname\\'s'"
    assert not any(ord(ch) < 0x20 for ch in copy_command("s3", "b", "k\x1b[2J"))


def test_text_is_told_from_binary(tmp_path):
    text = tmp_path / "train.log"
    text.write_text("epoch 1\n")
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"\x00\x01\x02")
    assert looks_textual(str(text)) and not looks_textual(str(blob))
    assert system_opener("darwin") == ["open"] and system_opener("linux") == ["xdg-open"]
