"""`pail put`, `pail cp` and `pail mv` against real servers: moto over HTTP, SeaweedFS, the
GCS emulator, moto with IAM on, and the fault proxy."""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest

from support.cli import run, s3_args
from support.servers import gcs_client, s3_client, seed_keys

FILES = {
    "metrics.json": b'{"loss": 0.25}\n',
    "model/weights.bin": bytes(range(256)) * 400,
    "notes.txt": b"a run\n",
}


def make_folder(root, files=FILES):
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def keys_of(client, bucket, prefix=""):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def body_of(client, bucket, key):
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


VERIFIED = re.compile(r"verified: ((?:\d+ [a-z0-9-]+(?:, )?)+)")


def verified_counts(stderr):
    """{"md5": 2, "crc64nvme": 1} from the summary's ``verified: ...`` part."""
    match = VERIFIED.search(stderr)
    assert match, stderr
    counts = {}
    for part in match.group(1).split(", "):
        n, method = part.split(" ")
        counts[method] = int(n)
    return counts


# -- put ------------------------------------------------------------------------------------


def test_put_folder_recursive_uploads_verified_bytes_under_its_name(
    s3_endpoint, bucket_name, tmp_path
):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    run7 = make_folder(tmp_path / "run7")
    result = run(["put", "-r", *s3_args(s3_endpoint), str(run7), f"s3://{bucket_name}/runs/"])
    assert result.exit_code == 0, result.stderr
    assert keys_of(client, bucket_name) == sorted(f"runs/run7/{rel}" for rel in FILES)
    for rel, body in FILES.items():
        assert body_of(client, bucket_name, f"runs/run7/{rel}") == body
    lines = sorted(result.stdout.splitlines())
    assert len(lines) == 3
    for line, rel in zip(lines, sorted(FILES), strict=True):
        assert line.startswith(f"uploaded {run7 / rel} -> s3://{bucket_name}/runs/run7/{rel} (")
        assert f"({len(FILES[rel])} bytes, " in line
    assert sum(verified_counts(result.stderr).values()) == 3
    assert "3 uploaded" in result.stderr
    assert "\r" not in result.stderr  # no live display off a terminal


def test_put_guesses_each_files_content_type(s3_endpoint, bucket_name, tmp_path):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    make_folder(tmp_path / "run7")
    args = s3_args(s3_endpoint)
    result = run(["put", *args, str(tmp_path / "run7" / "metrics.json"), f"s3://{bucket_name}/"])
    assert result.exit_code == 0, result.stderr
    head = client.head_object(Bucket=bucket_name, Key="metrics.json")
    assert head["ContentType"] == "application/json"
    typed = run(
        [
            "put",
            "--content-type",
            "text/x-log",
            *args,
            str(tmp_path / "run7" / "notes.txt"),
            f"s3://{bucket_name}/",
        ]
    )
    assert typed.exit_code == 0, typed.stderr
    assert client.head_object(Bucket=bucket_name, Key="notes.txt")["ContentType"] == "text/x-log"


def test_put_folder_guesses_each_files_content_type(s3_endpoint, bucket_name, tmp_path):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    make_folder(tmp_path / "run7")
    result = run(
        ["put", "-r", *s3_args(s3_endpoint), str(tmp_path / "run7"), f"s3://{bucket_name}/"]
    )
    assert result.exit_code == 0, result.stderr
    head = client.head_object(Bucket=bucket_name, Key="run7/metrics.json")
    assert head["ContentType"] == "application/json"


def test_put_files_into_a_prefix_and_a_file_to_a_new_key(s3_endpoint, bucket_name, tmp_path):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    make_folder(tmp_path)
    args = s3_args(s3_endpoint)
    result = run(
        [
            "put",
            *args,
            str(tmp_path / "metrics.json"),
            str(tmp_path / "notes.txt"),
            f"s3://{bucket_name}/cfg",
        ]
    )
    assert result.exit_code == 0, result.stderr
    result = run(["put", *args, str(tmp_path / "notes.txt"), f"s3://{bucket_name}/x/renamed.md"])
    assert result.exit_code == 0, result.stderr
    assert keys_of(client, bucket_name) == ["cfg/metrics.json", "cfg/notes.txt", "x/renamed.md"]
    assert body_of(client, bucket_name, "x/renamed.md") == FILES["notes.txt"]


