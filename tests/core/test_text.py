"""Terminal-safe text: every way pail.core.text shows a hostile string, and the one set of
characters it never lets through."""

from __future__ import annotations

import re
import shlex
import subprocess
import unicodedata

import pytest

from pail.core.text import CONTROLS, INVISIBLE, clip, one_line, printable, safe_text, shell_quote

ESC_SEQUENCES = [
    "\x1b[2J",  # CSI: clear the screen
    "\x1b[31mred\x1b[0m",  # SGR colours
    "\x1b]0;pwned\x07",  # OSC 0: window title, BEL-terminated
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
    "\x1b]52;c;ZXZpbA==\x1b\\",  # OSC 52, ST-terminated
    "\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1bP+q544e\x1b\\",  # DCS: terminal queries
    "\x9b31m",  # 8-bit CSI (C1)
    "\x9d0;title\x9c",  # 8-bit OSC and ST (C1)
    "\x90q\x9c",  # 8-bit DCS
    "a\rb",  # carriage return: overwrite the line
    "a\x08b",  # backspace
    "\x7f",  # DEL
    "\x00",
]
BIDI = [
    "\u202a",  # LRE
    "\u202b",  # RLE
    "\u202c",  # PDF
    "\u202d",  # LRO
    "\u202e",  # RLO ("Trojan Source")
    "\u2066",  # LRI
    "\u2067",  # RLI
    "\u2068",  # FSI
    "\u2069",  # PDI
    "\u200e",  # LRM
    "\u200f",  # RLM
    "\u061c",  # ALM
]
HIDDEN = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # BOM / zero-width no-break space
    "\u00ad",  # soft hyphen
    "\u180e",  # Mongolian vowel separator
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\U000e0041",  # TAG LATIN CAPITAL LETTER A (hides ASCII)
    "\U000e0001",  # LANGUAGE TAG
]
HOSTILE = [*ESC_SEQUENCES, *BIDI, *HIDDEN]
_NEVER = re.compile(f"[{CONTROLS}{INVISIBLE}\ud800-\udfff]")


def _unsafe(text: str, keep: str = "") -> list[str]:
    return [ch for ch in text if _NEVER.match(ch) and ch not in keep]


# -- the sets ---------------------------------------------------------------------------


def test_every_format_character_and_separator_of_this_python_is_covered():
    """INVISIBLE holds Unicode 15.1's Cf, Zl and Zp; a newer Python's Unicode adding one
    fails here (add it to the table)."""
    missing = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in ("Cf", "Zl", "Zp") and not _NEVER.match(chr(code))
    ]
    assert missing == []


def test_the_sets_leave_ordinary_text_alone():
    text = "runs/ünï/模型/🙂 loss=0.25 [bold]x[/] ~$`'\"\\ ﷺ Ω"
    for show in (printable, safe_text, one_line, clip):
        assert show(text) == text


# -- printable: one line, backslash escapes ------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_printable_lets_nothing_through(hostile):
    shown = printable(f"key{hostile}name")
    assert _unsafe(shown) == [] and shown.isprintable()
    assert shown.startswith("key") and shown.endswith("name")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "evil\x1b[31mred\x07\u202egnp.exe [bold red]x",
            "evil\\x1b[31mred\\x07\\u202egnp.exe [bold red]x",
        ),
        ("a\tb\nc\r\n", "a\\tb\\nc\\r\\n"),
        ("\x00\x1f\x7f\x80\x9b\x9f", "\\x00\\x1f\\x7f\\x80\\x9b\\x9f"),
        ("\u2066x\u2069\u061c\u200b", "\\u2066x\\u2069\\u061c\\u200b"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("bad\udcff\udc9bname.txt", "bad\\xff\\x9bname.txt"),  # surrogateescape'd bytes
        ("lone\ud800", "lone\\ud800"),
        ("", ""),
    ],
)
def test_printable(text, shown):
    assert printable(text) == shown


def test_printable_takes_any_object():
    assert printable(ValueError("a\x1bb")) == "a\\x1bb"
    assert printable(403) == "403"


