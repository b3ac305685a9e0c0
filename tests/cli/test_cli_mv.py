"""`pail mv` against real servers: a rename inside one bucket, moves across stores and from
a local folder, and sources kept when their copy fails or their delete is not confirmed
(the fault proxy in front of moto)."""

from __future__ import annotations

from support.cli import run, s3_args
from support.fault_proxy import Rule
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


# -- rename -------------------------------------------------------------------------------------


def test_mv_prefix_in_one_bucket_is_a_rename(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"runs/7/a.txt": b"a", "runs/7/m/b.bin": b"b" * 5000, "runs/70/x": b"x"})
    args = s3_args(s3_endpoint)
    result = run(
        ["mv", "-r", *args, f"s3://{bucket_name}/runs/7", f"s3://{bucket_name}/runs/7-old/"]
    )
    assert result.exit_code == 0, result.stderr
    client = s3_client(s3_endpoint)
    assert keys_of(client, bucket_name) == ["runs/7-old/a.txt", "runs/7-old/m/b.bin", "runs/70/x"]
    assert body_of(client, bucket_name, "runs/7-old/m/b.bin") == b"b" * 5000
    assert sorted(line.split(" ")[0] for line in result.stdout.splitlines()) == ["moved", "moved"]
    assert "server-side" in result.stderr and "2 moved" in result.stderr


def test_mv_prefix_needs_recursive_and_an_object_into_a_prefix(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"d/a.txt": b"a", "keep/k": b"k"})
    args = s3_args(s3_endpoint)
    refused = run(["mv", *args, f"s3://{bucket_name}/d/", f"s3://{bucket_name}/e/"])
    assert refused.exit_code == 2 and "-r" in refused.stderr
    moved = run(["mv", *args, f"s3://{bucket_name}/d/a.txt", f"s3://{bucket_name}/keep"])
    assert moved.exit_code == 0, moved.stderr
    assert keys_of(s3_client(s3_endpoint), bucket_name) == ["keep/a.txt", "keep/k"]


def test_mv_across_stores_deletes_only_verified_sources(
    s3_endpoint, gcs_emulator, bucket_name, tmp_path
):
    seed_keys(bucket_name, {f"ckpt/{rel}": body for rel, body in FILES.items()})
    gcs_client(gcs_emulator).create_bucket(bucket_name)
    result = run(
        ["mv", "-r", *s3_args(s3_endpoint), f"s3://{bucket_name}/ckpt/", f"gs://{bucket_name}/m/"]
    )
    assert result.exit_code == 0, result.stderr
    bucket = gcs_client(gcs_emulator).bucket(bucket_name)
    for rel, body in FILES.items():
        assert bucket.blob(f"m/{rel}").download_as_bytes() == body
    assert keys_of(s3_client(s3_endpoint), bucket_name) == []
    assert "3 moved" in result.stderr


def test_mv_local_folder_to_s3(s3_endpoint, bucket_name, tmp_path):
    s3_client(s3_endpoint).create_bucket(Bucket=bucket_name)
    folder = make_folder(tmp_path / "out")
    result = run(["mv", "-r", *s3_args(s3_endpoint), str(folder), f"s3://{bucket_name}/out/"])
    assert result.exit_code == 0, result.stderr
    assert keys_of(s3_client(s3_endpoint), bucket_name) == sorted(f"out/{r}" for r in FILES)
    assert not any(p.is_file() for p in folder.rglob("*"))


def test_a_failed_copy_keeps_its_source(faults, bucket_name):
    seed_keys(bucket_name, {"r/a.txt": b"a", "r/b.txt": b"b"})
    faults.add(
        Rule(
            method="PUT",
            path=rf"^/{bucket_name}/s/b\.txt$",
            action="status",
            status=403,
            times=None,
        )
    )
    result = run(
        ["mv", "-r", *s3_args(faults.url), f"s3://{bucket_name}/r/", f"s3://{bucket_name}/s/"]
    )
    assert result.exit_code == 1
    client = s3_client(faults.url)
    assert keys_of(client, bucket_name) == ["r/b.txt", "s/a.txt"]
    assert f"failed s3://{bucket_name}/r/b.txt: AccessDenied" in result.stderr
    assert "1 moved" in result.stderr


def test_an_unconfirmed_delete_keeps_the_source_listed(faults, bucket_name):
    seed_keys(bucket_name, {"r/a.txt": b"a", "r/b.txt": b"b"})
    faults.add(Rule(method="POST", query="delete", action="delete-omit", keys=["r/b.txt"]))
    result = run(
        ["mv", "-r", *s3_args(faults.url), f"s3://{bucket_name}/r/", f"s3://{bucket_name}/s/"]
    )
    assert result.exit_code == 1
    assert keys_of(s3_client(faults.url), bucket_name) == ["r/b.txt", "s/a.txt", "s/b.txt"]
    assert f"kept source s3://{bucket_name}/r/b.txt" in result.stderr


def test_mv_onto_an_identical_object_deletes_the_source_and_a_different_one_is_kept(
    s3_endpoint, bucket_name
):
    seed_keys(
        bucket_name,
        {"a/same.txt": b"same", "a/diff.txt": b"mine", "b/same.txt": b"same", "b/diff.txt": b"x"},
    )
    args = s3_args(s3_endpoint)
    result = run(["mv", "-r", *args, f"s3://{bucket_name}/a/", f"s3://{bucket_name}/b/"])
    assert result.exit_code == 1, result.stderr  # the skipped one's source is kept
    assert (
        f"moved s3://{bucket_name}/a/same.txt -> s3://{bucket_name}/b/same.txt "
        "(an identical object was there; source deleted)"
    ) in result.stdout
    assert f"kept source s3://{bucket_name}/a/diff.txt: Skipped" in result.stderr
    client = s3_client(s3_endpoint)
    assert keys_of(client, bucket_name) == ["a/diff.txt", "b/diff.txt", "b/same.txt"]
    assert body_of(client, bucket_name, "b/diff.txt") == b"x"
    over = run(
        ["mv", "-r", "--overwrite", *args, f"s3://{bucket_name}/a/", f"s3://{bucket_name}/b/"]
    )
    assert over.exit_code == 0, over.stderr
    assert keys_of(client, bucket_name) == ["b/diff.txt", "b/same.txt"]
    assert body_of(client, bucket_name, "b/diff.txt") == b"mine"
