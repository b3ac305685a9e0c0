"""``pail doctor`` and ``pail ls`` when what answers is not (all) S3, through the fault
proxy in front of moto: STS answering a plain-text 404 (stores without STS), a web app
answering HTML, a filer-like port answering JSON or an HTML 404, and an endpoint URL with
the bucket in its path. Every path ends in a report or an error message with an exit
status, never a traceback (support.cli.run re-raises anything that escapes click), never
the page's markup; and the command line never prints the app's key hints ("Press r")."""

from __future__ import annotations

import json

from pail.cli.errors import EXIT_CREDENTIALS, EXIT_UNREACHABLE
from support.cli import run, s3_args
from support.fault_proxy import Rule
from support.servers import seed_keys

MARKUP = ("<html", "<!DOCTYPE", "<h1>", "<body", "Please sign in")
FILER_JSON = b'{"Path":"/","Entries":null,"Limit":100,"ShouldDisplayLoadMore":false}'


def _doctor(endpoint: str, bucket: str, *args: str):
    return run(["doctor", *s3_args(endpoint), *args, f"s3://{bucket}/data/"])


def _no_markup(text: str) -> None:
    assert not any(m in text for m in MARKUP), text


def test_sts_plain_text_404_leaves_the_identity_unknown_and_the_check_goes_on(
    s3_endpoint, bucket_name, faults
) -> None:
    seed_keys(bucket_name, {"data/a.txt": b"a"})
    faults.add(
        Rule(method="POST", path="^/$", times=None, action="reply", status=404, body=b"Not Found")
    )
    result = _doctor(faults.url, bucket_name)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Identity: identity call unavailable (GetCallerIdentity: 404 NotS3)" in out
    assert "  ✔ ListBucket " in out and "  ✔ GetObject " in out


def test_a_web_app_endpoint_is_reported_row_by_row(s3_endpoint, bucket_name, faults) -> None:
    faults.add(Rule(times=None, action="html"))
    result = _doctor(faults.url, bucket_name, "--json")
    assert result.exit_code == EXIT_UNREACHABLE, result.output
    data = json.loads(result.stdout)
    rows = {r["name"]: r for r in data["rows"]}
    assert rows["ListBucket"]["state"] == "error"
    assert rows["ListBucket"]["error"]["code"] == "NotS3"
    assert rows["ListBucket"]["error"]["status"] == 200
    assert all(r["state"] in ("error", "not checked") for r in data["rows"])
    _no_markup(result.output)
    text = _doctor(faults.url, bucket_name)
    assert text.exit_code == EXIT_UNREACHABLE
    assert "The endpoint does not speak S3" in text.stdout
    assert "answered HTTP 200 with an HTML page (text/html), not S3 XML" in text.stdout
    assert "Press" not in text.output
    _no_markup(text.output)


def test_a_filer_port_answering_json_or_an_html_404(s3_endpoint, bucket_name, faults) -> None:
    faults.add(
        Rule(
            times=None, action="reply", status=200, body=FILER_JSON, content_type="application/json"
        )
    )
    result = _doctor(faults.url, bucket_name)
    assert result.exit_code == EXIT_UNREACHABLE, result.output
    assert "with JSON (application/json), not S3 XML" in result.stdout
    assert '"Entries"' not in result.output
    faults.reset()
    page = b"<html><body><h1>404 page not found</h1></body></html>"
    faults.add(Rule(times=None, action="reply", status=404, body=page, content_type="text/html"))
    result = _doctor(faults.url, bucket_name)
    assert result.exit_code == EXIT_UNREACHABLE, result.output
    assert "answered HTTP 404 with an HTML page (text/html)" in result.stdout
    assert "Check the bucket name" not in result.output
    _no_markup(result.output)


def test_an_endpoint_with_the_bucket_in_its_path_never_ends_in_a_traceback(
    s3_endpoint, bucket_name
) -> None:
    seed_keys(bucket_name, {"data/a.txt": b"a"})
    result = _doctor(f"{s3_endpoint}/{bucket_name}", bucket_name)
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "ResponseParserError" not in result.output
    assert bucket_name in result.output  # the report or the usage error names it


def test_ls_of_a_web_app_says_it_is_not_s3_and_prints_no_app_hint(
    s3_endpoint, bucket_name, faults
) -> None:
    faults.add(Rule(times=None, action="html"))
    result = run(["ls", *s3_args(faults.url), f"s3://{bucket_name}/runs/"])
    assert result.exit_code == EXIT_UNREACHABLE
    err = result.stderr
    assert "not S3 XML" in err and "does not speak S3" in err
    assert "Check the bucket name" not in err and "404" not in err
    assert "Press" not in err
    _no_markup(err)


def test_a_500_on_every_attempt_on_the_command_line(s3_endpoint, bucket_name, faults) -> None:
    faults.add(Rule(path=f"^/{bucket_name}$", times=None, status=500))
    result = run(["ls", *s3_args(faults.url), "--retries", "1", f"s3://{bucket_name}/"])
    assert result.exit_code == 1
    err = result.stderr
    assert "(the same answer on all 2 attempts)" in err
    assert "on every one of the 2 attempts" in err
    assert "Press" not in err and "temporary" not in err


def test_an_asia_key_without_a_token_names_aws_session_token(moto_iam_server) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "ASIAPAILTEMP00000002",
        "AWS_SECRET_ACCESS_KEY": "pail-temporary-secret-value",
        "AWS_SESSION_TOKEN": None,
    }
    uri = f"s3://{moto_iam_server.bucket}/"
    result = run(["ls", *s3_args(moto_iam_server.endpoint), uri], env=env)
    assert result.exit_code == EXIT_CREDENTIALS
    assert "AWS_SESSION_TOKEN" in result.stderr and "starts with ASIA" in result.stderr
    assert "pail-temporary-secret-value" not in result.output
    doctor = run(["doctor", *s3_args(moto_iam_server.endpoint), uri], env=env)
    assert doctor.exit_code == EXIT_CREDENTIALS
    assert "A temporary access key was sent without its session token" in doctor.stdout
