"""`pail put` on a real terminal (the installed executable on a pty): conflicts are asked
(overwrite / skip / keep both, a capital letter for all), as `pail get` asks. Local folders
on both sides: no server needed."""

from __future__ import annotations

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
