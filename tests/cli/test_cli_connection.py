"""`pail connection add|list|show|test|remove|import-env` and `NAME:bucket/prefix` targets,
against the moto servers, with the in-memory keyring (the autouse fixture). No secret may
appear in the config file or in any output."""

from __future__ import annotations

import json
import logging
import os

import keyring
import keyring.backends.fail
import pytest

from pail.cli.main import EXIT_CREDENTIALS, EXIT_KEYRING, EXIT_USAGE
from pail.config.env import default_config_path
from pail.config.flags import Flags
from pail.config.store import ConnectionStore
from pail.credentials import SERVICE
from pail.services.locations import connections_to_open, open_spec
from support.cli import run
from support.servers import seed_keys

KEY_ID = "AKIAPAILCLITEST7777"
SECRET = "cli-secret-value-never-printed"
TOKEN = "cli-session-token-never-printed"
NO_AWS_ENV = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None}


def config_text() -> str:
    path = default_config_path()
    return open(path).read() if os.path.exists(path) else ""


def assert_no_secret(*texts: str) -> None:
    for text in (*texts, config_text()):
        for secret in (SECRET, TOKEN, KEY_ID):
            assert secret not in text


def add_lab(endpoint: str, *extra: str, secrets: str = f"{KEY_ID}\n{SECRET}\n{TOKEN}\n"):
    args = ["connection", "add", "lab", "--provider", "s3", "--endpoint-url", endpoint]
    args += ["--path-style", "--region", "us-east-1", "--secret-stdin", *extra]
    return run_input(args, secrets)


def run_input(args: list[str], text: str, env=None):
    from click.testing import CliRunner

    from pail.cli.main import cli

    return CliRunner(env=env or {}).invoke(cli, args, input=text, catch_exceptions=False)


def test_add_show_list_ls_test_remove(s3_endpoint, bucket_name, isolated_config):
    seed_keys(bucket_name, ["runs/1/metrics.json", "runs/2/model.bin", "README.md"])
    added = add_lab(s3_endpoint, "--bucket", bucket_name, "--prefix", "runs")
    assert added.exit_code == 0, added.stderr
    assert "secrets stored in the OS keyring" in added.stdout
    assert "keyring (AKIA…7777)" in added.stdout
    stored = json.loads(isolated_config.entries[(SERVICE, "lab")])
    assert stored["secret_access_key"] == SECRET and stored["session_token"] == TOKEN
    assert 'bucket = "' + bucket_name + '"' in config_text()

    show = run(["connection", "show", "lab"])
    assert show.exit_code == 0
    assert "Credentials:" in show.stdout and "keyring" in show.stdout
    assert "AKIA…7777" in show.stdout and "Prefix:" in show.stdout

    listed = run(["connection", "list"])
    assert listed.stdout.splitlines()[1].split()[:3] == ["lab", "s3", s3_endpoint]
    assert "keyring (AKIA…7777)" in listed.stdout

    # Only the keyring can supply credentials here: the AWS_* variables are unset.
    ls = run(["ls", f"lab:{bucket_name}/runs/"], env=NO_AWS_ENV)
    assert ls.exit_code == 0, ls.stderr
    assert [line.split()[-1] for line in ls.stdout.splitlines()] == ["1/", "2/"]
    default = run(["ls", "lab"], env=NO_AWS_ENV)  # the connection's default bucket/prefix
    assert default.stdout == ls.stdout

    tested = run(["connection", "test", "lab"], env=NO_AWS_ENV)
    assert tested.exit_code == 0, tested.stderr
    assert "OK lab:" in tested.stdout and "0 objects, 2 prefixes" in tested.stdout
    assert "keyring" in tested.stdout

    removed = run(["connection", "remove", "lab"])
    assert removed.exit_code == 0
    assert "deleted its secrets" in removed.stdout
    assert isolated_config.entries == {}
    assert "[connections.lab]" not in config_text()
    again = run(["connection", "show", "lab"])
    assert again.exit_code == EXIT_USAGE and "no saved connection" in again.stderr
    assert_no_secret(added.stdout + added.stderr, show.stdout, listed.stdout, tested.stdout)