# -- safe_text: several lines, pictures ----------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_safe_text_lets_nothing_through_but_tab_and_line_feed(hostile):
    shown = safe_text(f"line 1\n\tline 2 {hostile} end")
    assert _unsafe(shown, keep="\t\n") == []
    assert shown.startswith("line 1\n\tline 2 ") and shown.endswith(" end")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ok\x1b[2J\x1b]0;title\x07\r\nnext\x9b", "ok␛[2J␛]0;title␇\nnext\ufffd"),
        ("a\tb\nc", "a\tb\nc"),
        ("over\rwrite", "over␍write"),
        ("del\x7f nul\x00", "del␡ nul␀"),
        ("\x1b]52;c;ZXZpbA==\x07", "␛]52;c;ZXZpbA==␇"),
        ("c1 \x85\x9d\x9c", "c1 \ufffd\ufffd\ufffd"),
        ("abc\u202edef", "abc<U+202E>def"),
        ("zw\u200b\u200d\ufeff", "zw<U+200B><U+200D><U+FEFF>"),
        ("tag\U000e0041", "tag<U+E0041>"),
        ("sep\u2028x", "sep<U+2028>x"),
        ("bad\udcff", "bad\ufffd"),
    ],
)
def test_safe_text(text, shown):
    assert safe_text(text) == shown


def test_safe_text_is_idempotent():
    once = safe_text("".join(HOSTILE) + "\r\n\t")
    assert safe_text(once) == once


# -- one_line and clip: one line, pictures ------------------------------------------------


@pytest.mark.parametrize("hostile", [*HOSTILE, "\n", "\t", "\r\n", "\n\n"])
def test_one_line_lets_nothing_through(hostile):
    shown = one_line(f"key{hostile}name")
    assert _unsafe(shown) == [] and "\n" not in shown and "\t" not in shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\tb\nc", "a␉b⏎c"),
        ("x\r\ny", "x⏎y"),
        ("esc\x1b[31mred.txt", "esc␛[31mred.txt"),
        ("\u202egnp.exe", "<U+202E>gnp.exe"),
        ("", ""),
    ],
)
def test_one_line(text, shown):
    assert one_line(text) == shown


def test_clip_cuts_then_escapes():
    assert clip("x\x1b[2J\ny", 5) == "x␛[2…"
    assert clip("a" * 300) == "a" * 199 + "…"
    assert clip("a" * 200) == "a" * 200
    assert clip("x\x1b[2J\ny", 200) == "x␛[2J⏎y"
    assert clip("line 1\nline 2\t\x1b", 200, one_line=False) == "line 1\nline 2\t␛"
    assert clip(ValueError("bad\u202e"), 50) == "bad<U+202E>"


# -- shell_quote ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", "plain"),
        ("a b", "'a b'"),
        ("it's", "'it'\"'\"'s'"),
        ("evil\x1b]52;c;x\x07\nname's", "$'evil\\x1b]52;c;x\\x07\\x0aname\\'s'"),
        ("a\u202eb", "$'a\\xe2\\x80\\xaeb'"),  # UTF-8 bytes: exact in any locale
        ("csi\x9b", "$'csi\\xc2\\x9b'"),  # U+009B, not the byte 0x9B
        ("zw\u200bx\\", "$'zw\\xe2\\x80\\x8bx\\\\'"),
        ("tag\U000e0041", "$'tag\\xf3\\xa0\\x81\\x81'"),
        ("bad\udcffname", "$'bad\\xffname'"),
    ],
)
def test_shell_quote(text, quoted):
    assert shell_quote(text) == quoted


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_quoted_word_carries_nothing_raw(hostile):
    quoted = shell_quote(f"s3://b/k{hostile}.txt")
    assert _unsafe(quoted) == []


# A shell word cannot hold NUL at all (C strings), so that one is left out.
@pytest.mark.parametrize(
    "hostile", [*(h for h in HOSTILE if "\x00" not in h), "it's", "$(id)", "`id`", "a\\b", "-rf"]
)
def test_bash_reads_the_exact_text_back(hostile):
    """The word means the same text to a real bash, whatever the locale."""
    text = f"k{hostile}.txt\udcff"  # and an undecodable byte of a local file name
    script = f"printf %s {shell_quote(text)}"
    for locale in ("C", "C.UTF-8"):
        out = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            timeout=30,
            check=True,
            env={"LC_ALL": locale, "PATH": "/usr/bin:/bin"},
        )
        assert out.stdout.decode("utf-8", "surrogateescape") == text


def test_a_plain_word_is_shlex_quoted():
    assert shlex.split(shell_quote("a b")) == ["a b"]
    assert shell_quote("") == "''"
