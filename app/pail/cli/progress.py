"""Live progress for the command line: one :mod:`rich.progress` display on stderr.

``pail get``, ``pail du`` and ``pail rm`` run a background job (:mod:`pail.services.jobs`)
and show its progress with :class:`LiveProgress`. On a terminal (stderr a tty) a bar with
the job's figures is redrawn in place about five times a second and removed when the job
ends (transient), so only the command's own output is left on the screen. The figures are
read from the job's ``progress()`` snapshot right before each redraw, on rich's refresh
thread: the job's own rate and ETA are shown (rich's estimates would count resumed bytes
as speed). Without a terminal (or on a ``TERM=dumb`` one) nothing is drawn and nothing of
rich is imported: the command's plain lines are all there is, as in a log.

Lines printed while the display is up (:meth:`LiveProgress.line`) go to stdout as plain
text; when stdout is the terminal too they are printed above the bar instead of through
it. A question asked meanwhile pauses the display (:meth:`LiveProgress.paused`).

:class:`JobDisplay` is what the commands that move files (``pail get``, ``put``, ``cp``,
``mv``) show around it: the job's figures (files, bytes, rate, ETA), the words of their
lines, and the "exists and differs" question, asked from the main thread for the job's
worker threads; each command supplies only its own line and question wording.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import click

from pail.core.units import plural, size_text

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn, TaskID

    from pail.services.download import ConflictAnswer, FileDone
    from pail.services.download.engine import ConflictAction
    from pail.services.download.progress import DownloadProgress

T = TypeVar("T")

#: Redraws per second on a terminal.
REFRESH_PER_SECOND = 5

#: ``poll() -> fields``: the task's new figures, read from the job at each redraw. Keys
#: ``completed`` and ``total`` (numbers, ``total`` ``None`` for no known end) move the bar;
#: every other key is a field for the columns' ``{task.fields[NAME]}`` templates.
Poll = Callable[[], Mapping[str, Any]]


def stderr_is_live() -> bool:
    """Whether stderr is a terminal that can redraw in place: a tty whose ``TERM`` is not
    ``dumb`` or ``unknown`` (rich draws nothing there; it would only leave blank lines)."""
    term = os.environ.get("TERM", "").lower()
    return sys.stderr.isatty() and term not in ("dumb", "unknown")


def text_column(template: str) -> ProgressColumn:
    """A column showing ``template`` filled from the task (``"{task.fields[files]}"``),
    never read as markup (figures only; key names never go in a column)."""
    from rich.progress import TextColumn

    return TextColumn(template, markup=False)


def bar_column() -> ProgressColumn:
    """The bar: ``completed`` of ``total`` (a pulse while ``total`` is ``None``)."""
    from rich.progress import BarColumn

    return BarColumn(bar_width=30)


class LiveProgress:
    """One transient progress display on stderr while a job runs (nothing off a terminal).

    Args:
        columns: builds the display's columns (:func:`bar_column`, :func:`text_column`,
            or any :mod:`rich.progress` column); called only on a terminal, so rich is
            imported only there.
        poll: the job's figures, called before every redraw (see :data:`Poll`); it must
            be cheap and thread-safe (a job's ``progress()`` snapshot is).
        live: draw the display; default: :func:`stderr_is_live`.

    Use as a context manager: the display is up inside the ``with`` block. Thread-safe:
    :meth:`line` may be called from the job's threads.
    """

    def __init__(
        self,
        columns: Callable[[], Sequence[ProgressColumn]],
        poll: Poll,
        *,
        live: bool | None = None,
    ) -> None:
        self.live = stderr_is_live() if live is None else live
        self._columns = columns
        self._poll = poll
        self._lock = threading.RLock()  # orders lines, pauses and the display's start/stop
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._above = False  # lines go through the display (stdout is the terminal too)

    def __enter__(self) -> LiveProgress:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Put the display up (no-op off a terminal or when it is up)."""
        if not self.live:
            return
        with self._lock:
            if self._progress is None:
                progress = self._build()
                fields = dict(self._poll())  # the columns' fields exist before any redraw
                completed = fields.pop("completed", 0) or 0
                total = fields.pop("total", None)
                self._task = progress.add_task("", total=total, completed=completed, **fields)
                self._progress = progress
                self._above = sys.stdout.isatty()
            self._progress.start()

    def stop(self) -> None:
        """Take the display down; a transient display leaves nothing behind."""
        with self._lock:
            if self._progress is not None:
                self._progress.stop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The display is down inside the block (to ask a question on the terminal),
        then up again; lines from other threads wait until it is back."""
        with self._lock:
            self.stop()
            try:
                yield
            finally:
                if self._progress is not None:
                    self._progress.start()

    def line(self, text: str) -> None:
        """Print ``text`` (plain text: already made printable by the caller) as a line on
        stdout, above the display when stdout is the terminal it is drawn on."""
        with self._lock:
            if self._progress is not None and self._above and self._progress.live.is_started:
                from rich.text import Text

                # soft_wrap: the terminal wraps a long line, nothing is cut or re-flowed
                self._progress.console.print(Text(text), soft_wrap=True)
            else:
                click.echo(text)

    def _build(self) -> Progress:
        from rich.console import Console, RenderableType
        from rich.progress import Progress

        poll, holder = self._poll, self

        class Polled(Progress):
            """Reads the job's figures right before each redraw (rich's refresh thread)."""

            def get_renderable(self) -> RenderableType:
                task = holder._task
                if task is not None:
                    try:
                        fields = dict(poll())
                    except Exception:  # a redraw must never take the command down
                        fields = {}
                    completed = fields.pop("completed", None)
                    total = fields.pop("total", None)
                    self.update(task, completed=completed, total=total, **fields)
                return super().get_renderable()

        return Polled(
            *self._columns(),
            console=Console(file=sys.stderr),
            transient=True,
            refresh_per_second=REFRESH_PER_SECOND,
        )


def wait_for(
    call: Callable[[], T],
    *,
    stop: Callable[[], None],
    columns: Callable[[], Sequence[ProgressColumn]],
    poll: Poll,
    interrupted: str | Callable[[], str] | None = None,
    grace: float = 0.0,
    name: str = "pail-cli-job",
) -> T:
    """``call()`` on a daemon thread while a :class:`LiveProgress` shows ``poll``'s
    figures; its result, or the exception it raised.

    Ctrl-C calls ``stop()`` (the job's cancel), waits at most ``grace`` seconds for the
    call to end (for a job whose stopping is itself a request: an Athena query stopped),
    and exits 130 without waiting longer (a request the thread waits on is never waited
    for); with ``interrupted``, that line on stderr (a callable: the line, asked after the
    grace period).

    Raises:
        click.exceptions.Exit / CliError: exit 130 on Ctrl-C.
    """
    from pail.cli.errors import EXIT_INTERRUPTED, CliError
    from pail.services.jobs import DaemonPool

    with DaemonPool(1, name=name) as pool:
        future: Future[T] = pool.submit(call)
        try:
            with LiveProgress(columns, poll):
                while True:  # short waits keep Ctrl-C responsive
                    try:
                        return future.result(timeout=0.1)
                    except FutureTimeout:
                        continue
        except KeyboardInterrupt:
            stop()
            if grace > 0:
                with contextlib.suppress(KeyboardInterrupt):
                    futures_wait([future], timeout=grace)
            if interrupted is None:
                raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
            line = interrupted() if callable(interrupted) else interrupted
            raise CliError([line], EXIT_INTERRUPTED) from None


class FileJob(Protocol):
    """A job that moves files: :class:`~pail.services.download.Downloader` and
    :class:`~pail.services.transfer.Transfer` (their thread-safe progress snapshot)."""

    def progress(self, *, with_files: bool = True) -> DownloadProgress: ...


JobT = TypeVar("JobT", bound=FileJob)
#: What a conflict question is about (a download job, a transfer item).
SubjectT = TypeVar("SubjectT")


def file_columns() -> list[ProgressColumn]:
    """The columns of :class:`JobDisplay`: bar, files, bytes, rate, ETA."""
    return [
        bar_column(),
        text_column("{task.fields[files]}"),
        text_column("{task.fields[bytes]}"),
        text_column("{task.fields[rate]}"),
        text_column("{task.fields[eta]}"),
    ]


def size_words(size: int | None, human: bool) -> str:
    """A size for a command's lines: ``N bytes`` (bare digits without ``-h``: scripts read
    them; only the noun follows), ``1.5 MiB`` with ``human``, ``size unknown`` for ``None``."""
    if size is None:
        return "size unknown"
    if human:
        return size_text(size, True)
    return f"{size} {'byte' if size == 1 else 'bytes'}"


class JobDisplay(Generic[JobT, SubjectT]):
    """What a command that moves files shows while its job runs: the live progress on a
    terminal (:class:`LiveProgress` with :func:`file_columns`, figures from the job's
    snapshot), its lines' shared words, and the conflict questions, handed from the job's
    worker threads to the main thread, which owns the terminal's input.

    Subclasses set :attr:`noun`, the skip texts, and :meth:`conflict` (the question's two
    names), and write their own ``on_file`` lines with :meth:`detail` and :meth:`skip_text`.

    Args:
        live: draw the display (:func:`stderr_is_live`).
        human: sizes in the lines as KiB/MiB/GiB (``-h``).

    Attributes:
        job: the running job (set before the display goes up).
        for_all: an answer given "for all" (a capital letter), returned to every later
            question, of this job or of a later one given the same answer.
    """

    #: What the figures count (``"file"``, ``"object"``).
    noun: ClassVar[str] = "file"
    #: The skip line's reason for a different existing file, and for an identical one.
    skipped_exists: ClassVar[str] = "a different file exists; --overwrite replaces it"
    skipped_identical: ClassVar[str] = "identical file exists"

    def __init__(self, live: bool, human: bool = False) -> None:
        self.human = human
        self.job: JobT | None = None
        self.progress = LiveProgress(file_columns, self.figures, live=live)
        self.questions: queue.Queue[tuple[SubjectT, queue.Queue[ConflictAnswer]]]
        self.questions = queue.Queue()
        self.for_all: ConflictAnswer | None = None

    def figures(self) -> dict[str, Any]:
        """The job's figures for the display (:data:`Poll`): bytes move the bar."""
        assert self.job is not None
        snap = self.job.progress(with_files=False)
        return {
            "completed": snap.bytes_done,
            "total": snap.bytes_total or None,
            "files": f"{snap.files_finished:,}/{plural(snap.files_total, self.noun)}",
            "bytes": f"{size_text(snap.bytes_done, True)} / {size_text(snap.bytes_total, True)}",
            # No rate before the first byte arrives ("0 B/s" says nothing yet).
            "rate": f"{size_text(int(snap.rate), True)}/s" if snap.bytes_done else "",
            "eta": f"ETA {clock(snap.eta)}",
        }

    def detail(self, done: FileDone) -> str:
        """A finished file's parenthesis: ``N bytes[, M resumed], CHECK``."""
        text = size_words(done.size, self.human)
        if done.resumed_from:
            resumed = done.resumed_from
            text += f", {size_text(resumed, True) if self.human else resumed} resumed"
        return f"{text}, {done.verified}"

    def skip_text(self, reason: str) -> str:
        """Why a file was skipped, for its line (``exists``, ``identical``, else as is)."""
        if reason == "exists":
            return self.skipped_exists
        return self.skipped_identical if reason == "identical" else reason

    def conflict(self, subject: SubjectT) -> tuple[str, str]:
        """The question's names, printable: what exists and what differs from it."""
        raise NotImplementedError

    def ask(self, subject: SubjectT) -> ConflictAnswer:
        """The engine's conflict resolver (a worker thread): hand the question to the
        main thread, which owns the terminal's input, and wait for the answer."""
        if self.for_all is not None:
            return self.for_all
        reply: queue.Queue[ConflictAnswer] = queue.Queue(maxsize=1)
        self.questions.put((subject, reply))
        return reply.get()

    def answer_questions(self) -> None:
        """Ask the queued conflict questions (main thread)."""
        while True:
            try:
                subject, reply = self.questions.get_nowait()
            except queue.Empty:
                return
            reply.put(self.for_all or self.prompt(subject))

    def prompt(self, subject: SubjectT) -> ConflictAnswer:
        """Ask about one existing file or key, with the live display down meanwhile."""
        from pail.services.download import ConflictAnswer

        existing, incoming = self.conflict(subject)
        with self.progress.paused():
            choice = click.prompt(
                f"{existing} exists and differs from {incoming}: "
                "[o]verwrite, [s]kip, [k]eep both (capital letter: all)",
                type=click.Choice(["o", "s", "k", "O", "S", "K"]),
                show_choices=False,
                err=True,
            )
        actions: dict[str, ConflictAction] = {"o": "overwrite", "s": "skip", "k": "keep-both"}
        answer = ConflictAnswer(actions[choice.lower()], apply_to_all=choice.isupper())
        if answer.apply_to_all:
            self.for_all = answer
        return answer


def clock(seconds: float | None) -> str:
    """``seconds`` as ``m:ss`` or ``h:mm:ss`` (``--:--`` when unknown)."""
    if seconds is None:
        return "--:--"
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


__all__ = [
    "REFRESH_PER_SECOND",
    "FileJob",
    "JobDisplay",
    "LiveProgress",
    "Poll",
    "bar_column",
    "clock",
    "file_columns",
    "size_words",
    "stderr_is_live",
    "text_column",
    "wait_for",
]
