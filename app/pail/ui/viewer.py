"""Which external viewer ``o`` hands a cached object to, and handing it over safely.

* :func:`plan_viewers` lists the viewers to try, in order, keeping only commands that
  exist (``shutil.which`` on the first word of ``$PAGER``/``$EDITOR``, which may carry
  arguments, split with :func:`shlex.split`): for a text file ``$PAGER``, ``$EDITOR``,
  ``less``, then the system opener (``xdg-open``/``open``); for any other file the system
  opener first (an image or a notebook wants its desktop application).
* :func:`run_in_terminal` (the app's default viewer runner) hands the terminal to one
  argv with ``App.suspend`` and always takes it back. Textual's ``suspend`` resumes only
  when its ``with`` block ends without an exception, so nothing may escape that block:
  an exception is carried out of it and raised after the terminal is back.
* :func:`try_viewers` runs the plan until one viewer exits 0; each one that cannot start
  or exits non-zero is a problem to report, and the next is tried. When none works the
  caller shows its built-in preview.

``xdg-open`` returns at once when it starts a GUI application, and fails (exit 3 or 4)
without a display: both are covered, a non-zero exit simply moves on.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

from pail.core.text import one_line
from pail.services.object_links import looks_textual, system_opener

if TYPE_CHECKING:
    from textual.app import App

#: Runs one viewer argv with the terminal; returns its exit status (``None`` counts as 0).
#: Raises OSError when it cannot start, SuspendNotSupported when the terminal cannot be
#: handed over.
ViewerRunner = Callable[["App", list[str]], "int | None"]


@dataclass(frozen=True)
class ViewerChoice:
    """One viewer to try.

    Attributes:
        label: where it came from, for messages: ``"$PAGER"``, ``"$EDITOR"``, ``"less"``,
            ``"system opener"``.
        argv: the full command, the file's path last.
    """

    label: str
    argv: tuple[str, ...]

    def describe(self) -> str:
        """``"$PAGER (most)"`` or ``"less"``: plain text, one line."""
        name = one_line(os.path.basename(self.argv[0]))
        return self.label if self.label == name else f"{self.label} ({name})"


@dataclass(frozen=True)
class ViewerPlan:
    """The viewers to try for ``path``, in order, and why others were left out.

    Attributes:
        path: the cached file.
        steps: in order, a :class:`ViewerChoice` whose command exists, or a plain-text
            line for a viewer left out ("$PAGER: nosuch not found"), reported only when
            the viewers before it did not work.
    """

    path: str
    steps: tuple[ViewerChoice | str, ...]

    @property
    def choices(self) -> list[ViewerChoice]:
        """The viewers that will be tried, in order."""
        return [step for step in self.steps if isinstance(step, ViewerChoice)]

    @property
    def skipped(self) -> list[str]:
        """Why the other viewers were left out."""
        return [step for step in self.steps if isinstance(step, str)]


@dataclass
class ViewerOutcome:
    """What :func:`try_viewers` did.

    Attributes:
        opened: the viewer that exited 0 (``None``: none did).
        problems: one plain-text line per viewer that was skipped, could not start or
            exited non-zero, in order.
    """

    opened: ViewerChoice | None = None
    problems: list[str] = field(default_factory=list)


def plan_viewers(
    path: str,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> ViewerPlan:
    """The viewers to try for the file at ``path`` (see the module doc for the order).

    Args:
        path: a local file (read: its first 4 KiB decide text or not).
        environ: the environment (default ``os.environ``): ``PAGER``, ``EDITOR``.
        platform: ``sys.platform`` by default (which system opener).
        which: finds a command on ``PATH`` (``shutil.which``).

    A variable that is empty is ignored; one that does not split (unbalanced quotes) or
    whose command is not found is left out with a line in the steps. The same argv is
    never listed twice (``PAGER=less`` is not tried again as the fallback ``less``).
    """
    env = os.environ if environ is None else environ
    steps: list[ViewerChoice | str] = []

    def add(label: str, argv: list[str]) -> None:
        full = (*argv, path)
        if any(isinstance(step, ViewerChoice) and step.argv == full for step in steps):
            return
        if which(argv[0]) is not None:
            steps.append(ViewerChoice(label, full))
        else:
            steps.append(f"{label}: {one_line(argv[0])} not found")

    terminal: list[tuple[str, list[str]] | str] = []
    for var in ("PAGER", "EDITOR"):
        value = env.get(var, "").strip()
        if not value:
            continue
        try:
            argv = shlex.split(value)
        except ValueError:
            terminal.append(f"${var}: not a command line (unbalanced quotes)")
            continue
        if argv:
            terminal.append((f"${var}", argv))
    terminal.append(("less", ["less"]))  # plain less shows control characters as ^X
    opener = ("system opener", system_opener(platform))
    order = [*terminal, opener] if looks_textual(path) else [opener, *terminal]
    for item in order:
        if isinstance(item, str):
            steps.append(item)
        else:
            add(*item)
    return ViewerPlan(path, tuple(steps))


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """While a viewer has the terminal, Ctrl-C reaches the viewer and pail alike: pail
    must not die of it (its event loop is blocked in ``subprocess.run``). A Python-level
    no-op handler, not ``SIG_IGN``, because ``SIG_IGN`` would be inherited by the viewer.
    Only the main thread can set handlers; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_in_terminal(app: App, argv: list[str]) -> int:
    """Hand the terminal to ``argv`` until it exits, then take it back and redraw.

    Returns:
        the exit status (negative: killed by that signal).

    Raises:
        SuspendNotSupported: the app cannot give the terminal away (headless, Textual
            web); nothing was run.
        OSError: the command could not be started (raised after the terminal is back).
    """
    outcome: int | BaseException
    with app.suspend():
        try:
            with _sigint_ignored():
                outcome = subprocess.run(argv, check=False).returncode
        except BaseException as exc:  # carried out: suspend() resumes only on a clean exit
            outcome = exc
    app.refresh(layout=True)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def try_viewers(app: App, plan: ViewerPlan, runner: ViewerRunner) -> ViewerOutcome:
    """Run ``plan``'s viewers in order until one exits 0.

    A viewer that cannot start or exits non-zero adds a line to ``problems`` and the next
    one is tried; one killed by a signal (the user interrupted it) ends the attempts, as
    does a terminal that cannot be handed over. Viewers left out of the plan are reported
    when reached. Never raises for a viewer's failure.
    """
    outcome = ViewerOutcome()
    for choice in plan.steps:
        if isinstance(choice, str):
            outcome.problems.append(choice)
            continue
        name = choice.describe()
        try:
            status = runner(app, list(choice.argv))
        except SuspendNotSupported:
            outcome.problems.append("this terminal cannot hand over to a viewer")
            return outcome
        except OSError as exc:
            reason = one_line(exc.strerror or exc)
            outcome.problems.append(f"{name} could not start: {reason}")
            continue
        if not status:
            outcome.opened = choice
            return outcome
        if status < 0:
            try:
                signame = signal.Signals(-status).name
            except ValueError:
                signame = f"signal {-status}"
            outcome.problems.append(f"{name} was stopped by {signame}")
            return outcome
        outcome.problems.append(f"{name} exited with status {status}")
    return outcome