def test_wrong_secret_fails_test_with_exit_5_and_no_secret(moto_iam_server):
    reader = moto_iam_server.users["reader"]
    args = ["connection", "add", "iam", "--provider", "s3", "--path-style"]
    args += ["--endpoint-url", moto_iam_server.endpoint, "--region", "us-east-1"]
    args += ["--bucket", moto_iam_server.bucket, "--secret-stdin"]
    added = run_input(args, f"{reader.access_key_id}\n{SECRET}\n\n")
    assert added.exit_code == 0, added.stderr
    result = run(["connection", "test", "iam"], env=NO_AWS_ENV)
    assert result.exit_code == EXIT_CREDENTIALS, (result.stdout, result.stderr)
    assert "SignatureDoesNotMatch" in result.stderr and "Hint:" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # The right secret works, through the keyring only.
    args[-1:] = ["--replace", "--secret-stdin"]
    ok = run_input(args, f"{reader.access_key_id}\n{reader.secret_access_key}\n\n")
    assert ok.exit_code == 0
    result = run(["connection", "test", "iam"], env=NO_AWS_ENV)
    assert result.exit_code == 0, result.stderr
    assert "0 objects, 1 prefix on" in result.stdout and "keyring" in result.stdout


def test_interactive_prompts_hide_nothing_from_the_keyring(s3_endpoint, isolated_config):
    args = ["connection", "add", "lab", "--provider", "s3", "--endpoint-url", s3_endpoint]
    result = run_input(args, f"{KEY_ID}\n{SECRET}\n\n")
    assert result.exit_code == 0, result.stderr
    assert "Secret access key" in result.stderr  # prompts go to stderr
    assert SECRET not in result.stdout + result.stderr  # hidden input is not echoed
    stored = json.loads(isolated_config.entries[(SERVICE, "lab")])
    assert stored["secret_access_key"] == SECRET and "session_token" not in stored


def test_empty_answers_store_no_secrets(s3_endpoint, isolated_config):
    result = add_lab(s3_endpoint, secrets="\n\n\n")
    assert result.exit_code == 0 and "no secrets stored" in result.stdout
    assert isolated_config.entries == {}
    show = run(["connection", "show", "lab"])
    assert "Credentials:" in show.stdout and "environment" in show.stdout


def test_half_a_key_pair_is_refused(s3_endpoint):
    result = add_lab(s3_endpoint, secrets=f"{KEY_ID}\n\n\n")
    assert result.exit_code == EXIT_USAGE and "both" in result.stderr
    assert config_text() == ""


def test_fail_backend_refuses_secrets_but_environment_still_works(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["a.txt"])
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        refused = add_lab(s3_endpoint)
        assert refused.exit_code == EXIT_KEYRING
        assert "Secret Service" in refused.stderr and "PYTHON_KEYRING_BACKEND" in refused.stderr
        assert "--no-secrets" in refused.stderr
        assert config_text() == ""  # nothing saved, nothing secret anywhere
        ok = add_lab(s3_endpoint, "--no-secrets", secrets="")
        assert ok.exit_code == 0, ok.stderr
        ls = run(["ls", f"lab:{bucket_name}/"])  # AWS_* from the environment
        assert ls.exit_code == 0 and ls.stdout.split()[-1] == "a.txt"
        show = run(["connection", "show", "lab"])
        assert "environment" in show.stdout and "unusable" in show.stdout
    finally:
        keyring.set_keyring(previous)
    assert_no_secret(refused.stdout + refused.stderr, show.stdout)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["connection", "add", "a b", "--provider", "s3"], "bad connection name"),
        (["connection", "add", "ls", "--provider", "s3"], "is a pail command"),
        (["connection", "add", "x", "--provider", "s3", "--client", "retries=1"], "unknown key"),
        (
            ["connection", "add", "x", "--provider", "s3", "--client", "aws_secret_access_key=1"],
            "never given as arguments",
        ),
        (["connection", "add", "x", "--provider", "local"], "needs --root"),
        (["connection", "test", "nope"], "no saved connection"),
        (["connection", "remove", "nope"], "no saved connection"),
    ],
)
def test_bad_usage(args, words):
    result = run_input(args, "")
    assert result.exit_code == EXIT_USAGE, result.stdout
    assert words in result.stderr and "Traceback" not in result.stderr


def test_existing_name_needs_replace(s3_endpoint):
    assert add_lab(s3_endpoint, "--no-secrets", secrets="").exit_code == 0
    again = add_lab(s3_endpoint, "--no-secrets", secrets="")
    assert again.exit_code == EXIT_USAGE and "--replace" in again.stderr


def test_client_options_reach_the_s3_client(s3_endpoint):
    args = ["--no-secrets", "--client", "max_attempts=1", "--client", "read_timeout=7"]
    args += ["--write", "ServerSideEncryption=AES256"]
    assert add_lab(s3_endpoint, *args, secrets="").exit_code == 0
    spec = ConnectionStore().get("lab")
    assert spec.client_options == {"max_attempts": 1, "read_timeout": 7.0}
    driver = open_spec(spec).driver
    config = driver.client.meta.config
    assert config.retries["total_max_attempts"] == 1 and config.read_timeout == 7.0
    assert config.s3["addressing_style"] == "path"
    assert driver.write_args == {"ServerSideEncryption": "AES256"}


