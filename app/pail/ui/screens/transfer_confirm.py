"""Before and during a write: the plan's confirmation, and the engine's questions.

* :class:`TransferConfirmScreen` (``ModalScreen[ConflictPolicy | None]``): the plan's
  summary (:meth:`TransferPlan.summary`), how many destination keys already exist and what
  to do with them (ask for each, overwrite, skip), every refused key with its reason, the
  engine's notes, and for a move that sources are deleted only after their copy is
  verified. ``y``/enter on Start runs it with the chosen policy; escape/``n``: ``None``,
  nothing is written.
* :class:`TransferConflictScreen` (``ModalScreen[ConflictAnswer]``): "this key exists",
  asked by the engine from a transfer thread through
  :func:`pail.ui.download_ops.conflict_bridge`; escape answers skip (the safe choice).
* :class:`TransferUnverifiedScreen` (``ModalScreen[bool]``): "nothing can prove this
  copy", through :func:`pail.ui.download_ops.unverified_bridge`; escape refuses (the item
  is reported unverified; a move keeps its source either way).

Keys and messages from a store are shown as plain :class:`~rich.text.Text`, one line each.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, RadioButton, RadioSet, Static

from pail.core.text import one_line
from pail.core.units import size_with_bytes
from pail.services.download import ConflictAnswer
from pail.services.download.engine import ConflictAction, ConflictPolicy
from pail.services.transfer import TransferItem, TransferPlan
from pail.ui.formatting import plural

#: Refused keys listed one by one (the rest are counted).
SHOWN_REFUSED = 20
#: The conflict choices, in the order of the radio buttons.
POLICIES: tuple[tuple[ConflictPolicy, str], ...] = (
    ("ask", "Ask for each"),
    ("overwrite", "Overwrite them"),
    ("skip", "Skip them"),
)
MOVE_NOTE = (
    "Sources are deleted only after their copy is verified (and only while they still "
    "have the planned ETag); any other source is kept and reported."
)


def plan_lines(plan: TransferPlan) -> list[Text]:
    """The plan as plain lines: summary, conflicts, refused keys (with reasons), notes."""
    lines = [Text(one_line(plan.summary()), style="bold")]
    conflicts = plan.conflicts
    if conflicts:
        lines.append(
            Text(f"Already at the destination: {plural(len(conflicts), 'key')} (choose below).")
        )
    if plan.refused:
        lines.append(Text(f"{plural(len(plan.refused), 'key')} refused (never written):"))
        for refused in plan.refused[:SHOWN_REFUSED]:
            text = f"  {one_line(refused.key)}: {one_line(refused.reason)}"
            lines.append(Text(text, style="red"))
        if len(plan.refused) > SHOWN_REFUSED:
            lines.append(Text(f"  … and {len(plan.refused) - SHOWN_REFUSED:,} more"))
    for note in plan.notes:
        lines.append(Text(one_line(note), style="yellow"))
    if plan.kind == "move":
        lines.append(Text(MOVE_NOTE))
    return lines


class TransferConfirmScreen(ModalScreen[ConflictPolicy | None]):
    """Show ``plan`` and ask to start it.

    Args:
        title: e.g. ``"Copy"``, ``"Move"``, ``"Upload"``, ``"Rename"``.
        plan: what the transfer will do (made in a worker).
    """

    CSS_PATH = "../styles/transfers.tcss"
    BINDINGS = [
        Binding("y", "start", "Start", id="transfer_confirm.start"),
        Binding("n,escape", "cancel", "Cancel", id="transfer_confirm.cancel"),
    ]

    def __init__(self, title: str, plan: TransferPlan) -> None:
        super().__init__()
        self._title = title
        self.plan = plan

    def compose(self) -> ComposeResult:
        startable = bool(self.plan.items)
        with Vertical(id="transfer-box", classes="modal-box"):
            yield Static(Text(f"{self._title}: review the plan", style="bold"))
            with VerticalScroll(id="transfer-plan"):
                yield Static(Text("\n").join(plan_lines(self.plan)), id="transfer-body")
            if self.plan.conflicts:
                with RadioSet(id="transfer-policy"):
                    for number, (_policy, label) in enumerate(POLICIES):
                        yield RadioButton(label, value=number == 0)
            if not startable:
                yield Static(Text("Nothing to transfer.", style="bold"))
            with Horizontal(classes="modal-buttons"):
                yield Button("Start", variant="primary", id="transfer-go", disabled=not startable)
                yield Button("Cancel", id="transfer-cancel")
        yield Footer()

    def on_mount(self) -> None:
        button = "#transfer-go" if self.plan.items else "#transfer-cancel"
        self.query_one(button, Button).focus()

    @property
    def policy(self) -> ConflictPolicy:
        """The conflict choice (``ask`` without conflicts)."""
        if not self.plan.conflicts:
            return "ask"
        index = self.query_one(RadioSet).pressed_index
        return POLICIES[index][0] if 0 <= index < len(POLICIES) else "ask"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "transfer-go":
            self.action_start()
        else:
            self.dismiss(None)

    def action_start(self) -> None:
        """Start the transfer with the chosen conflict policy."""
        if self.plan.items:
            self.dismiss(self.policy)

    def action_cancel(self) -> None:
        """Close; nothing is written."""
        self.dismiss(None)


_ACTIONS: dict[str, ConflictAction] = {
    "overwrite": "overwrite",
    "skip": "skip",
    "keep-both": "keep-both",
}


class TransferConflictScreen(ModalScreen[ConflictAnswer]):
    """Ask what to do with a destination key that exists and differs.

    Args:
        item: the engine's item (source key, destination key, sizes).
    """

    CSS_PATH = "../styles/transfers.tcss"
    BINDINGS = [
        Binding("o", "answer('overwrite')", "Overwrite", id="transfer_conflict.overwrite"),
        Binding("s,escape", "answer('skip')", "Skip", id="transfer_conflict.skip"),
        Binding("k", "answer('keep-both')", "Keep both", id="transfer_conflict.keep_both"),
        Binding("a", "toggle_all", "Apply to all", id="transfer_conflict.all"),
    ]

    def __init__(self, item: TransferItem) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        item = self.item
        existing = item.existing
        there = (
            size_with_bytes(existing.size)
            if existing is not None and existing.size is not None
            else "unknown size"
        )
        size = size_with_bytes(item.size) if item.size is not None else "unknown size"
        with Vertical(id="transfer-conflict-box", classes="modal-box"):
            yield Static(Text("This key already exists", style="bold"))
            yield Static(
                Text.assemble(
                    ("Exists  ", "bold"),
                    one_line(item.dest_key),
                    f"  ({there})\n",
                    ("Source  ", "bold"),
                    one_line(item.source_key),
                    f"  ({size})",
                ),
                id="transfer-conflict-body",
            )
            yield Checkbox("Apply to all later conflicts of this transfer", id="conflict-all")
            with Horizontal(classes="modal-buttons"):
                yield Button("Overwrite", variant="error", id="conflict-overwrite")
                yield Button("Keep both", id="conflict-keep-both")
                yield Button("Skip", variant="primary", id="conflict-skip")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conflict-skip", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer((event.button.id or "conflict-skip").removeprefix("conflict-"))

    def action_toggle_all(self) -> None:
        """Toggle "apply to all"."""
        box = self.query_one(Checkbox)
        box.value = not box.value

    def action_answer(self, action: str) -> None:
        """Close with ``action`` (overwrite, skip, keep-both) and the checkbox's state."""
        answer = _ACTIONS.get(action, "skip")
        self.dismiss(ConflictAnswer(answer, apply_to_all=self.query_one(Checkbox).value))


