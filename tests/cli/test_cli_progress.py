"""The command line's live progress (rich.progress on stderr) on a real pseudo-terminal:
the installed ``pail`` with a folder as the store. On an ``xterm`` the display is drawn,
taken down for a question and erased at the end; on a ``dumb`` terminal nothing is drawn.
Off a terminal (CliRunner) see test_cli_get / test_cli_du / test_cli_rm: plain lines only.
The shared part of get/put/cp/mv's display (JobDisplay: figures, questions, an answer for
all) is also driven here off a terminal, with a real download and its answer on stdin.
"""

from __future__ import annotations

import io
import os
import re
import threading

from pail.cli.progress import JobDisplay, clock, size_words
from pail.drivers.local import LocalDriver
from pail.services.download import Downloader, DownloadJob, plan_keys
from support.pty import run_on_pty

ERASE = "\x1b[2K"  # rich erases the display's line with this (a transient display)
QUESTION = "(capital letter: all):"


def _run(tmp_path):
    """A run folder (one 2 MB file, one small) and a destination where metrics.json
    already exists with other bytes (a conflict)."""
    src = tmp_path / "store" / "run"
    (src / "model").mkdir(parents=True)
    (src / "model" / "w.bin").write_bytes(os.urandom(2_000_000))
    (src / "metrics.json").write_bytes(b'{"loss": 0.25}')
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "metrics.json").write_bytes(b"old")
    return src, dest


def _visible(out: str) -> str:
    """The text left on the screen at the end: after the last erase, without escapes."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out[out.rfind(ERASE) :])


def test_get_draws_a_transient_bar_and_takes_it_down_to_ask(tmp_path):
    src, dest = _run(tmp_path)
    args = ["get", "-r", f"{src}/", str(dest)]
    status, out = run_on_pty(args, {QUESTION: "o"}, term="xterm")
    assert status == 0, out
    assert (dest / "metrics.json").read_bytes() == b'{"loss": 0.25}'
    asked = out.index(f"{dest}/metrics.json exists and differs from metrics.json")
    before, after = out[:asked], out[asked:]
    assert "/2 files" in before and "ETA" in before  # files, bytes, rate, ETA were drawn
    assert before.endswith(ERASE)  # and taken down right before the question
    assert "/2 files" in after  # up again once answered
    assert f"downloaded metrics.json -> {dest.resolve()}/metrics.json" in out
    left = _visible(out)
    assert "files" not in left and "pail: 2 downloaded" in left  # nothing of it stays


def test_get_on_a_dumb_terminal_draws_nothing_and_still_asks(tmp_path):
    src, dest = _run(tmp_path)
    status, out = run_on_pty(["get", "-r", f"{src}/", str(dest)], {QUESTION: "s"}, term="dumb")
    assert status == 0, out
    assert "\x1b[" not in out and "/2 files" not in out
    assert (dest / "metrics.json").read_bytes() == b"old"
    assert "skipped metrics.json (a different file exists; --overwrite replaces it)" in out
    assert "pail: 1 downloaded" in out


def test_du_and_rm_draw_their_figures_and_leave_only_their_output(tmp_path):
    src, _ = _run(tmp_path)
    status, out = run_on_pty(["du", f"{src}/"], {}, term="xterm")
    assert status == 0, out
    assert "1/1 prefix done" in out and "scanning: " in out
    left = _visible(out)
    assert "prefix done" not in left and "OBJECTS" in left and "model/" in left

    status, out = run_on_pty(["rm", "-r", "--yes", f"{src}/"], {}, term="xterm")
    assert status == 0, out
    assert "deleted 2/2" in out and "keys/s" in out
    left = _visible(out)
    assert "keys/s" not in left and "pail: deleted 2 objects" in left
    assert not list(src.rglob("*.*"))


def test_clock():
    assert [clock(None), clock(0), clock(59.6), clock(61), clock(3600 + 62)] == [
        "--:--",
        "0:00",
        "1:00",
        "1:01",
        "1:01:02",
    ]


class _Files(JobDisplay[Downloader, DownloadJob]):
    """The smallest command display: only its question's names (what JobDisplay asks)."""

    def conflict(self, job):
        return job.path, job.key


def test_a_job_display_asks_once_for_all_and_keeps_the_answer(tmp_path, monkeypatch, capsys):
    """Two conflicting files, one question answered with a capital letter (from stdin,
    off a terminal: nothing drawn): both files get that answer, the figures count them,
    and a later question (as for pail put's next PATH) is answered without asking."""
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.mkdir()
    dest.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_bytes(b"new " + name.encode())
        (dest / name).write_bytes(b"old")
    driver = LocalDriver(str(src), single_bucket=True)
    plan = plan_keys(driver, "src", ["a.txt", "b.txt"], str(dest))
    display = _Files(live=False)
    download = Downloader(driver, plan, jobs=2, conflict="ask", resolve_conflict=display.ask)
    display.job = download
    assert display.figures()["files"] == "0/2 files"
    monkeypatch.setattr("sys.stdin", io.StringIO("K\n"))
    download.start()
    while download.wait(0.1) is None:
        display.answer_questions()
    report = download.report()
    assert capsys.readouterr().err.count(QUESTION) == 1
    assert len(report.done) == 2 and display.figures()["files"] == "2/2 files"
    assert sorted(p.name for p in dest.iterdir()) == ["a (1).txt", "a.txt", "b (1).txt", "b.txt"]
    assert display.for_all is not None and display.for_all.action == "keep-both"

    answers = []
    later = threading.Thread(target=lambda: answers.append(display.ask(plan.jobs[0])), daemon=True)
    later.start()
    later.join(10)  # a queued question would wait here for ever: none is
    assert answers == [display.for_all] and display.questions.empty()


def test_size_words():
    assert [size_words(1, False), size_words(2048, False), size_words(None, False)] == [
        "1 byte",
        "2048 bytes",
        "size unknown",
    ]
    assert size_words(2048, True) == "2.0 KiB"
