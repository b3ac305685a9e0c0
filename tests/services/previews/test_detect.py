"""The syntax lexer of a preview comes from Pygments' own filename table, for the previews
and the app alike (pail.services.previews.detect.language_for)."""

from __future__ import annotations

import pytest
from pygments.lexers import get_lexer_by_name

from pail.services.previews.detect import language_for


@pytest.mark.parametrize(
    ("key", "language"),
    [
        ("src/train.py", "python"),
        ("stubs/x.pyi", "python"),
        ("config.yaml", "yaml"),
        ("config.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("metrics.json", "json"),
        ("events.jsonl", "json"),
        ("events.ndjson", "json"),
        ("params.json.gz", "json"),  # looked up without the .gz
        ("MODEL.JSON", "json"),  # then in lower case
        ("area.geojson", "json"),  # the two ML names Pygments lacks
        ("analysis.ipynb", "json"),
        ("README.md", "markdown"),
        ("run.sh", "bash"),
        ("setup.cfg", "ini"),
        ("Dockerfile", "docker"),
        ("Makefile", "make"),
        ("main.rs", "rust"),
        ("model.proto", "protobuf"),
        ("analysis.R", "splus"),
    ],
)
def test_language_for_known_names(key, language):
    assert language_for(key) == language
    assert get_lexer_by_name(language) is not None  # a name Rich's Syntax can load


@pytest.mark.parametrize(
    "key",
    [
        "notes.txt",
        "requirements.txt",
        "train.log",
        "stdout.out",
        "model.ckpt",
        "weights.bin",
        "LICENSE",
        "runs/",
        "",
        "no-extension",
        ".gz",
    ],
)
def test_plain_text_and_unknown_names_have_no_language(key):
    assert language_for(key) is None