class TransferUnverifiedScreen(ModalScreen[bool]):
    """Ask whether a copy nothing could prove may count as done.

    Args:
        item: the engine's item. reason: why nothing could verify it (plain text).
    """

    CSS_PATH = "../styles/transfers.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Accept unverified", id="transfer_unverified.accept"),
        Binding("n,escape", "answer(False)", "Refuse", id="transfer_unverified.reject"),
    ]

    def __init__(self, item: TransferItem, reason: str) -> None:
        super().__init__()
        self.item = item
        self.reason = reason

    def compose(self) -> ComposeResult:
        item = self.item
        with Vertical(id="transfer-unverified-box", classes="modal-box"):
            yield Static(Text("This copy cannot be verified", style="bold"))
            yield Static(
                Text.assemble(
                    ("Source  ", "bold"),
                    one_line(item.source_key),
                    "\n",
                    ("Copy    ", "bold"),
                    one_line(item.dest_key),
                    "\n\n",
                    ("Why     ", "bold"),
                    one_line(self.reason),
                    "\n\nThe object was written, but no checksum proves its bytes. "
                    "Refused, it is reported as not verified; accepted, it counts as done. "
                    "A move keeps the source either way.",
                )
            )
            with Horizontal(classes="modal-buttons"):
                yield Button("Accept unverified", variant="warning", id="unverified-accept")
                yield Button("Refuse", variant="primary", id="unverified-reject")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#unverified-reject", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(event.button.id == "unverified-accept")

    def action_answer(self, accept: bool) -> None:
        """Close with the answer: ``True`` accepts the copy unverified."""
        self.dismiss(bool(accept))
