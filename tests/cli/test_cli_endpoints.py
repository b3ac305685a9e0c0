"""Endpoints and the environment, through the real ``pail`` command line against moto.

* an endpoint with no scheme, a bucket in its path or host name is a usage error (exit 2)
  before any request, from a flag, a variable or a saved connection, with the fix;
* every endpoint hint names where the endpoint came from;
* plain MLflow (``MLFLOW_S3_ENDPOINT_URL``, ``MLFLOW_S3_IGNORE_TLS``), modelkit
  (``MODELKIT_STORAGE_PROVIDER``, the ``modelkit-assets`` prefix);
* ``aws_access_key_id = "${env.X:=}"`` in the config file is a reference, not a secret.

Each test gives its variables to the command (``run(..., env=...)``); nothing else of the
environment names an endpoint (tests/conftest.py removes ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pail.cli.main import EXIT_UNREACHABLE, EXIT_USAGE
from support.cli import run, s3_args
from support.servers import free_port, seed_keys

#: Every variable that can name the S3 endpoint: unset in each command unless given.
ENDPOINT_VARS = (
    "MLFLOW_S3_ENDPOINT_URL",
    "MLFLOW_S3_IGNORE_TLS",
    "FML_S3_ENDPOINT_URI",
    "S3_ENDPOINT_URL",
    "S3_ENDPOINT",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "MODELKIT_STORAGE_PROVIDER",
    "STORAGE_PROVIDER",
    "MODELKIT_STORAGE_BUCKET",
    "MODELKIT_STORAGE_PREFIX",
)


def pail(args: list[str], **env: str):
    """``pail ARGS`` with exactly these endpoint variables set."""
    variables: dict[str, str | None] = dict.fromkeys(ENDPOINT_VARS)
    variables.update(env)
    result = run(args, env=variables)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def config_file(text: str) -> Path:
    path = Path(os.environ["PAIL_CONFIG"])  # per test (tests/conftest.py isolated_config)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def seeded(s3_endpoint: str, bucket_name: str) -> tuple[str, str]:
    seed_keys(bucket_name, {"runs/a.txt": b"a", "top.txt": b"top"})
    return s3_endpoint, bucket_name


@pytest.fixture
def dead_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


FAST = ["--retries", "0", "--connect-timeout", "2"]


# --- 1. diagnosis before any request ---------------------------------------------------


def test_an_endpoint_without_a_scheme_is_a_usage_error_showing_the_fix(seeded):
    endpoint, bucket = seeded
    bare = endpoint.removeprefix("http://")  # 127.0.0.1:PORT
    result = pail(["ls", "--endpoint-url", bare, f"s3://{bucket}/"])
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert f"use the endpoint http://{bare}" in result.stderr
    assert "the endpoint came from --endpoint-url" in result.stderr
    assert "bucket name and key" not in result.stderr  # not misread as a 404


@pytest.mark.parametrize("var", ["S3_ENDPOINT", "MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL"])
def test_a_schemeless_endpoint_from_a_variable_names_the_variable(var):
    result = pail(["ls", "s3://b/"], **{var: "minio:9000"})
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "http://minio:9000" in result.stderr
    assert f"the endpoint came from {var} (set {var}=http://minio:9000)" in result.stderr


def test_the_bucket_in_the_endpoints_path(seeded):
    endpoint, bucket = seeded
    result = pail(["ls", f"s3://{bucket}/"], MLFLOW_S3_ENDPOINT_URL=f"{endpoint}/{bucket}")
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert f"has the bucket {bucket} in its path" in result.stderr
    assert f"use the endpoint {endpoint}" in result.stderr
    assert f"s3://{bucket}/" in result.stderr
    assert "MLFLOW_S3_ENDPOINT_URL" in result.stderr


@pytest.mark.parametrize(
    ("url", "use", "region"),
    [
        (
            "https://mlruns.s3.eu-west-1.amazonaws.com",
            "https://s3.eu-west-1.amazonaws.com",
            "eu-west-1",
        ),
        ("https://mlruns.s3.amazonaws.com", "https://s3.amazonaws.com", "us-east-1"),
        ("s3.eu-west-1.amazonaws.com/mlruns", "https://s3.eu-west-1.amazonaws.com", "eu-west-1"),
    ],
)
def test_the_bucket_in_the_hostname_as_the_fasttrackml_docs_show(url, use, region):
    result = pail(["ls", "s3://mlruns/"], FML_S3_ENDPOINT_URI=url)
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "bucket mlruns" in result.stderr and "s3://mlruns/" in result.stderr
    assert f"use the endpoint {use}" in result.stderr and f"--region {region}" in result.stderr
    assert "the endpoint came from FML_S3_ENDPOINT_URI" in result.stderr


def test_a_saved_connections_endpoint_is_checked_with_its_line():
    path = config_file(
        '[connections.lab]\nprovider = "s3"\nendpoint_url = "http://minio:9000/artifacts"\n'
    )
    result = pail(["ls", "lab:artifacts/"])
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert result.stderr.startswith(f"pail: error: {path}:3: connection 'lab': endpoint_url")
    assert "use the endpoint http://minio:9000" in result.stderr
    assert "s3://artifacts/" in result.stderr


def test_a_saved_endpoint_from_a_variable_names_it():
    config_file('[connections.lab]\nprovider = "s3"\nendpoint_url = "${env.LAB_S3}"\n')
    result = pail(["ls", "lab:b/"], LAB_S3="minio:9000")
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "endpoint_url (from ${env.LAB_S3})" in result.stderr
    assert "http://minio:9000" in result.stderr


def test_connection_add_refuses_a_bad_endpoint_before_asking_for_secrets():
    result = run(
        ["connection", "add", "lab", "--provider", "s3", "--endpoint-url", "127.0.0.1:9000"],
    )
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "use the endpoint http://127.0.0.1:9000" in result.stderr
    assert not Path(os.environ["PAIL_CONFIG"]).exists()  # nothing saved


def test_the_apps_form_shows_the_same_message_on_the_field():
    from pail.ui.connection_ops import FormValues, check_values

    values = FormValues(name="lab", provider="s3", endpoint_url="http://h:9000/mybucket")
    (error,) = check_values(values)
    assert error.field == "endpoint_url"
    assert "use the endpoint http://h:9000" in error.message
    assert "s3://mybucket/" in error.message


def test_doctor_with_a_bad_endpoint_is_a_usage_error():
    result = pail(["doctor", "s3://b/"], S3_ENDPOINT_URL="127.0.0.1:9000")
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "the endpoint came from S3_ENDPOINT_URL" in result.stderr


def test_two_tools_naming_different_endpoints_exit_2_until_the_flag_chooses(seeded, dead_endpoint):
    endpoint, bucket = seeded
    env = {"MLFLOW_S3_ENDPOINT_URL": endpoint, "FML_S3_ENDPOINT_URI": dead_endpoint}
    result = pail(["ls", f"s3://{bucket}/"], **env)
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "MLFLOW_S3_ENDPOINT_URL" in result.stderr and "FML_S3_ENDPOINT_URI" in result.stderr
    chosen = pail(["ls", *s3_args(endpoint), f"s3://{bucket}/"], **env)
    assert chosen.exit_code == 0, chosen.stderr
    assert "top.txt" in chosen.stdout


# --- 2. the endpoint's source in every endpoint hint ------------------------------------


@pytest.mark.parametrize(
    "var", ["MLFLOW_S3_ENDPOINT_URL", "FML_S3_ENDPOINT_URI", "S3_ENDPOINT", "AWS_ENDPOINT_URL"]
)
def test_unreachable_hint_names_the_variable(dead_endpoint, var):
    result = pail(["ls", *FAST, "s3://b/"], **{var: dead_endpoint})
    assert result.exit_code == EXIT_UNREACHABLE, result.stderr
    assert f"Endpoint from: {var}" in result.stderr
    hint = next(line for line in result.stderr.splitlines() if "Hint:" in line)
    assert f"The endpoint came from {var}." in hint


def test_unreachable_hint_names_the_flag_and_the_saved_connection(dead_endpoint):
    flagged = pail(["ls", *FAST, "--endpoint-url", dead_endpoint, "s3://b/"])
    assert flagged.exit_code == EXIT_UNREACHABLE, flagged.stderr
    assert "The endpoint came from --endpoint-url." in flagged.stderr
    path = config_file(
        f'[connections.lab]\nprovider = "s3"\nendpoint_url = "{dead_endpoint}"\nsecrets = "none"\n'
    )
    saved = pail(["ls", *FAST, "lab:b/"])
    assert saved.exit_code == EXIT_UNREACHABLE, saved.stderr
    assert f"The endpoint came from connection lab ({path})." in saved.stderr
    # A flag given over a saved connection is what the hint names.
    over = pail(["ls", *FAST, "--endpoint-url", dead_endpoint + "/", "lab:b/"])
    assert "The endpoint came from --endpoint-url." in over.stderr


def test_no_such_bucket_hint_names_the_variable(s3_endpoint):
    result = pail(["ls", "s3://pail-no-such-bucket-p2/"], MLFLOW_S3_ENDPOINT_URL=s3_endpoint)
    assert result.exit_code == 3, result.stderr
    assert "The endpoint came from MLFLOW_S3_ENDPOINT_URL." in result.stderr


# --- 3. plain MLflow and modelkit --------------------------------------------------------


def test_plain_mlflow_endpoint_is_used_not_aws(seeded, dead_endpoint):
    endpoint, bucket = seeded
    # MLflow passes MLFLOW_S3_ENDPOINT_URL to boto3 as endpoint_url, which beats
    # botocore's AWS_ENDPOINT_URL: here that one is dead, so a listing proves the choice.
    result = pail(
        ["ls", f"s3://{bucket}/"], MLFLOW_S3_ENDPOINT_URL=endpoint, AWS_ENDPOINT_URL=dead_endpoint
    )
    assert result.exit_code == 0, result.stderr
    assert "top.txt" in result.stdout


def _self_signed(folder: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pail-test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def tls_moto(moto_server, tmp_path_factory) -> Iterator[str]:
    """``https://127.0.0.1:P``: moto's S3 app (the same in-process backend as
    ``moto_server``) behind TLS with a self-signed certificate no CA bundle trusts."""
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    cert, key = _self_signed(tmp_path_factory.mktemp("tls"))
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(cert, key))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_mlflow_ignore_tls_turns_certificate_checks_off_for_its_endpoint(tls_moto, bucket_name):
    seed_keys(bucket_name, {"model/MLmodel": b"flavors: {}"})
    checked = pail(["ls", *FAST, f"s3://{bucket_name}/"], MLFLOW_S3_ENDPOINT_URL=tls_moto)
    assert checked.exit_code == EXIT_UNREACHABLE, checked.stderr
    assert "certificate" in checked.stderr.lower()
    for value in ("true", "1"):
        off = pail(
            ["ls", f"s3://{bucket_name}/"],
            MLFLOW_S3_ENDPOINT_URL=tls_moto,
            MLFLOW_S3_IGNORE_TLS=value,
        )
        assert off.exit_code == 0, off.stderr
        assert "model/" in off.stdout
        assert "InsecureRequestWarning" not in off.stderr
    # Fail closed: MLflow's switch does not reach an endpoint another tool named...
    other = pail(
        ["ls", *FAST, f"s3://{bucket_name}/"], S3_ENDPOINT_URL=tls_moto, MLFLOW_S3_IGNORE_TLS="true"
    )
    assert other.exit_code == EXIT_UNREACHABLE, other.stderr
    # ...and a value MLflow would not read as true leaves the checks on.
    odd = pail(
        ["ls", *FAST, f"s3://{bucket_name}/"],
        MLFLOW_S3_ENDPOINT_URL=tls_moto,
        MLFLOW_S3_IGNORE_TLS="maybe",
    )
    assert odd.exit_code == EXIT_UNREACHABLE, odd.stderr


@pytest.mark.parametrize("provider_var", ["MODELKIT_STORAGE_PROVIDER", "STORAGE_PROVIDER"])
def test_modelkit_opens_its_bucket_at_modelkit_assets(s3_endpoint, bucket_name, provider_var):
    seed_keys(
        bucket_name,
        {"modelkit-assets/my_model/0.0": b"w", "modelkit-assets/my_model.versions": b"{}"},
    )
    seed_keys(bucket_name, {"elsewhere.txt": b"x"})
    env = {provider_var: "s3", "MODELKIT_STORAGE_BUCKET": bucket_name, "S3_ENDPOINT": s3_endpoint}
    saved = pail(["connection", "import-env", "--no-secrets", "mk"], **env)
    assert saved.exit_code == 0, saved.stderr
    listed = pail(["ls", "mk"], **env)
    assert listed.exit_code == 0, listed.stderr
    names = listed.stdout.split()
    assert "my_model/" in names and "my_model.versions" in names
    assert "elsewhere.txt" not in listed.stdout  # modelkit's prefix, not the bucket root


def test_modelkit_prefix_variable_wins_over_the_default(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"team/a/0.0": b"w", "modelkit-assets/b/0.0": b"w"})
    env = {
        "MODELKIT_STORAGE_PROVIDER": "s3",
        "MODELKIT_STORAGE_BUCKET": bucket_name,
        "MODELKIT_STORAGE_PREFIX": "team",
        "S3_ENDPOINT": s3_endpoint,
    }
    assert pail(["connection", "import-env", "--no-secrets", "mk"], **env).exit_code == 0
    listed = pail(["ls", "mk"], **env)
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.split()[-1] == "a/"


# --- 4. ${env.X:=} credentials are references, not secrets ----------------------------


def test_a_credential_that_only_names_a_variable_is_used_not_refused(moto_iam_server):
    reader = moto_iam_server.users["reader"]
    config_file(
        "[connections.lab]\n"
        'provider = "s3"\n'
        f'endpoint_url = "{moto_iam_server.endpoint}"\n'
        "path_style = true\n"
        'region = "us-east-1"\n'
        'aws_access_key_id = "${env.LAB_KEY_ID:=}"\n'
        'aws_secret_access_key = "${env.LAB_SECRET}"\n'
    )
    # The default AWS_* keys (testing/testing) are unknown to the IAM server: a listing
    # proves the referenced variables were used.
    env = {"LAB_KEY_ID": reader.access_key_id, "LAB_SECRET": reader.secret_access_key}
    result = pail(["ls", f"lab:{moto_iam_server.bucket}/data/"], **env)
    assert result.exit_code == 0, result.stderr
    assert "a.txt" in result.stdout


def test_an_empty_reference_falls_back_to_the_usual_credentials(seeded):
    endpoint, bucket = seeded
    config_file(
        f'[connections.lab]\nprovider = "s3"\nendpoint_url = "{endpoint}"\npath_style = true\n'
        'aws_access_key_id = "${env.AWS_ACCESS_KEY_ID:=}"\n'
        'aws_secret_access_key = "${env.AWS_SECRET_ACCESS_KEY:=}"\n'
    )
    result = pail(["ls", f"lab:{bucket}/"], AWS_ACCESS_KEY_ID="testing")
    assert result.exit_code == 0, result.stderr
    assert "top.txt" in result.stdout


@pytest.mark.parametrize(
    "line",
    [
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG"',  # a literal secret
        'aws_secret_access_key = "${env.S:=wJalrXUtnFEMI}"',  # a literal secret as default
        'aws_secret_access_key = "prefix-${env.S}"',  # not only a reference
        'password = "${env.S}"',  # not a credential pail knows
    ],
)
def test_a_literal_secret_is_still_refused(line):
    path = config_file(f'[connections.lab]\nprovider = "s3"\n{line}\n')
    result = pail(["ls", "lab:b/"], S="x")
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert f"{path}:3:" in result.stderr and "looks like a secret" in result.stderr
    assert "wJalr" not in result.stderr


def test_half_a_key_pair_from_references_is_refused():
    config_file(
        '[connections.lab]\nprovider = "s3"\naws_access_key_id = "${env.K:=}"\n'
        'aws_secret_access_key = "${env.S:=}"\n'
    )
    result = pail(["ls", "lab:b/"], K="AKIAEXAMPLE", S="")
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "aws_secret_access_key is empty or missing" in result.stderr


def test_doctor_says_where_the_endpoint_came_from(seeded):
    endpoint, bucket = seeded
    result = pail(["doctor", f"s3://{bucket}/"], MLFLOW_S3_ENDPOINT_URL=endpoint)
    assert result.exit_code == 0, result.stderr
    assert f"Endpoint: {endpoint} (from MLFLOW_S3_ENDPOINT_URL)" in result.stdout


def test_gcs_hints_name_storage_emulator_host_and_the_saved_connection(dead_endpoint):
    result = run(["ls", *FAST, "gs://b/"], env={"STORAGE_EMULATOR_HOST": dead_endpoint})
    assert result.exit_code == EXIT_UNREACHABLE, result.stderr
    assert "The endpoint came from STORAGE_EMULATOR_HOST." in result.stderr
    path = config_file(
        f'[connections.lab]\nprovider = "gcs"\nendpoint_url = "{dead_endpoint}"\nsecrets = "none"\n'
    )
    saved = run(["ls", *FAST, "lab:b/"], env={"STORAGE_EMULATOR_HOST": None})
    assert saved.exit_code == EXIT_UNREACHABLE, saved.stderr
    assert f"The endpoint came from connection lab ({path})." in saved.stderr
