"""The add/edit connection form: a modal returning a :class:`SaveOutcome` (or ``None``
when nothing was saved).

Saving runs in a worker by the one policy of :mod:`pail.services.connections` (the command
line's too): secrets typed into the masked inputs go to the OS keyring, settings to the
config file. If the keyring cannot keep the secrets nothing is saved and they are written
nowhere: the form stays open with its values and says why, and how to save without secrets.
Problems with the values show inline, in the form.

Fields shown depend on the provider: S3 (endpoint URL, region, profile, path-style,
access key id, secret access key, session token), GCS (project, a service-account key file
imported into the keyring), local (folder); all have anonymous access (not local), a
default bucket and prefix.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec
from pail.ui.connection_ops import (
    FieldError,
    FormValues,
    SaveOutcome,
    check_values,
    save_form,
    values_from_spec,
)
from pail.ui.messages import ConnectionSaveFinished

if TYPE_CHECKING:
    from pail.credentials import KeyringStatus

PROVIDER_OPTIONS = [
    ("S3 or S3-compatible (MinIO, Ceph, R2)", "s3"),
    ("Google Cloud Storage", "gcs"),
    ("Local folder", "local"),
]

#: (attribute, label, providers, placeholder, masked)
TEXT_FIELDS = [
    ("endpoint_url", "Endpoint URL", "s3", "empty for AWS; http://127.0.0.1:9000", False),
    ("region", "Region", "s3", "us-east-1", False),
    ("profile", "AWS profile", "s3", "a profile in ~/.aws/config", False),
    ("project", "Project", "gcs", "GCS project id", False),
    ("root", "Folder", "local", "/path/to/folder of buckets", False),
    ("bucket", "Bucket", "s3 gcs local", "default bucket to open (optional)", False),
    ("prefix", "Prefix", "s3 gcs local", "prefix inside the bucket (optional)", False),
]
SECRET_FIELDS = [
    ("access_key_id", "Access key id", "s3", "AKIA…", False),
    ("secret_access_key", "Secret access key", "s3", "", True),
    ("session_token", "Session token", "s3", "only for temporary credentials", True),
    ("service_account_file", "Key file (JSON)", "gcs", "service-account key to import", False),
]
CHECKBOXES = [
    ("path_style", "Path-style addressing (MinIO, Ceph, moto)", "s3"),
    ("anonymous", "Anonymous (unsigned requests, public buckets)", "s3 gcs"),
]
_LABELS = {attr: label for attr, label, *_ in TEXT_FIELDS + SECRET_FIELDS + CHECKBOXES}
_LABELS["name"] = "Name"


class ConnectionForm(ModalScreen["SaveOutcome | None"]):
    """Add or edit a saved connection.

    Args:
        store: the config file to save into.
        editing: the saved connection being edited; ``None`` adds a new one.
        values: initial values for a new connection (e.g. an unsaved connection from the
            command line whose secrets are being re-entered); ignored when editing.
        focus_secrets: start with the cursor on the first secret field.
        keyring: the keyring's state, to warn before secrets are typed.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save"),
    ]

    def __init__(
        self,
        store: ConnectionStore,
        *,
        editing: ConnectionSpec | None = None,
        values: FormValues | None = None,
        focus_secrets: bool = False,
        keyring: KeyringStatus | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._editing = editing if editing is not None and editing.saved else None
        if editing is not None:
            values = values_from_spec(editing)
        self._values = values or FormValues(name="")
        self._focus_secrets = focus_secrets
        self._keyring = keyring

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        v = self._values
        title = f"Edit connection {self._editing.name}" if self._editing else "Add a connection"
        with Vertical(id="form-box", classes="modal-box"):
            yield Static(Text(title, style="bold"), id="form-title")
            with VerticalScroll(id="form-fields"):
                yield from self._row("name", "Name", "", Input(v.name, id="f-name", compact=True))
                select = Select(
                    PROVIDER_OPTIONS,
                    value=v.provider,
                    allow_blank=False,
                    id="f-provider",
                    compact=True,
                )
                yield from self._row("provider", "Provider", "", select)
                for attr, label, providers, hint, _ in TEXT_FIELDS:
                    field = Input(getattr(v, attr), placeholder=hint, id=f"f-{attr}", compact=True)
                    yield from self._row(attr, label, providers, field)
                for attr, label, providers in CHECKBOXES:
                    box = Checkbox(label, getattr(v, attr), id=f"f-{attr}", compact=True)
                    with Horizontal(classes=f"form-row {_classes(providers)}"):
                        yield Label("", classes="form-label")
                        yield box
                note = "Secrets: kept in the OS keyring, never in the config file."
                if self._editing:
                    note += " Leave empty to keep the stored ones."
                yield Static(Text(note), id="form-secrets-note", classes="p-s3 p-gcs")
                # Inside the scroll, beside the secrets it is about: outside it, its five
                # lines left the fields two rows at 80x24.
                yield Static(self._keyring_warning(), id="form-keyring")
                for attr, label, providers, hint, masked in SECRET_FIELDS:
                    field = Input(placeholder=hint, password=masked, id=f"f-{attr}", compact=True)
                    yield from self._row(attr, label, providers, field)
            yield Static("", id="form-message")
            with Horizontal(classes="modal-buttons"):
                yield Button("Save", variant="primary", id="form-save")
                yield Button("Cancel", id="form-cancel")
        yield Footer()

    @staticmethod
    def _row(attr: str, label: str, providers: str, widget) -> ComposeResult:
        with Horizontal(classes=f"form-row {_classes(providers)}", id=f"row-{attr}"):
            yield Label(label, classes="form-label")
            yield widget

    def _keyring_warning(self) -> Text:
        status = self._keyring
        if status is None or status.usable:
            return Text("")
        return Text(f"The keyring is unavailable: {status.message}", style="bold")

    def on_mount(self) -> None:
        self._show_provider(self._values.provider)
        self.query_one("#form-keyring").display = bool(self._keyring_warning().plain)
        first = "#f-name"
        if self._focus_secrets:
            first = {"s3": "#f-access_key_id", "gcs": "#f-service_account_file"}.get(
                self._values.provider, first
            )
        self.query_one(first).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-provider" and isinstance(event.value, str):
            self._show_provider(event.value)

    def _show_provider(self, provider: str) -> None:
        for widget in self.query(".form-row, #form-secrets-note"):
            kinds = [c[2:] for c in widget.classes if c.startswith("p-")]
            widget.display = not kinds or provider in kinds

    # -- values ----------------------------------------------------------------------------

    def values(self) -> FormValues:
        """The form's current values (text stripped)."""
        provider = self.query_one("#f-provider", Select).value
        kwargs: dict[str, Any] = {"provider": provider if isinstance(provider, str) else "s3"}
        for f in fields(FormValues):
            if f.name == "provider":
                continue
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, Checkbox):
                kwargs[f.name] = widget.value
            elif isinstance(widget, Input):
                kwargs[f.name] = widget.value.strip()
        return FormValues(**kwargs)

    def _show_errors(self, errors: tuple[FieldError, ...] | list[FieldError]) -> None:
        for widget in self.query(Input):
            widget.remove_class("-invalid-field")
        lines = []
        for error in errors:
            if error.field:
                self.query_one(f"#f-{error.field}").add_class("-invalid-field")
                lines.append(f"{_LABELS.get(error.field, error.field)}: {error.message}")
            else:
                lines.append(error.message)
        message = self.query_one("#form-message", Static)
        message.set_class(bool(errors), "-error")
        message.update(Text("\n".join(lines)))

    # -- saving ----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-save":
            self.action_save()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        """Check the values, then save in a worker (file and keyring I/O)."""
        values = self.values()
        errors = check_values(values)
        if errors:
            self._show_errors(errors)
            return
        self._show_errors([])
        self.query_one("#form-message", Static).update(Text("Saving…"))
        self.query_one("#form-save", Button).disabled = True
        store, editing = self._store, self._editing

        def work() -> None:
            try:
                outcome = save_form(store, values, editing=editing)
            except Exception as exc:  # a bug or an unexpected OSError: shown, not raised
                error = FieldError("", f"Could not save: {type(exc).__name__}: {exc}")
                outcome = SaveOutcome(None, errors=(error,))
            self.post_message(ConnectionSaveFinished(outcome))

        self.run_worker(work, thread=True, exit_on_error=False, group="form-save")

    def on_connection_save_finished(self, message: ConnectionSaveFinished) -> None:
        message.stop()
        outcome = message.outcome
        self.query_one("#form-save", Button).disabled = False
        if outcome.errors:
            self._show_errors(outcome.errors)
            return
        self.dismiss(outcome)

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)


def _classes(providers: str) -> str:
    return " ".join(f"p-{p}" for p in providers.split())