def test_import_env_moves_aws_secrets_into_the_keyring(s3_endpoint, bucket_name, isolated_config):
    seed_keys(bucket_name, ["runs/x.json"])
    env = {
        "FML_S3_ENDPOINT_URI": s3_endpoint,
        "FML_S3_USE_PATH_STYLE": "true",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-east-1",
    }
    result = run(["connection", "import-env", "fml"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "FML_S3_ENDPOINT_URI" in result.stdout
    assert "moved into the keyring: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in result.stdout
    spec = ConnectionStore().get("fml")
    assert (spec.endpoint_url, spec.path_style, spec.region) == (s3_endpoint, True, "us-east-1")
    assert json.loads(isolated_config.entries[(SERVICE, "fml")])["secret_access_key"] == SECRET
    ls = run(["ls", f"fml:{bucket_name}/runs/"], env=NO_AWS_ENV)
    assert ls.exit_code == 0 and ls.stdout.split()[-1] == "x.json"
    assert_no_secret(result.stdout + result.stderr)


def test_import_env_modelkit_and_llama_stack(s3_endpoint):
    env = {
        "STORAGE_PROVIDER": "s3",
        "MODELKIT_STORAGE_BUCKET": "assets",
        "MODELKIT_STORAGE_PREFIX": "models",
        "S3_ENDPOINT": s3_endpoint,
    }
    assert run(["connection", "import-env", "mk", "--no-secrets"], env=env).exit_code == 0
    spec = ConnectionStore().get("mk")
    assert (spec.endpoint_url, spec.bucket, spec.prefix) == (s3_endpoint, "assets", "models/")
    env = {"S3_BUCKET_NAME": "files", "AWS_REGION": "eu-west-1", "S3_ENDPOINT_URL": s3_endpoint}
    assert run(["connection", "import-env", "llama", "--no-secrets"], env=env).exit_code == 0
    spec = ConnectionStore().get("llama")
    assert (spec.bucket, spec.region, spec.endpoint_url) == ("files", "eu-west-1", s3_endpoint)


def test_import_env_gcs_service_account(tmp_path, isolated_config):
    key = {"type": "service_account", "client_email": "r@p.iam", "private_key": SECRET}
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(key))
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(path), **NO_AWS_ENV}
    result = run(["connection", "import-env", "g"], env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(isolated_config.entries[(SERVICE, "g")])["service_account_info"] == key
    assert str(path) not in config_text()
    show = run(["connection", "show", "g"], env={"GOOGLE_APPLICATION_CREDENTIALS": None})
    rows = dict(line.split(":", 1) for line in show.stdout.splitlines())
    assert (rows["Credentials"].strip(), rows["Identity"].strip()) == ("keyring", "r@p.iam")
    assert_no_secret(result.stdout, show.stdout)


def test_import_env_with_nothing_configured():
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    # STORAGE_EMULATOR_HOST too: the session's gcs_emulator fixture sets it process-wide.
    env = {v: None for v in (*names, "STORAGE_EMULATOR_HOST")}
    result = run(["connection", "import-env", "x"], env=env)
    assert result.exit_code == EXIT_USAGE and "describes no store" in result.stderr


def test_open_targets_and_saved_connections_first(s3_endpoint):
    assert add_lab(s3_endpoint, "--no-secrets", "--bucket", "dflt", secrets="").exit_code == 0
    (spec,) = connections_to_open(["lab:artifacts/runs/"], Flags(), environ={})
    assert (spec.name, spec.saved, spec.bucket, spec.prefix) == ("lab", True, "artifacts", "runs/")
    specs = connections_to_open(["lab", "lab:other/"], Flags(), environ={})
    assert [(s.name, s.bucket, s.pinned) for s in specs] == [("lab", "dflt", (("other", ""),))]
    specs = connections_to_open([], Flags(), environ={"S3_ENDPOINT_URL": "http://x:1"})
    assert [(s.name, s.saved) for s in specs] == [("lab", True), ("s3", False)]


def test_a_broken_config_names_file_and_line_but_uris_still_work(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["k"])
    path = default_config_path()
    with open(path, "w") as fh:
        fh.write('[connections.lab]\nprovider = "azure"\n')
    result = run(["ls", "lab:b/"])
    assert result.exit_code == EXIT_USAGE
    assert f"{path}:2:" in result.stderr and "azure" in result.stderr
    ok = run(["ls", f"s3://{bucket_name}/", "--endpoint-url", s3_endpoint, "--path-style"])
    assert ok.exit_code == 0 and ok.stdout.split()[-1] == "k"


def test_no_secret_in_log_records(s3_endpoint, bucket_name, caplog):
    # Every logger at INFO (what a user sees with logging on) and pail's own at DEBUG.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="pail")
    seed_keys(bucket_name, ["a.txt"])
    assert add_lab(s3_endpoint, "--bucket", bucket_name).exit_code == 0
    for args in (["connection", "test", "lab"], ["ls", "lab"], ["connection", "show", "lab"]):
        assert run(args, env=NO_AWS_ENV).exit_code == 0
    assert caplog.records  # botocore logs where it found credentials, at least
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert_no_secret(text)


def test_gcs_add_imports_the_service_account_key(tmp_path, isolated_config):
    key = {"type": "service_account", "client_email": "r@p.iam", "private_key": SECRET}
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(key))
    args = ["connection", "add", "g", "--provider", "gcs", "--project", "p", "--secret-stdin"]
    result = run_input(args, f"{path}\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(isolated_config.entries[(SERVICE, "g")])["service_account_info"] == key
    assert "keyring (r@p.iam)" in result.stdout
    user = tmp_path / "adc.json"
    user.write_text(json.dumps({"type": "authorized_user", "refresh_token": SECRET}))
    refused = run_input([*args[:-1], "--replace", "--secret-stdin"], f"{user}\n")
    assert refused.exit_code == EXIT_USAGE and "not a service-account key" in refused.stderr
    assert_no_secret(result.stdout, refused.stdout + refused.stderr)


def test_add_and_import_env_record_where_the_secrets_live(s3_endpoint, tmp_path, isolated_config):
    assert add_lab(s3_endpoint).exit_code == 0
    assert add_lab(s3_endpoint, "--replace", "--no-secrets", secrets="").exit_code == 0
    added = run_input(
        ["connection", "add", "k", "--provider", "s3", "--secret-stdin"], f"{KEY_ID}\n{SECRET}\n\n"
    )
    assert added.exit_code == 0, added.stderr
    env = {"S3_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": KEY_ID}
    env["AWS_SECRET_ACCESS_KEY"] = SECRET
    assert run(["connection", "import-env", "imp"], env=env).exit_code == 0
    assert run(["connection", "import-env", "imp2", "--no-secrets"], env=env).exit_code == 0
    local = ["connection", "add", "disk", "--provider", "local", "--root", str(tmp_path)]
    assert run(local).exit_code == 0
    records = {spec.name: spec.secrets_in for spec in ConnectionStore().load()}
    assert records == {
        "lab": "none",
        "k": "keyring",
        "imp": "keyring",
        "imp2": "none",
        "disk": None,
    }
    assert 'secrets = "keyring"' in config_text()
    # --replace --no-secrets also cleared the old keyring entry of lab.
    assert (SERVICE, "lab") not in isolated_config.entries
    show = run(["connection", "show", "k"])
    rows = dict(line.split(":", 1) for line in show.stdout.splitlines())
    assert rows["Secrets"].strip() == "OS keyring (nothing else is used)"
    assert_no_secret(added.stdout + added.stderr, show.stdout)


def test_a_keyring_entry_gone_missing_is_exit_5_not_the_environment(s3_endpoint, isolated_config):
    assert add_lab(s3_endpoint, "--bucket", "b").exit_code == 0
    isolated_config.entries.clear()
    result = run(["connection", "test", "lab"])  # AWS_* of the test session are set
    assert result.exit_code == EXIT_CREDENTIALS, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "pail connection add lab" in result.stderr
    listed = run(["connection", "list"])
    assert listed.exit_code == 0 and "unavailable (keyring entry missing)" in listed.stdout


def test_two_adds_of_one_name_at_once_leave_one_and_refuse_the_other(tmp_path):
    """The name check runs under the config lock: of two concurrent adds of the same name
    without --replace, exactly one succeeds and the other is told to use --replace."""
    import subprocess

    from support.cli import pail_exe

    args = [pail_exe(), "connection", "add", "same", "--provider", "s3", "--no-secrets"]
    procs = [
        subprocess.Popen(
            [*args, "--region", f"r{i}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [EXIT_USAGE] * 5, results
    assert all("--replace" in err for code, _, err in results if code)
    assert ConnectionStore().names() == ["same"]
