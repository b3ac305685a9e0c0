"""Imports point one way: ui/cli -> services -> drivers.

Nothing under ``pail/drivers`` or ``pail/services`` may import Textual or Rich, and the
SDK-backed drivers import their SDKs lazily (google-cloud-storage costs ~0.5 s).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "app" / "pail"
FORBIDDEN = {"textual", "rich"}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every import statement anywhere in the tree."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _top_level_modules(tree: ast.Module) -> list[str]:
    """Modules imported by statements at module level (not inside functions)."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _sources(*layers: str) -> list[Path]:
    return sorted(p for layer in layers for p in (PACKAGE / layer).rglob("*.py"))


def test_the_walk_finds_the_layers() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in _sources("drivers", "services")}
    assert {"drivers/base.py", "drivers/errors.py", "drivers/s3/driver.py"} <= names
    assert "drivers/gcs/driver.py" in names


@pytest.mark.parametrize(
    "path", _sources("drivers", "services"), ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_no_textual_or_rich_below_the_ui(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [
        f"{path.name}:{line} imports {module}"
        for line, module in _imported_modules(tree)
        if module.split(".")[0] in FORBIDDEN
    ]
    assert not bad, "; ".join(bad)


@pytest.mark.parametrize(
    ("module", "sdk"),
    [
        ("s3/__init__.py", {"boto3", "botocore"}),
        ("s3/driver.py", {"boto3", "botocore"}),
        ("s3/errors.py", {"boto3", "botocore"}),
        ("gcs/__init__.py", {"google", "requests"}),
        ("gcs/driver.py", {"google", "requests"}),
        ("gcs/errors.py", {"google", "requests"}),
        ("registry.py", {"google", "boto3", "botocore"}),
    ],
)
def test_sdks_are_imported_lazily(module: str, sdk: set[str]) -> None:
    tree = ast.parse((PACKAGE / "drivers" / module).read_text(encoding="utf-8"))
    eager = [m for m in _top_level_modules(tree) if m.split(".")[0] in sdk]
    assert not eager, f"{module} imports {eager} at module level"


def test_importing_the_drivers_does_not_load_google_cloud_storage() -> None:
    code = (
        "import sys, pail.drivers.registry, pail.drivers.gcs.driver, pail.drivers.s3.driver;"
        "print(sorted(m for m in ('google.cloud.storage', 'textual', 'rich') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