def test_put_with_sse_kms_acl_and_storage_class_on_moto(s3_endpoint, bucket_name, tmp_path):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    make_folder(tmp_path / "up")
    result = run(
        [
            "put",
            "-r",
            "--sse",
            "aws:kms",
            "--sse-kms-key-id",
            "alias/pail-test",
            "--acl",
            "private",
            "--storage-class",
            "STANDARD_IA",
            "--metadata",
            "run=7",
            *s3_args(s3_endpoint),
            str(tmp_path / "up"),
            f"s3://{bucket_name}/enc/",
        ]
    )
    assert result.exit_code == 0, result.stderr
    # An SSE-KMS ETag is no MD5: the objects are proved by the CRC64NVME the store kept.
    assert verified_counts(result.stderr) == {"crc64nvme": 3}
    for rel in FILES:
        head = client.head_object(Bucket=bucket_name, Key=f"enc/up/{rel}")
        assert head["ServerSideEncryption"] == "aws:kms"
        assert "pail-test" in head["SSEKMSKeyId"]
        assert head["StorageClass"] == "STANDARD_IA"
        assert head["Metadata"] == {"run": "7"}
    grants = client.get_object_acl(Bucket=bucket_name, Key="enc/up/notes.txt")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # private: the owner only


def test_put_on_seaweedfs_is_verified_by_the_stored_checksum(seaweedfs, bucket_name, tmp_path):
    client = seaweedfs.client()
    client.create_bucket(Bucket=bucket_name)
    make_folder(tmp_path / "run")
    result = run(
        ["put", "-r", *s3_args(seaweedfs.endpoint), str(tmp_path / "run"), f"s3://{bucket_name}/"]
    )
    assert result.exit_code == 0, result.stderr
    for rel, body in FILES.items():
        assert body_of(client, bucket_name, f"run/{rel}") == body
    assert verified_counts(result.stderr) == {"crc64nvme": 3}  # the store's own CRC64NVME
    for algorithm in ("CRC32C", "SHA256"):
        chosen = run(
            [
                "put",
                "--checksum-algorithm",
                algorithm,
                *s3_args(seaweedfs.endpoint),
                str(tmp_path / "run" / "notes.txt"),
                f"s3://{bucket_name}/{algorithm}/",
            ]
        )
        assert chosen.exit_code == 0, chosen.stderr
        assert verified_counts(chosen.stderr) == {algorithm.lower(): 1}
        assert chosen.stdout.endswith(f"({len(FILES['notes.txt'])} bytes, {algorithm.lower()})\n")


