"""Every private attribute of an SDK or toolkit that pail's code reads or writes still exists
in the installed version, with the shape pail expects. Real objects only: boto3 clients on
the moto server, google-cloud-storage clients on the emulator, Textual trees.

One test per use, named after the module that depends on it; each use carries a comment
naming the version it was checked against. botocore's retry hooks (event names, the
``retry-config-<service>`` handler id) are behaviour rather than attributes:
tests/drivers/test_retry_faults.py covers them.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import threading
from pathlib import Path

import pytest

from support.servers import gcs_client

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[1]


# -- botocore: pail/drivers/s3/probes.py ------------------------------------------------


def test_s3_probes_client_signs_with_request_signer_credentials(s3_endpoint) -> None:
    """``_sts_client`` signs STS requests with ``s3._request_signer._credentials``."""
    from pail.drivers.s3 import S3Driver
    from pail.drivers.s3.probes import caller_identity

    driver = S3Driver(
        endpoint_url=s3_endpoint,
        region=REGION,
        path_style=True,
        access_key_id="AKIAPAILINTERNALS",
        secret_access_key="not-a-secret",
    )
    signer = driver.client._request_signer
    frozen = signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("AKIAPAILINTERNALS", "not-a-secret")
    # The whole path: an STS client built from those credentials answers on moto.
    assert caller_identity(driver).kind != "anonymous"


# -- botocore: pail/drivers/s3/errors.py ------------------------------------------------


def test_s3_answer_check_moves_botocores_200_error_handler() -> None:
    """``install_answer_check`` re-registers ``botocore.handlers._handle_200_error`` after
    pail's check (else a 2xx HTML or JSON answer becomes a retried 500 first); behaviour:
    tests/drivers/test_foreign_answers.py."""
    from botocore import handlers

    from pail.drivers.s3.errors import _BOTOCORE_200_HANDLER

    assert callable(getattr(handlers, _BOTOCORE_200_HANDLER, None))
    registered = [h for event, h, *_ in handlers.BUILTIN_HANDLERS if event == "before-parse.s3.*"]
    assert getattr(handlers, _BOTOCORE_200_HANDLER) in registered


# -- google-cloud-storage: pail/drivers/gcs/driver.py -----------------------------------


def test_gcs_driver_quiets_the_only_cache_the_sdk_consults(gcs_emulator) -> None:
    """``_no_background_fetch`` sets ``client._bucket_metadata_cache`` to None; the SDK's
    trace-span helper must consult no other cache attribute (a renamed one would bring the
    unrequested ``storage.buckets.get`` back)."""
    from google.cloud.storage import _helpers

    from pail.drivers.gcs import GcsDriver

    helper = getattr(_helpers, "create_trace_span_helper", None)  # 3.x, not 3.0.0
    source = inspect.getsource(helper) if helper is not None else ""
    consulted = set(re.findall(r"client\.(_\w*cache\w*)", source))
    assert consulted <= {"_bucket_metadata_cache"}, consulted
    client = gcs_client(gcs_emulator)
    if consulted:  # google-cloud-storage 3.x: the cache is on by default
        assert client._bucket_metadata_cache
    GcsDriver(client=client)._client()
    assert getattr(client, "_bucket_metadata_cache", None) is None


def test_gcs_head_reads_blob_properties(gcs_emulator, bucket_name) -> None:
    """``head`` reads ``blob._properties.get("customerEncryption")``."""
    from pail.drivers.gcs import GcsDriver

    client = gcs_client(gcs_emulator)
    client.create_bucket(bucket_name)
    client.bucket(bucket_name).blob("k.txt").upload_from_string(b"hello")
    blob = client.bucket(bucket_name).get_blob("k.txt")
    assert isinstance(blob._properties, dict)
    assert blob._properties["name"] == "k.txt" and "customerEncryption" not in blob._properties
    info = GcsDriver(client=client).head(bucket_name, "k.txt")
    assert info.size == 5


# -- google-cloud-storage: pail/drivers/gcs/versions.py ---------------------------------


def test_gcs_lifecycle_reads_bucket_properties(gcs_emulator, bucket_name) -> None:
    """``get_lifecycle`` reads ``bucket._properties["lifecycle"]["rule"]``: the layout the
    SDK's own ``lifecycle_rules`` setter writes (the API resource's)."""
    client = gcs_client(gcs_emulator)
    client.create_bucket(bucket_name)
    found = client.get_bucket(bucket_name)
    assert isinstance(found._properties, dict) and found._properties["name"] == bucket_name
    rule = {"action": {"type": "Delete"}, "condition": {"age": 30}}
    found.lifecycle_rules = [rule]
    assert found._properties["lifecycle"] == {"rule": [rule]}


# -- google-cloud-storage: pail/drivers/gcs/delete.py -----------------------------------


def test_gcs_delete_reads_batch_responses(gcs_emulator, bucket_name) -> None:
    """``gcs_delete`` reads ``batch._responses`` after ``with batch``: one response per
    call, in call order, each with ``status_code`` and ``json()``."""
    client = gcs_client(gcs_emulator)
    client.create_bucket(bucket_name)
    client.bucket(bucket_name).blob("there").upload_from_string(b"x")
    batch = client.batch(raise_exception=False)
    with batch:
        client.bucket(bucket_name).blob("there").delete()
        client.bucket(bucket_name).blob("missing").delete()
    responses = batch._responses
    assert isinstance(responses, list) and len(responses) == 2
    assert 200 <= responses[0].status_code < 300
    assert responses[1].status_code == 404
    assert isinstance(responses[1].json(), dict)


# -- google-cloud-core: pail/drivers/gcs/probes.py --------------------------------------


def test_gcs_caller_identity_reads_client_credentials(gcs_emulator) -> None:
    """``caller_identity`` reads ``client._credentials``."""
    from google.auth.credentials import AnonymousCredentials, Credentials

    from pail.drivers.gcs import GcsDriver
    from pail.drivers.gcs.probes import caller_identity

    client = gcs_client(gcs_emulator)
    assert isinstance(client._credentials, Credentials)
    assert isinstance(client._credentials, AnonymousCredentials)
    assert caller_identity(GcsDriver(client=client)).kind == "anonymous"


def test_identity_of_impersonated_credentials_uses_the_public_email() -> None:
    """pail/drivers/identity.py read ``_target_principal``; the public
    ``service_account_email`` property gives the same address."""
    from google.auth import impersonated_credentials
    from google.auth.credentials import AnonymousCredentials

    from pail.drivers.identity import identity_from_google

    credentials = impersonated_credentials.Credentials(
        source_credentials=AnonymousCredentials(),
        target_principal="runner@proj.iam.gserviceaccount.com",
        target_scopes=["https://www.googleapis.com/auth/devstorage.read_only"],
    )
    identity = identity_from_google(credentials, "proj")
    assert identity.kind == "impersonated"
    assert identity.email == "runner@proj.iam.gserviceaccount.com"


# -- Textual: pail/ui/widgets/tree_labels.py --------------------------------------------


def test_tree_nodes_keep_label_text_and_update_counter() -> None:
    """``NodeLabels`` reads ``node._label`` (a Text) and ``node._updates`` (an int bumped
    by every change, its width cache key)."""
    from rich.text import Text
    from textual.widgets import Tree

    node = Tree("root").root.add("first")
    assert isinstance(node._label, Text) and node._label.plain == "first"
    before = node._updates
    assert isinstance(before, int)
    node.set_label("second")
    assert node._label.plain == "second" and node._updates > before


# -- textual-image: pail/ui/image_support.py --------------------------------------------


def test_textual_image_cell_size_answers_from_result_attribute() -> None:
    """``_import`` sets ``get_cell_size._result`` so the terminal is never queried."""
    from textual_image import _terminal

    had = hasattr(_terminal.get_cell_size, "_result")
    saved = getattr(_terminal.get_cell_size, "_result", None)
    try:
        _terminal.get_cell_size._result = _terminal.CellSize(7, 13)
        assert _terminal.get_cell_size() == _terminal.CellSize(7, 13)
    finally:
        if had:
            _terminal.get_cell_size._result = saved
        else:
            del _terminal.get_cell_size._result


# -- CPython: pail/ui/executor.py --------------------------------------------------------


def test_thread_pool_registry_holds_live_workers() -> None:
    """``lingering_threads`` reads ``concurrent.futures.thread._threads_queues``."""
    import concurrent.futures
    import concurrent.futures.thread

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        worker = pool.submit(threading.current_thread).result()
        assert worker in list(concurrent.futures.thread._threads_queues.keys())


@pytest.mark.parametrize(
    ("module", "needle"),
    [
        ("pail.drivers.s3.probes", "_request_signer"),
        ("pail.drivers.s3.errors", "_request_signer"),
        ("pail.drivers.gcs.driver", "_bucket_metadata_cache"),
        ("pail.drivers.gcs.driver", "_properties"),
        ("pail.drivers.gcs.versions", "_properties"),
        ("pail.drivers.gcs.delete", "_responses"),
        ("pail.drivers.gcs.probes", "_credentials"),
    ],
)
def test_each_sdk_internal_use_names_the_version_checked(module: str, needle: str) -> None:
    """The comment beside each use names the SDK version it was checked against."""
    import importlib

    lines = inspect.getsource(importlib.import_module(module)).splitlines()
    uses = [i for i, line in enumerate(lines) if f".{needle}" in line or f'"{needle}"' in line]
    assert uses, f"{module} no longer uses {needle}: drop its test"
    for i in uses:
        # The comment's lines (or docstring's) above the use, as one line of words.
        window = " ".join(line.strip().lstrip("#").strip() for line in lines[max(0, i - 8) : i])
        assert re.search(r"checked against [\w.-]+ \d+\.\d+", window, re.I), (module, i)


# -- every package app/ imports is declared (pyproject.toml) ------------------------------


def _normal(name: str) -> str:
    """A distribution name in PEP 503 normal form."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    """Distribution names in ``[project] dependencies`` and every optional extra."""
    import tomlkit

    project = tomlkit.parse((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    found = (re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(r)) for r in requirements)
    return {_normal(m.group(0)) for m in found if m}


def _imported_modules() -> dict[str, set[str]]:
    """Dotted names imported anywhere under app/pail (``from a import b`` gives ``a`` and
    ``a.b``) that are neither pail's own nor the standard library's -> files."""
    out: dict[str, set[str]] = {}
    for path in (ROOT / "app" / "pail").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("pail", "__future__"):
                    out.setdefault(name, set()).add(path.name)
    return out


def test_every_imported_package_is_declared() -> None:
    """pail imports only packages pyproject.toml declares (a package that arrives as
    another's dependency can vanish with that dependency's next release)."""
    import importlib.metadata

    owners: dict[str, set[str]] = {}  # package or module path -> distributions
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            path = str(file)
            if path.endswith("/__init__.py"):
                package = path[: -len("/__init__.py")].replace("/", ".")
                owners.setdefault(package, set()).add(dist.metadata["Name"])
            elif path.endswith(".py") and "/" not in path:
                owners.setdefault(path[:-3], set()).add(dist.metadata["Name"])
    declared = _declared()
    missing: dict[str, set[str]] = {}  # distribution -> files importing it
    for module, files in _imported_modules().items():
        parts = module.split(".")
        # The longest prefix some distribution provides (google.cloud.storage, not google).
        prefixes = (".".join(parts[:n]) for n in range(len(parts), 0, -1))
        dists = next((owners[p] for p in prefixes if p in owners), None)
        if dists is None:
            continue  # a name inside a module (from a import function), seen via its module
        if not {_normal(d) for d in dists} & declared:
            missing.setdefault(" or ".join(sorted(dists)), set()).update(files)
    lines = [f"{dist} (in {', '.join(sorted(files))})" for dist, files in missing.items()]
    assert not missing, "undeclared: " + "; ".join(sorted(lines))
