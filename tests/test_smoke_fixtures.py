from conftest import gcs_client, s3_client, seed_keys


def test_fixtures_start(moto_server, moto_iam_server, gcs_emulator):
    seed_keys("smoke-bucket", ["a/1", "a/2"])
    keys = [o["Key"] for o in s3_client(moto_server).list_objects_v2(Bucket="smoke-bucket")["Contents"]]
    assert keys == ["a/1", "a/2"]
    client = gcs_client(gcs_emulator)
    b = client.create_bucket("smoke-gcs")
    b.blob("x/y.txt").upload_from_string(b"hi")
    assert [bl.name for bl in client.list_blobs("smoke-gcs")] == ["x/y.txt"]
    reader = moto_iam_server.users["reader"]
    c = s3_client(moto_iam_server.endpoint, aws_access_key_id=reader.access_key_id,
                  aws_secret_access_key=reader.secret_access_key)
    assert c.get_object(Bucket="pail-iam", Key="data/a.txt")["Body"].read() == b"hello\n"