def test_put_json_report(s3_endpoint, bucket_name, tmp_path):
    s3_client(s3_endpoint).create_bucket(Bucket=bucket_name)
    (tmp_path / "a.txt").write_bytes(b"abc")
    result = run(
        ["put", "--json", *s3_args(s3_endpoint), str(tmp_path / "a.txt"), f"s3://{bucket_name}/"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["command"] == "put" and doc["ok"] is True and doc["dry_run"] is False
    (transfer,) = doc["transfers"]
    (done,) = transfer["done"]
    assert done["source"] == str(tmp_path / "a.txt")
    assert done["size"] == 3 and done["verified"]
    assert done["dest"].endswith(f"{bucket_name}/a.txt")
    assert transfer["failed"] == [] and transfer["kept"] == []


# -- cp -------------------------------------------------------------------------------------


def test_cp_s3_to_gcs_to_a_local_folder_keeps_the_bytes(
    s3_endpoint, gcs_emulator, bucket_name, tmp_path
):
    seed_keys(bucket_name, {f"runs/7/{rel}": body for rel, body in FILES.items()})
    gcs_client(gcs_emulator).create_bucket(bucket_name)
    args = s3_args(s3_endpoint)
    result = run(["cp", "-r", *args, f"s3://{bucket_name}/runs/7/", f"gs://{bucket_name}/ckpt/"])
    assert result.exit_code == 0, result.stderr
    assert all(line.startswith("copied s3://") for line in result.stdout.splitlines())
    blobs = {b.name for b in gcs_client(gcs_emulator).list_blobs(bucket_name)}
    assert blobs == {f"ckpt/{rel}" for rel in FILES}
    dest = tmp_path / "back"
    result = run(["cp", "-r", f"gs://{bucket_name}/ckpt/", str(dest)])
    assert result.exit_code == 0, result.stderr
    for rel, body in FILES.items():
        assert (dest / rel).read_bytes() == body
    assert "3 downloaded" in result.stderr
    assert sum(verified_counts(result.stderr).values()) == 3


def test_cp_within_one_store_is_server_side(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"m/best.pt": b"weights" * 1000})
    result = run(
        ["cp", *s3_args(s3_endpoint), f"s3://{bucket_name}/m/best.pt", f"s3://{bucket_name}/prod/"]
    )
    assert result.exit_code == 0, result.stderr
    assert "server-side" in result.stderr
    client = s3_client(s3_endpoint)
    assert body_of(client, bucket_name, "prod/best.pt") == b"weights" * 1000
    assert keys_of(client, bucket_name) == ["m/best.pt", "prod/best.pt"]


def test_dry_run_prints_every_item_and_writes_nothing(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"src/a.txt": b"a", "src/b/c.txt": b"cc", "dst/a.txt": b"old"})
    args = s3_args(s3_endpoint)
    result = run(
        ["cp", "-r", "--dry-run", *args, f"s3://{bucket_name}/src/", f"s3://{bucket_name}/dst/"]
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [
        f"copy s3://{bucket_name}/src/a.txt -> s3://{bucket_name}/dst/a.txt (1 byte, exists)",
        f"copy s3://{bucket_name}/src/b/c.txt -> s3://{bucket_name}/dst/b/c.txt (2 bytes)",
    ]
    assert "1 already exist" in result.stderr and "nothing was written" in result.stderr
    moved = run(
        ["mv", "-r", "--dry-run", *args, f"s3://{bucket_name}/src/", f"s3://{bucket_name}/new/"]
    )
    assert moved.exit_code == 0, moved.stderr
    (tmp_path / "f.txt").write_bytes(b"f")
    put = run(["put", "--dry-run", *args, str(tmp_path / "f.txt"), f"s3://{bucket_name}/up/"])
    assert put.exit_code == 0, put.stderr
    client = s3_client(s3_endpoint)
    assert keys_of(client, bucket_name) == ["dst/a.txt", "src/a.txt", "src/b/c.txt"]
    assert body_of(client, bucket_name, "dst/a.txt") == b"old"


def test_dry_run_json_lists_items(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"src/a.txt": b"a"})
    result = run(
        [
            "cp",
            "-r",
            "--dry-run",
            "--json",
            *s3_args(s3_endpoint),
            f"s3://{bucket_name}/src/",
            f"s3://{bucket_name}/dst/",
        ]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["dry_run"] is True
    (transfer,) = doc["transfers"]
    assert transfer["items"] == [
        {
            "source": f"s3://{bucket_name}/src/a.txt",
            "dest": f"s3://{bucket_name}/dst/a.txt",
            "size": 1,
            "exists": False,
        }
    ]
    assert keys_of(s3_client(s3_endpoint), bucket_name) == ["src/a.txt"]


# -- conflicts ------------------------------------------------------------------------------


def test_conflicts_skip_by_default_off_a_terminal_and_with_skip_existing_overwrite_replaces(
    s3_endpoint, bucket_name, tmp_path
):
    seed_keys(bucket_name, {"up/a.txt": b"remote", "up/same.txt": b"same"})
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"local!")
    (folder / "same.txt").write_bytes(b"same")
    (folder / "new.txt").write_bytes(b"new")
    client = s3_client(s3_endpoint)
    args = [*s3_args(s3_endpoint), str(folder), f"s3://{bucket_name}/"]

    default = run(["put", "-r", *args])
    assert default.exit_code == 0, default.stderr
    assert body_of(client, bucket_name, "up/a.txt") == b"remote"
    assert body_of(client, bucket_name, "up/new.txt") == b"new"
    assert f"kept existing s3://{bucket_name}/up/a.txt (--overwrite replaces it)" in default.stderr
    assert re.search(r"skipped .*same\.txt .*\(identical\)", default.stdout)

    skip = run(["put", "-r", "--skip-existing", *args])
    assert skip.exit_code == 0, skip.stderr
    assert body_of(client, bucket_name, "up/a.txt") == b"remote"
    assert "0 uploaded" in skip.stderr

    over = run(["put", "-r", "--overwrite", *args])
    assert over.exit_code == 0, over.stderr
    assert body_of(client, bucket_name, "up/a.txt") == b"local!"
    assert "1 uploaded" in over.stderr and "identical" in over.stdout


# -- errors ---------------------------------------------------------------------------------


