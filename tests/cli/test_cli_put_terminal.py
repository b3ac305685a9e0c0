"""`pail put` on a real terminal (the installed executable on a pty): conflicts are asked
(overwrite / skip / keep both, a capital letter for all), as `pail get` asks. Local folders
on both sides: no server needed."""

from __future__ import annotations

import os
import re

from support.pty import run_on_pty

QUESTION = "(capital letter: all):"


def _folders(tmp_path):
    src = tmp_path / "run"
    src.mkdir()
    (src / "a.txt").write_bytes(b"new a")
    (src / "b.txt").write_bytes(b"new b")
    (src / "c.txt").write_bytes(b"same")
    dest = tmp_path / "dest" / "run"
    dest.mkdir(parents=True)
    (dest / "a.txt").write_bytes(b"old a")
    (dest / "b.txt").write_bytes(b"old b")
    (dest / "c.txt").write_bytes(b"same")
    return src, dest


def test_put_asks_once_for_all_and_keeps_both(tmp_path):
    src, dest = _folders(tmp_path)
    status, out = run_on_pty(
        ["put", "-r", "-j", "1", str(src), f"{tmp_path / 'dest'}/"], {QUESTION: "K"}
    )
    assert status == 0, out
    assert out.count(QUESTION) == 1  # "K": keep both for every conflict
    assert sorted(p.name for p in dest.iterdir()) == [
        "a (1).txt",
        "a.txt",
        "b (1).txt",
        "b.txt",
        "c.txt",
    ]
    assert (dest / "a.txt").read_bytes() == b"old a"
    assert (dest / "a (1).txt").read_bytes() == b"new a"
    assert "exists and differs from" in out
    assert "(identical)" in out  # c.txt: same bytes, never asked about


def test_put_answers_one_by_one(tmp_path):
    src, dest = _folders(tmp_path)
    tail = f": [o]verwrite, [s]kip, [k]eep both {QUESTION}"
    answers = {f"{src}/a.txt{tail}": "o", f"{src}/b.txt{tail}": "s"}
    status, out = run_on_pty(["put", "-r", str(src), f"{tmp_path / 'dest'}/"], answers)
    assert status == 0, out
    assert out.count(QUESTION) == 2
    assert (dest / "a.txt").read_bytes() == b"new a"
    assert (dest / "b.txt").read_bytes() == b"old b"
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt", "b.txt", "c.txt"]
    assert "pail: 1 copied" in out and "2 skipped" in out


def test_put_draws_a_transient_bar_on_a_terminal(tmp_path):
    src = tmp_path / "big"
    src.mkdir()
    (src / "w.bin").write_bytes(os.urandom(3_000_000))
    (src / "m.json").write_bytes(b"{}")
    status, out = run_on_pty(["put", "-r", str(src), f"{tmp_path / 'dest'}/"], {}, term="xterm")
    assert status == 0, out
    assert "/2 objects" in out and "ETA" in out  # objects, bytes, rate, ETA were drawn
    left = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.rsplit("\x1b[2K", 1)[-1])
    assert "objects" not in left and "pail: 2 copied" in left  # nothing of it stays
    assert (tmp_path / "dest" / "big" / "w.bin").stat().st_size == 3_000_000
