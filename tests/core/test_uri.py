"""parse_uri: the locations users type, and one-line errors for the ones that are wrong."""

from __future__ import annotations

import os

import pytest

from pail.core.uri import InvalidURI, Location, format_uri, parse_uri


@pytest.mark.parametrize(
    ("text", "provider", "bucket", "key"),
    [
        ("s3://bucket", "s3", "bucket", ""),
        ("s3://bucket/", "s3", "bucket", ""),
        ("s3://bucket/runs/", "s3", "bucket", "runs/"),
        ("s3://bucket/runs/r1/model.pt", "s3", "bucket", "runs/r1/model.pt"),
        ("s3a://data-lake/x", "s3", "data-lake", "x"),
        ("s3n://data-lake/x", "s3", "data-lake", "x"),
        ("S3://Legacy_Bucket/K", "s3", "Legacy_Bucket", "K"),
        ("gs://my_bucket/exp/", "gcs", "my_bucket", "exp/"),
        ("gcs://my-bucket/a.json", "gcs", "my-bucket", "a.json"),
        ("s3://b//double", "s3", "b", "/double"),  # a legal S3 key
        ("s3://b/a%20b", "s3", "b", "a%20b"),  # keys are literal, not URL-decoded
        ("s3://b/[bold]x[/]", "s3", "b", "[bold]x[/]"),
        ("s3://b/ünï/模型", "s3", "b", "ünï/模型"),
        ("s3://b/tab\there", "s3", "b", "tab\there"),
    ],
)
def test_bucket_uris(text: str, provider: str, bucket: str, key: str) -> None:
    loc = parse_uri(text)
    assert (loc.provider, loc.bucket, loc.key, loc.root) == (provider, bucket, key, None)


def test_uri_round_trip() -> None:
    assert parse_uri("gs://b/x/").uri == "gs://b/x/"
    assert parse_uri("s3a://b/x").uri == "s3://b/x"
    assert format_uri("gcs", "b", "k") == "gs://b/k"
    assert parse_uri("s3://b/x/").child("x/y.json") == Location("s3", "b", "x/y.json")


def test_1024_byte_key_is_accepted() -> None:
    key = "é" * 512  # 1,024 bytes of UTF-8
    assert parse_uri(f"s3://b/{key}").key == key


def test_local_folder_is_a_bucket(tmp_path) -> None:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    loc = parse_uri(str(folder))
    assert (loc.provider, loc.bucket, loc.key, loc.root) == ("local", "artifacts", "", str(folder))
    assert parse_uri(f"file://{folder}") == loc
    assert parse_uri(f"file://localhost{folder}") == loc
    assert loc.uri == f"file://{folder}"


def test_local_file_opens_its_folder(tmp_path) -> None:
    (tmp_path / "metrics.json").write_text("{}")
    loc = parse_uri(str(tmp_path / "metrics.json"))
    assert (loc.root, loc.key) == (str(tmp_path), "metrics.json")
    assert loc.uri == f"file://{tmp_path}/metrics.json"


def test_relative_and_home_paths(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    assert parse_uri("./runs").root == str(tmp_path / "runs")
    assert parse_uri("runs").root == str(tmp_path / "runs")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_uri("~/runs").root == str(tmp_path / "runs")


def test_file_uri_is_percent_decoded(tmp_path) -> None:
    folder = tmp_path / "a b"
    folder.mkdir()
    assert parse_uri(f"file://{tmp_path}/a%20b").root == str(folder)


def test_drive_letter_is_a_path_not_a_scheme() -> None:
    assert parse_uri("C:\\data").provider == "local"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "empty location"),
        ("   ", "empty location"),
        ("s3://", "missing bucket name"),
        ("gs:///key", "missing bucket name"),
        ("s3:/bucket", "two slashes"),
        ("s3:bucket", "two slashes"),
        ("ftp://host/x", "unsupported scheme 'ftp'"),
        ("http://host/x", "unsupported scheme 'http'"),
        ("s3://bu cket/x", "bucket name 'bu cket' contains ' '"),
        ("gs://[bold]/x", "contains '['"),
        ("s3://b?x", "contains '?'"),
        ("s3://b/a\nb", "control characters"),
        ("s3://b/esc\x1b[31m", "control characters"),
        ("s3://b/csi\x9b31m", "control characters"),
        ("s3://b/del\x7f", "control characters"),
        ("s3://b/nul\x00", "control characters"),
        ("s3://b/" + "k" * 1025, "at most 1,024 bytes"),
        ("file://relative/x", "absolute path"),
    ],
)
def test_malformed_uris_get_one_line_errors(text: str, names: str) -> None:
    with pytest.raises(InvalidURI) as err:
        parse_uri(text)
    message = str(err.value)
    assert names in message
    assert "\n" not in message and "\x1b" not in message and "\x9b" not in message
    assert len(message) < 200  # long input is shortened, not echoed whole
    assert isinstance(err.value, ValueError)


def test_error_names_the_input() -> None:
    with pytest.raises(InvalidURI, match=r"^'ftp://x/y': "):
        parse_uri("ftp://x/y")


def test_nul_in_plain_path() -> None:
    with pytest.raises(InvalidURI, match="control characters"):
        parse_uri("/tmp/a\x00b")


def test_plain_path_need_not_exist() -> None:
    loc = parse_uri("/definitely/not/here")
    assert (loc.provider, loc.root, loc.key) == ("local", "/definitely/not/here", "")
    assert os.path.basename(loc.root) == loc.bucket
