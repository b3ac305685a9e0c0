"""Start-up stays cheap: the command line imports SDKs, Textual and the heavy services only
inside the commands that use them, and ``pail --version`` reads no package metadata.

Each check runs a fresh interpreter (this test process has long since imported everything)
and reads its ``sys.modules`` after the import or command.
"""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

import pail
from pail.cli.main import LAZY_COMMANDS, cli

#: Top-level packages ``import pail.cli.main`` must not load: each costs tens to hundreds of
#: milliseconds (google-cloud-storage ~0.5 s, boto3 ~0.2 s, Textual ~0.3 s).
HEAVY = {
    "textual",
    "textual_image",
    "rich",
    "boto3",
    "botocore",
    "s3transfer",
    "awscrt",
    "google",
    "requests",
    "urllib3",
    "pyarrow",
    "PIL",
    "pygments",
    "keyring",
    "humanize",
    "moto",
}

#: pail modules only some commands need (the download and delete engines, access checks,
#: previews, the app, the demo store).
HEAVY_PAIL = (
    "pail.services.download",
    "pail.services.delete",
    "pail.services.access",
    "pail.services.previews",
    "pail.services.lifecycle",
    "pail.ui",
    "pail.demo",
)


def _modules_after(code: str) -> list[str]:
    """Names in ``sys.modules`` after running ``code`` in a fresh interpreter (a
    ``SystemExit`` from a click command is caught so the list is still printed)."""
    program = (
        "import json, sys\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "except SystemExit:\n"
        "    pass\n"
        "sys.stdout.flush()\n"
        "sys.__stdout__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES "))


def _heavy(modules: list[str]) -> list[str]:
    third_party = sorted({m.split(".")[0] for m in modules} & HEAVY)
    ours = sorted(m for m in modules if m.startswith(HEAVY_PAIL))
    return third_party + ours


def test_importing_the_command_line_loads_no_sdk_toolkit_or_engine() -> None:
    modules = _modules_after("import pail.cli.main")
    assert "pail.cli.main" in modules  # the import itself happened
    assert _heavy(modules) == []


def test_version_reads_no_package_metadata_and_loads_no_command() -> None:
    modules = _modules_after("from pail.cli.main import main\nmain(['--version'])")
    assert "importlib.metadata" not in modules
    assert _heavy(modules) == []
    # Nothing beyond the import itself: no lazily registered command was loaded.
    assert set(modules) <= set(_modules_after("import pail.cli.main"))


def test_version_prints_the_one_written_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pail", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"pail {pail.__version__}\n"


def test_listing_a_folder_loads_no_sdk_toolkit_or_engine(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("x")
    modules = _modules_after(f"from pail.cli.main import main\nmain(['ls', {str(tmp_path)!r}])")
    assert "pail.drivers.local" in modules  # the listing ran
    assert _heavy(modules) == []


def test_a_lazy_command_is_imported_only_when_named() -> None:
    modules = _modules_after("from pail.cli.main import main\nmain(['doctor', '--help'])")
    assert "pail.cli.doctor" in modules
    assert not {"pail.cli.du", "pail.cli.rm", "pail.cli.get", "pail.cli.lifecycle"} & set(modules)


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_every_lazy_command_resolves_to_itself(name: str) -> None:
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, name)
    assert command is not None and command.name == name


def test_lazy_modules_register_only_the_commands_listed() -> None:
    """A module that added a command missing from LAZY_COMMANDS would hide it from
    ``pail --help`` and from the group's parser until some other command loaded it."""
    with click.Context(cli) as ctx:
        for name in LAZY_COMMANDS:
            cli.get_command(ctx, name)
        assert set(cli.commands) == {"open", "ls", "demo", *LAZY_COMMANDS}
        assert cli.list_commands(ctx) == sorted(cli.commands)
