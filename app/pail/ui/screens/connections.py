"""The connections screen: the saved connections, and keys to add, edit, remove, test and
open them.

The list comes from the config file (:class:`pail.config.store.ConnectionStore`) with each
connection's credential source as :func:`pail.credentials.resolve` finds it (read in a
worker: a keyring may block on an unlock). Adding and editing open
:class:`~pail.ui.screens.connection_form.ConnectionForm`; removing asks first and deletes
both the config entry and the keyring entry. Testing makes one request (the default
bucket's first page, else ListBuckets) and shows the answer or every field of the error
with its hint. Nothing here shows a secret; names and messages are drawn as plain text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from pail import credentials
from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError, ConnectionSpec
from pail.core.text import one_line
from pail.ui.connection_ops import SaveOutcome, TestOutcome, remove_connection, test_connection
from pail.ui.messages import ConnectionRemoved, ConnectionsLoaded, ConnectionTested
from pail.ui.screens.confirm import ConfirmScreen
from pail.ui.screens.connection_form import ConnectionForm
from pail.ui.text import literal, literal_block, tilde
from pail.ui.widgets.footer import PailFooter

if TYPE_CHECKING:
    from pail.credentials import KeyringStatus
    from pail.ui.screens.main import MainScreen
    from pail.ui.widgets.bucket_tree import DriverFactory


class ConnectionTable(DataTable[Text]):
    """The list of saved connections; enter opens the one under the cursor."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", id="connections.open")]