def test_read_only_identity_fails_per_key_with_one_explanation(moto_iam_server, tmp_path):
    user = moto_iam_server.users["reader"]
    env = {"AWS_ACCESS_KEY_ID": user.access_key_id, "AWS_SECRET_ACCESS_KEY": user.secret_access_key}
    folder = make_folder(tmp_path / "up", {"a.txt": b"a", "b.txt": b"b"})
    uri = f"s3://{moto_iam_server.bucket}/uploads/"
    result = run(["put", "-r", *s3_args(moto_iam_server.endpoint), str(folder), uri], env=env)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count(": AccessDenied: ") == 2
    assert result.stderr.count("Grant:") == 1
    assert "s3:PutObject" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["cp", "s3://", "s3://b/x"],
        ["cp", "s3://bad bucket!/x", "s3://b/x"],
        ["cp", "nope:bucket/x", "s3://b/"],
        ["put", "--sse-kms-key-id", "k", "README.md", "s3://b/"],
        ["put", "--metadata", "novalue", "README.md", "s3://b/"],
    ],
)
def test_bad_usage_exits_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("x")
    result = run(args)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_a_folder_without_recursive_and_sse_on_gcs_exit_2(tmp_path, gcs_emulator, bucket_name):
    make_folder(tmp_path / "f")
    result = run(["put", str(tmp_path / "f"), f"gs://{bucket_name}/"])
    assert result.exit_code == 2 and "use -r" in result.stderr
    result = run(
        ["put", "--sse", "AES256", str(tmp_path / "f" / "notes.txt"), f"gs://{bucket_name}/"]
    )
    assert result.exit_code == 2 and "--sse" in result.stderr


def test_missing_gcs_bucket_exits_3(gcs_emulator, bucket_name, tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a")
    result = run(["put", str(tmp_path / "a.txt"), f"gs://{bucket_name}/x/"])
    assert result.exit_code == 3, result.stderr


def test_missing_bucket_or_path_exits_3(s3_endpoint, bucket_name, tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a")
    args = s3_args(s3_endpoint)
    result = run(["put", *args, str(tmp_path / "a.txt"), f"s3://{bucket_name}/x/"])
    assert result.exit_code == 3, result.stderr
    assert "NoSuchBucket" in result.stderr
    result = run(["cp", *args, f"s3://{bucket_name}/x", str(tmp_path)])
    assert result.exit_code == 3, result.stderr
    result = run(["put", *args, str(tmp_path / "none.txt"), f"s3://{bucket_name}/"])
    assert result.exit_code == 3 and "no such file or folder" in result.stderr
    seed_keys(bucket_name, {"there": b"1"})
    result = run(["cp", *args, f"s3://{bucket_name}/not-there", str(tmp_path)])
    assert result.exit_code == 3, result.stderr


def test_control_characters_in_keys_are_printed_escaped(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"p/esc\x1b]0;x": b"EVIL", "p/ok": b"ok"})
    result = run(
        ["cp", "-r", *s3_args(s3_endpoint), f"s3://{bucket_name}/p/", f"s3://{bucket_name}/q/"]
    )
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "esc\\x1b]0;x" in result.stdout


def test_write_options_mapping():
    from pail.cli.transfer import write_options

    opts = write_options(
        sse="aws:kms",
        sse_kms_key_id="K",
        acl="private",
        storage_class="standard_ia",
        checksum_algorithm="crc32c",
        content_type="text/plain",
        metadata=["a=1", "b=x=y"],
    )
    assert opts.extra == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "K", "ACL": "private"}
    assert opts.storage_class == "STANDARD_IA" and opts.checksum_algorithm == "CRC32C"
    assert opts.metadata == {"a": "1", "b": "x=y"} and opts.content_type == "text/plain"
    assert write_options().extra == {} and write_options().content_type is None


