"""The credential-failure modal: a connection's credentials were rejected, have expired,
or could not be found (InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken, an expired
SSO token, GCS invalid_grant), or a saved connection's secrets could not be read from the
keyring (:class:`pail.credentials.SecretsUnavailable`: locked, no keyring, no entry).

It says so plainly: which connection, the error code and operation, the identity (masked)
and where the credentials came from; then offers to re-enter the secrets, shows the exact
command that refreshes them when there is one (``aws sso login --profile NAME``, ``gcloud
auth application-default login``) with a copy button, or to dismiss. Never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from pail.credentials import SecretsUnavailable
from pail.drivers.errors import ExpiredCredentials, NoCredentials, StorageError
from pail.ui.clipboard import copy_text
from pail.ui.text import literal, literal_block


@dataclass(frozen=True)
class CredentialProblem:
    """What the modal shows.

    Attributes:
        connection: the connection's name.
        error: the translated error (InvalidCredentials or a subclass).
        source: where the credentials came from ("keyring", "profile NAME", …), or "".
        identity: the masked identity (``AKIA…WXYZ``, a client email), or ``None``.
        command: the shell command that refreshes the credentials, if there is one.
        can_reenter: offer "Re-enter secrets" (S3 and GCS connections).
    """

    connection: str
    error: StorageError
    source: str = ""
    identity: str | None = None
    command: str | None = None
    can_reenter: bool = True


@dataclass(frozen=True)
class CredentialChoice:
    """The user's answer: ``"reenter"`` (open the form on the secrets) or ``"dismiss"``."""

    action: Literal["reenter", "dismiss"]


def headline(error: StorageError) -> str:
    """One plain sentence naming the kind of failure."""
    if isinstance(error, SecretsUnavailable):
        if error.reason == "missing":
            return "The keyring has no secrets"
        return "The keyring is locked" if error.reason == "locked" else "The keyring cannot be read"
    if isinstance(error, ExpiredCredentials):
        return "The credentials have expired"
    if isinstance(error, NoCredentials):
        return "No credentials were found"
    return "The credentials were rejected"


class CredentialFailureScreen(ModalScreen[CredentialChoice]):
    """Shows a :class:`CredentialProblem`; dismisses with a :class:`CredentialChoice`."""

    BINDINGS = [
        Binding("escape", "choose('dismiss')", "Dismiss", id="credentials.dismiss"),
        Binding("e", "choose('reenter')", "Re-enter secrets", id="credentials.reenter"),
    ]

    def __init__(self, problem: CredentialProblem) -> None:
        super().__init__()
        self.problem = problem

    def compose(self) -> ComposeResult:
        p = self.problem
        error = p.error
        title = Text.assemble((headline(error), "bold"), " for connection ", (p.connection, "bold"))
        rows = Table.grid(padding=(0, 2))
        rows.add_column(style="bold", no_wrap=True)
        rows.add_column(overflow="fold")
        # A keyring that cannot be read fails before any source was resolved.
        keyring = isinstance(error, SecretsUnavailable)
        source = p.source or ("keyring" if keyring else "unknown")
        code = error.code or type(error).__name__
        if error.status:
            code += f" (HTTP {error.status})"
        for label, value in (
            ("Connection", p.connection),
            ("Code", code),
            ("Operation", error.operation),
            ("Identity", p.identity or "none found"),
            ("Source", source),
            ("Endpoint", error.endpoint or ""),
            ("Message", error.message),
        ):
            if value:
                rows.add_row(Text(label), literal(value))
        with Vertical(id="credential-box", classes="modal-box"):
            yield Static(title, id="credential-title")
            yield Static(rows, id="credential-fields")
            if error.hint:
                yield Static(literal_block(error.hint), id="credential-hint")
            if p.command:
                with Horizontal(id="credential-command-row"):
                    yield Static(
                        Text.assemble("Refresh with:  ", (p.command, "bold")),
                        id="credential-command",
                    )
                    yield Button("Copy command", id="credential-copy")
            with Horizontal(classes="modal-buttons"):
                if p.can_reenter:
                    yield Button("Re-enter secrets", variant="primary", id="credential-reenter")
                yield Button("Dismiss", id="credential-dismiss")
        yield Footer()

    def on_mount(self) -> None:
        first = "#credential-reenter" if self.problem.can_reenter else "#credential-dismiss"
        self.query_one(first, Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "credential-copy" and self.problem.command:
            copy_text(self.app, self.problem.command, "the command")
        elif event.button.id == "credential-reenter":
            self.dismiss(CredentialChoice("reenter"))
        else:
            self.dismiss(CredentialChoice("dismiss"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the re-enter key when re-entering is not offered."""
        if action == "choose" and parameters == ("reenter",):
            return self.problem.can_reenter
        return True

    def action_choose(self, action: Literal["reenter", "dismiss"]) -> None:
        """Close with ``action`` (re-entering only when it is offered)."""
        if action == "reenter" and not self.problem.can_reenter:
            return
        self.dismiss(CredentialChoice(action))
