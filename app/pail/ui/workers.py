"""Start I/O in a worker thread and turn its outcome into a message.

Every driver call the UI makes goes through :func:`start_io`: the work runs in a thread
(``run_worker(thread=True, exclusive=True, exit_on_error=False)``), its result message is
posted back to the widget that started it, and any exception becomes a
:class:`~pail.ui.messages.WorkFailed` (wrapped by :func:`pail.ui.failure.as_storage_error`),
so a failed request can never crash the app or print a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, get_current_worker

from pail.ui.failure import as_storage_error
from pail.ui.messages import WorkFailed


def start_io(
    owner: Widget,
    work: Callable[[], Message | None],
    *,
    target: Any,
    generation: int,
    group: str,
    description: str = "",
) -> Worker[None]:
    """Run ``work`` in a thread worker of ``owner`` and post what it returns to ``owner``.

    Args:
        owner: widget that receives the result message (and, via the app, the failure).
        work: blocking callable; returns the message to post, or ``None`` for nothing.
        target, generation: copied into :class:`WorkFailed` if ``work`` raises.
        group: worker group; a new worker cancels the group's previous one (exclusive).
        description: shown in Textual's worker log.

    Cancelled workers post nothing; a cancelled thread may still finish its request, which
    is why results also carry a generation or ticket the receiver checks.
    """

    def body() -> None:
        try:
            message = work()
        except Exception as exc:  # every failure becomes a message, never a traceback
            message = WorkFailed(owner, target, generation, as_storage_error(exc))
        if message is not None and not get_current_worker().is_cancelled:
            owner.post_message(message)

    return owner.run_worker(
        body,
        name=group,
        group=group,
        description=description or group,
        exit_on_error=False,
        exclusive=True,
        thread=True,
    )