def test_a_large_file_goes_up_in_parts_verified_by_the_whole_object_crc(
    s3_endpoint, bucket_name, tmp_path
):
    """Above the multipart threshold (16 MiB): parts with their checksums, the whole-object
    CRC64NVME combined from them and checked against the store's."""
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    big = tmp_path / "big.bin"
    data = os.urandom(17 * 1024 * 1024)
    big.write_bytes(data)
    result = run(["put", *s3_args(s3_endpoint), str(big), f"s3://{bucket_name}/b/"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(f"({len(data)} bytes, crc64nvme)\n")
    got = body_of(client, bucket_name, "b/big.bin")
    assert hashlib.md5(got).digest() == hashlib.md5(data).digest()
    assert client.head_object(Bucket=bucket_name, Key="b/big.bin")["ETag"].endswith('-2"')


def test_a_saved_connection_without_a_bucket_is_refused(tmp_path):
    from pail.config.store import ConnectionStore
    from pail.core.connection import ConnectionSpec

    ConnectionStore().save(ConnectionSpec(name="lab", provider="s3", endpoint_url="http://h:1"))
    (tmp_path / "a.txt").write_bytes(b"a")
    for args in (["put", str(tmp_path / "a.txt"), "lab"], ["cp", "lab", str(tmp_path)]):
        result = run(args)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("pail: error: lab names no bucket"), result.stderr


def test_refused_keys_are_listed_in_the_dry_run_and_fail_the_copy(
    s3_endpoint, bucket_name, tmp_path
):
    seed_keys(bucket_name, {"p/../../escape": b"EVIL", "p/ok": b"ok"})
    args = ["cp", "-r", *s3_args(s3_endpoint), f"s3://{bucket_name}/p/", str(tmp_path / "d")]
    dry = run([*args[:2], "--dry-run", *args[2:]])
    assert dry.exit_code == 0, dry.stderr
    assert "refused p/../../escape: '..' segment" in dry.stdout
    assert "1 refused" in dry.stderr and not (tmp_path / "d").exists()
    result = run(args)
    assert result.exit_code == 1
    assert "refused p/../../escape: '..' segment (never written)" in result.stderr
    assert os.listdir(tmp_path) == ["d"] and os.listdir(tmp_path / "d") == ["ok"]


def test_put_several_paths_and_a_move_as_json(s3_endpoint, bucket_name, tmp_path):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    make_folder(tmp_path / "run")
    (tmp_path / "cfg.yaml").write_bytes(b"lr: 0.1\n")
    args = s3_args(s3_endpoint)
    put = run(
        [
            "put",
            "-r",
            *args,
            str(tmp_path / "run"),
            str(tmp_path / "cfg.yaml"),
            f"s3://{bucket_name}/x",
        ]
    )
    assert put.exit_code == 0, put.stderr
    assert keys_of(client, bucket_name) == sorted(
        ["x/cfg.yaml", *(f"x/run/{rel}" for rel in FILES)]
    )
    moved = run(["mv", "--json", *args, f"s3://{bucket_name}/x/cfg.yaml", f"s3://{bucket_name}/y/"])
    assert moved.exit_code == 0, moved.stderr
    doc = json.loads(moved.stdout)
    assert doc["command"] == "mv" and doc["ok"] is True
    (transfer,) = doc["transfers"]
    assert transfer["kind"] == "move" and transfer["server_side"] is True
    assert transfer["deleted"] == [f"s3://{bucket_name}/x/cfg.yaml"] and transfer["kept"] == []
    assert "y/cfg.yaml" in keys_of(client, bucket_name)
    assert "x/cfg.yaml" not in keys_of(client, bucket_name)


def test_cp_to_a_new_local_file_name_and_a_new_folder(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"m/model.pt": b"weights", "p/a.txt": b"a", "p/b/c.txt": b"c"})
    args = s3_args(s3_endpoint)
    one = run(["cp", *args, f"s3://{bucket_name}/m/model.pt", str(tmp_path / "best.pt")])
    assert one.exit_code == 0, one.stderr
    assert (tmp_path / "best.pt").read_bytes() == b"weights"
    tree = run(["cp", "-r", *args, f"s3://{bucket_name}/p/", str(tmp_path / "copy")])
    assert tree.exit_code == 0, tree.stderr
    assert (tmp_path / "copy" / "b" / "c.txt").read_bytes() == b"c"
    into = run(["cp", *args, f"s3://{bucket_name}/m/model.pt", str(tmp_path / "copy")])
    assert into.exit_code == 0, into.stderr  # an existing folder: the object's own name
    assert (tmp_path / "copy" / "model.pt").read_bytes() == b"weights"
    local = run(["mv", str(tmp_path / "best.pt"), str(tmp_path / "renamed.pt")])
    assert local.exit_code == 0, local.stderr
    assert (tmp_path / "renamed.pt").read_bytes() == b"weights"
    assert not (tmp_path / "best.pt").exists()