class ConnectionsScreen(Screen[None]):
    """Saved connections (see the module doc).

    Args:
        store: the config file.
        main: the main screen, whose tree gets the changes (new roots, removed roots,
            reopened connections).
        driver_factory: builds drivers for tests of a connection.
    """

    BINDINGS = [
        Binding("n", "add", "New", tooltip="Add a connection", id="connections.add"),
        Binding("e", "edit", "Edit", tooltip="Edit the connection", id="connections.edit"),
        Binding(
            "X,delete",
            "remove",
            "Remove…",
            key_display="X",
            tooltip="Remove the connection and its keyring secrets",
            id="connections.remove",
        ),
        Binding("t", "test", "Test", tooltip="Make one request with it", id="connections.test"),
        Binding(
            "escape,q",
            "back",
            "Back",
            key_display="esc",
            tooltip="Back to the tree",
            id="connections.back",
        ),
    ]

    def __init__(
        self, store: ConnectionStore, main: MainScreen, driver_factory: DriverFactory
    ) -> None:
        super().__init__()
        self._store = store
        self._main = main
        self._driver_factory = driver_factory
        self._specs: list[ConnectionSpec] = []
        self._sources: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="connections-info")
        yield ConnectionTable(id="connections-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="connections-result-pane"):
            yield Static(id="connections-result")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "connections"
        table = self.query_one(ConnectionTable)
        for label, key in [
            ("Name", "name"),
            ("Provider", "provider"),
            ("Endpoint", "endpoint"),
            ("Bucket", "bucket"),
            ("Credentials", "credentials"),
        ]:
            table.add_column(label, key=key)
        self.watch(self.app, "keyring", self._draw_info)
        self.show_result(
            Text("n new · e edit · X remove · t test · enter open · esc back", style="dim")
        )
        self.reload()
        table.focus()

    # -- list ------------------------------------------------------------------------------

    @property
    def keyring(self) -> KeyringStatus | None:
        """The keyring's state, as the app last checked it."""
        return getattr(self.app, "keyring", None)

    def _draw_info(self, status: KeyringStatus | None = None) -> None:
        status = self.keyring
        text = Text.assemble(("Saved connections in ", "dim"), one_line(tilde(self._store.path)))
        if status is not None and status.usable:
            text.append(f"\nSecrets are kept in the OS keyring ({status.backend}).", style="dim")
        elif status is not None:
            text.append("\nKeyring unavailable: ", style="bold")
            text.append(one_line(status.message))
        self.query_one("#connections-info", Static).update(text)

    def reload(self, select: str | None = None) -> None:
        """Re-read the config file and the credential sources (in a worker)."""
        store = self._store

        def work() -> None:
            sources: dict[str, str] = {}
            try:
                specs = tuple(store.load())
            except ConfigError as exc:
                self.post_message(ConnectionsLoaded((), {}, str(exc)))
                return
            for spec in specs:
                try:
                    resolved = credentials.resolve(spec)
                except Exception as exc:  # shown in the column, never raised
                    sources[spec.name] = f"? ({type(exc).__name__})"
                    continue
                text = resolved.source
                if resolved.identity:
                    text += f" · {resolved.identity}"
                sources[spec.name] = text
            self.post_message(ConnectionsLoaded(specs, sources, ""))

        self._select_after_load = select
        self.run_worker(work, thread=True, exclusive=True, group="connections-load")

    def on_connections_loaded(self, message: ConnectionsLoaded) -> None:
        message.stop()
        self._specs = list(message.specs)
        self._sources = message.sources
        table = self.query_one(ConnectionTable)
        table.clear()
        for spec in self._specs:
            endpoint = spec.endpoint_url or (
                tilde(spec.root or "") if spec.provider == "local" else ""
            )
            bucket = (spec.bucket or "") + ("/" + spec.prefix if spec.prefix else "")
            table.add_row(
                Text(one_line(spec.name)),
                Text(spec.provider),
                Text(one_line(endpoint or "default")),
                Text(one_line(bucket)),
                Text(one_line(message.sources.get(spec.name, ""))),
                key=spec.name,
            )
        if message.error:
            self.show_result(
                Text.assemble(("The config file is broken: ", "bold"), literal(message.error))
            )
        elif not self._specs:
            self.show_result(Text("No saved connections yet: press a to add one.", style="dim"))
        select = getattr(self, "_select_after_load", None)
        if select is not None and select in table.rows:
            table.move_cursor(row=table.get_row_index(select))
        self._draw_info()

    def selected(self) -> ConnectionSpec | None:
        """The saved connection under the cursor."""
        table = self.query_one(ConnectionTable)
        if not self._specs or table.cursor_row >= len(self._specs):
            return None
        return self._specs[table.cursor_row]

    def show_result(self, renderable: RenderableType) -> None:
        """Show a test result or a note below the list."""
        self.query_one("#connections-result", Static).update(renderable)

    # -- actions ---------------------------------------------------------------------------

    def action_add(self) -> None:
        """Open the form for a new connection."""
        form = ConnectionForm(self._store, keyring=self.keyring)
        self.app.push_screen(form, self._saved)

    def action_edit(self) -> None:
        """Open the form on the connection under the cursor."""
        spec = self.selected()
        if spec is not None:
            form = ConnectionForm(self._store, editing=spec, keyring=self.keyring)
            self.app.push_screen(form, self._saved)

    def _saved(self, outcome: SaveOutcome | None) -> None:
        if outcome is None or outcome.spec is None:
            return
        self._main.connection_saved(outcome)
        note = f"Saved {outcome.spec.name}"
        if outcome.secrets_stored:
            note += " (secrets in the keyring)"
        self.show_result(Text(note + "."))
        self.reload(select=outcome.spec.name)

    def action_remove(self) -> None:
        """Ask, then remove the connection under the cursor and its keyring entry."""
        spec = self.selected()
        if spec is None:
            return
        name = spec.name
        body = (
            f"This deletes its entry from {self._store.path} and its secrets from the OS "
            "keyring. Nothing in the store itself is touched."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(name)

        self.app.push_screen(
            ConfirmScreen(f"Remove connection {one_line(name)}?", body, confirm="Remove"),
            answered,
        )

    def _remove(self, name: str) -> None:
        store = self._store

        def work() -> None:
            try:
                removed, note = remove_connection(store, name)
            except (ConfigError, OSError) as exc:
                removed, note = False, f"Could not remove it: {exc}"
            self.post_message(ConnectionRemoved(name, removed, note))

        self.run_worker(work, thread=True, group="connections-remove")

    def on_connection_removed(self, message: ConnectionRemoved) -> None:
        message.stop()
        if message.removed:
            self._main.connection_removed(message.name)
        text = Text(f"Removed {one_line(message.name)}." if message.removed else "")
        if message.note:
            text.append(("\n" if text.plain else "") + one_line(message.note))
        self.show_result(text)
        self.reload()

    def action_test(self) -> None:
        """Make one request with the connection under the cursor (in a worker)."""
        spec = self.selected()
        if spec is None:
            return
        factory = self._driver_factory
        self.show_result(Text(f"Testing {one_line(spec.name)}…", style="dim"))

        def work() -> None:
            self.post_message(ConnectionTested(test_connection(spec, driver_factory=factory)))

        self.run_worker(work, thread=True, exclusive=True, group="connections-test")

    def on_connection_tested(self, message: ConnectionTested) -> None:
        message.stop()
        self.show_result(describe_test(message.outcome))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        spec = self.selected()
        if spec is not None:
            self._main.open_connection(spec)
            self.dismiss()

    def action_back(self) -> None:
        """Back to the tree."""
        self.dismiss()


def describe_test(outcome: TestOutcome) -> RenderableType:
    """A test's outcome: the answer, or the error's fields and hint (plain text)."""
    name = one_line(outcome.spec.name)
    creds = outcome.source + (f" · {outcome.identity}" if outcome.identity else "")
    via = Text(f"Credentials: {creds}" if creds else "", style="dim")
    error = outcome.error
    if error is None:
        head = Text.assemble(("✓ ", "bold green"), (name, "bold"), ": ", literal(outcome.summary))
        return Group(head, via)
    head = Text.assemble(("✗ ", "bold red"), (name, "bold"), ": ", (error.badge, "bold red"))
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column(overflow="fold")
    for f in error.fields():
        fields.add_row(Text(f.label), literal(f.value))
    parts: list[RenderableType] = [head, via, fields]
    if error.hint:
        parts.append(Text.assemble(("Hint: ", "bold"), literal_block(error.hint)))
    return Group(*parts)
