"""The app's keymap, written down once: which keys each screen has, for ``?``, the README's
table and the user's overrides.

The bindings themselves stay where Textual wants them (each screen's and widget's
``BINDINGS``, each with an id such as ``node.download``); this module only gathers them:

* :data:`SCREENS` names, per screen, the classes whose bindings it offers (a screen, the
  widgets on it) and keys Textual's own widgets handle (arrows, enter);
* :func:`screen_keys` lists one screen's keys as the user's keymap makes them (``?``);
* :func:`markdown_table` is the README's table (a test keeps the two the same);
* :func:`binding_ids` are the ids a ``[keymap]`` table may name
  (:mod:`pail.config.ui_prefs`).

The rules every screen follows: ``?`` lists this screen's keys, ``ctrl+p`` finds any of its
actions by name, ``escape`` or ``q`` goes back one screen (``q`` on the main screen quits,
after a question while work runs), ``ctrl+q`` quits from anywhere. One key means one thing
everywhere: ``d`` download, ``X`` delete (review first), ``x`` stop the work in progress,
``r`` refresh/re-run, ``c``/``y`` copy (the thing / a command or report), ``S``/``R``
sort/reverse, space/``+``/``u`` mark/mark all/unmark, ``/`` filter or query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap

from pail.ui.screens.access_check import AccessCheckScreen
from pail.ui.screens.check import CheckScreen
from pail.ui.screens.connections import ConnectionsScreen, ConnectionTable
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.inventory import InventoryScreen
from pail.ui.screens.inventory_plan import InventoryPlanScreen, InventoryReviewScreen
from pail.ui.screens.inventory_search import INVENTORY_SYNTAX, InventorySearchScreen
from pail.ui.screens.inventory_sql import InventorySqlScreen
from pail.ui.screens.lifecycle import LifecycleScreen
from pail.ui.screens.main import MainScreen
from pail.ui.screens.rename import TextInputScreen
from pail.ui.screens.run_diff import RunDiffScreen
from pail.ui.screens.runs import RunsScreen
from pail.ui.screens.search import SYNTAX_HELP, SearchScreen
from pail.ui.screens.target_picker import TargetPickerScreen
from pail.ui.screens.transfer_confirm import TransferConfirmScreen
from pail.ui.screens.usage import UsageScreen
from pail.ui.screens.versions import VersionsScreen
from pail.ui.widgets.bucket_tree import BucketTree
from pail.ui.widgets.level_list import LevelList
from pail.ui.widgets.tree_marks import MarkedTree

#: Keys of every screen (the app's own bindings are added by the app: ``?``, ``ctrl+q``).
GLOBAL_KEYS = [
    ("?", "Show this screen's keys", "app.help"),
    ("ctrl+p", "Command palette: every action of this screen by name; themes", ""),
    ("esc / q", "Back one screen (q on the main screen: quit)", ""),
    ("ctrl+q", "Quit pail (asks first while transfers or deletes run)", "app.quit"),
]

#: Keys Textual's Tree handles itself.
TREE_KEYS = [
    ("↑ ↓ pgup pgdn home end", "Move the cursor", ""),
    ("enter", "Expand / collapse; on “load more…”, list the next page", ""),
    ("shift+←", "Go to the parent", ""),
]

#: Keys of the table screens, handled by Textual's DataTable.
TABLE_KEYS = [("↑ ↓ pgup pgdn ctrl+home ctrl+end", "Move the cursor (home / end: sideways)", "")]


@dataclass(frozen=True)
class Section:
    """Keys of one part of a screen.

    Attributes:
        title: what part (``"Tree"``, ``"Level list"``).
        owners: classes whose own ``BINDINGS`` (not inherited ones) are listed.
        fixed: ``(key, description, binding id)`` rows of keys handled elsewhere.
    """

    title: str
    owners: tuple[type, ...] = ()
    fixed: tuple[tuple[str, str, str], ...] = ()


#: Per screen class: its title and sections, in the order ``?`` and the README show them.
SCREENS: dict[type, tuple[str, tuple[Section, ...]]] = {
    MainScreen: (
        "Main screen (tree | detail)",
        (
            Section("Tree", (MarkedTree, BucketTree, MainScreen), tuple(TREE_KEYS)),
            Section(
                "Level list (enter on “▤ … open list”)",
                (LevelList,),
                (
                    (
                        "↑ ↓ pgup pgdn home",
                        "Move the cursor (near the end, the next page loads)",
                        "",
                    ),
                ),
            ),
        ),
    ),
    SearchScreen: (
        "Search (ctrl+f)",
        (
            Section("Search", (SearchScreen,), tuple(TABLE_KEYS)),
            Section(
                "Query",
                fixed=(
                    *((term, meaning, "") for term, meaning in SYNTAX_HELP),
                    ("enter (in the query)", "Search; once listed, the list follows typing", ""),
                ),
            ),
        ),
    ),
    UsageScreen: ("Sizes (s)", (Section("Sizes", (UsageScreen,), tuple(TABLE_KEYS)),)),
    DownloadsScreen: (
        "Transfers (D)",
        (Section("Transfers", (DownloadsScreen,), tuple(TABLE_KEYS)),),
    ),
    TargetPickerScreen: (
        "Target picker (F5, F6, =)",
        (
            Section(
                "Target",
                (TargetPickerScreen,),
                (
                    ("enter (in the field)", "Read the target (checked off the screen)", ""),
                    ("tab, ↑ ↓ enter (in the list)", "Put an open bucket into the field", ""),
                ),
            ),
        ),
    ),
    CheckScreen: (
        "Check (= on the tree)",
        (Section("Check", (CheckScreen,), tuple(TABLE_KEYS)),),
    ),
    TextInputScreen: (
        "New name or local path (F2, U)",
        (Section("Input", (TextInputScreen,), (("enter", "Go on with the text typed", ""),)),),
    ),
    TransferConfirmScreen: (
        "Write plan (F5, F6, F2, U)",
        (
            Section(
                "Plan",
                (TransferConfirmScreen,),
                (("tab, ↑ ↓ space", "Choose what happens to keys that exist", ""),),
            ),
        ),
    ),
    VersionsScreen: (
        "Versions (v)",
        (Section("Versions", (VersionsScreen,), tuple(TABLE_KEYS)),),
    ),
    LifecycleScreen: ("Lifecycle rules (L)", (Section("Lifecycle", (LifecycleScreen,)),)),
    DeleteReviewScreen: ("Delete review (X, z)", (Section("Review", (DeleteReviewScreen,)),)),
    DeleteProgressScreen: (
        "Delete progress",
        (Section("Delete progress", (DeleteProgressScreen,)),),
    ),
    AccessCheckScreen: (
        "Access check (a)",
        (Section("Access check", (AccessCheckScreen,), tuple(TABLE_KEYS)),),
    ),
    ConnectionsScreen: (
        "Connections (C)",
        (Section("Connections", (ConnectionsScreen, ConnectionTable)),),
    ),
    RunsScreen: ("Runs (e)", (Section("Runs", (RunsScreen,), tuple(TABLE_KEYS)),)),
    RunDiffScreen: (
        "Run diff (= in the runs view)",
        (Section("Run diff", (RunDiffScreen,), (("↑ ↓ pgup pgdn", "Scroll", ""),)),),
    ),
    InventoryScreen: (
        "Inventory (i)",
        (Section("Inventory", (InventoryScreen,), tuple(TABLE_KEYS)),),
    ),
    InventorySearchScreen: (
        "Inventory search (/ in the inventory)",
        (
            Section("Search", (InventorySearchScreen,), tuple(TABLE_KEYS)),
            Section(
                "Query",
                fixed=(
                    *((term, meaning, "") for term, meaning in INVENTORY_SYNTAX),
                    ("enter (in the query)", "Search the report", ""),
                ),
            ),
        ),
    ),
    InventoryPlanScreen: (
        "Plan from an inventory (z in the inventory)",
        (Section("Plan", (InventoryPlanScreen,), tuple(TABLE_KEYS)),),
    ),
    InventorySqlScreen: (
        "Inventory SQL (y in the inventory)",
        (Section("SQL", (InventorySqlScreen,)),),
    ),
    # The review of a plan from an inventory is the delete review (its keys are listed
    # there; markdown_table skips a screen built on another listed one).
    InventoryReviewScreen: (
        "Delete review (X in a plan from an inventory)",
        (Section("Review", (DeleteReviewScreen,)),),
    ),
}


@dataclass(frozen=True)
class KeyRow:
    """One key of a screen.

    Attributes:
        key: how it is typed (``"d"``, ``"ctrl+f"``, ``"G / end"``), after the keymap.
        description: what it does, one line.
        binding_id: the id a ``[keymap]`` override names (``""``: not rebindable).
    """

    key: str
    description: str
    binding_id: str = ""


def _own_bindings(owner: type) -> list[Binding]:
    # A class's own BINDINGS only: a mixin's or a base's are listed under their own class.
    bindings = owner.__dict__.get("BINDINGS", [])
    return [b for b in bindings if isinstance(b, Binding)]


def _key_text(keys: Iterable[str], binding: Binding) -> str:
    shown = []
    for number, key in enumerate(keys):
        if number == 0 and binding.key_display:  # Textual shows it for the first key
            text = binding.key_display
        else:
            text = {"question_mark": "?", "slash": "/", "plus": "+", "asterisk": "*"}.get(key, key)
        if text not in shown:
            shown.append(text)
    return " / ".join(shown)


def section_rows(section: Section, keymap: Mapping[str, str] | None = None) -> list[KeyRow]:
    """The rows of one section, with ``keymap`` (binding id -> keys) applied."""
    rows = [KeyRow(key, text, binding_id) for key, text, binding_id in section.fixed]
    seen: set[str] = set()
    for owner in section.owners:
        for binding in _own_bindings(owner):
            if binding.id in seen or not binding.id:
                continue  # keys without an id (cursor moves) are in the fixed rows
            if binding.id:
                seen.add(binding.id)
            keys = [k.strip() for k in binding.key.split(",")]
            if keymap and binding.id and binding.id in keymap:
                keys = [k.strip() for k in keymap[binding.id].split(",")]
                binding = binding.with_key(keymap[binding.id], key_display=None)
            description = binding.tooltip or binding.description
            rows.append(KeyRow(_key_text(keys, binding), description, binding.id or ""))
    return rows


def screen_keys(
    screen_class: type, keymap: Mapping[str, str] | None = None
) -> list[tuple[str, list[KeyRow]]]:
    """``?`` for a screen: ``[(section title, rows)]``, the screen's sections and then the
    keys every screen has. A screen not in :data:`SCREENS` (a dialog) lists its own
    bindings."""
    title_sections = SCREENS.get(screen_class)
    if title_sections is None:
        sections: tuple[Section, ...] = (Section("This dialog", (screen_class,)),)
    else:
        sections = title_sections[1]
    parts = [(section.title, section_rows(section, keymap)) for section in sections]
    everywhere = [
        KeyRow(_override(key, binding_id, keymap), text, binding_id)
        for key, text, binding_id in GLOBAL_KEYS
    ]
    parts.append(("Every screen", everywhere))
    return parts


def _override(key: str, binding_id: str, keymap: Mapping[str, str] | None) -> str:
    if keymap and binding_id and binding_id in keymap:
        return " / ".join(k.strip() for k in keymap[binding_id].split(","))
    return key


def binding_ids() -> set[str]:
    """Every binding id a ``[keymap]`` table may name (the app's included)."""
    from pail.ui.app import PailApp  # the app imports this module

    ids = {b.id for b in _own_bindings(PailApp) if b.id}
    for _title, sections in SCREENS.values():
        for section in sections:
            for owner in section.owners:
                ids.update(b.id for b in _own_bindings(owner) if b.id)
    return ids


def clashes(keymap: Mapping[str, str]) -> list[str]:
    """Overrides that take a key another binding of the same screen part already has,
    as ``"node.download: ctrl+f is also node.search"`` lines (Textual would silently
    drop one of them)."""
    problems = []
    for _title, sections in SCREENS.values():
        for section in sections:
            bindings = [b for owner in section.owners for b in _own_bindings(owner)]
            result = BindingsMap(bindings).apply_keymap(dict(keymap))
            for binding in result.clashed_bindings:
                problems.append(f"{binding.id}: {binding.key} is taken by an override")
    return sorted(set(problems))


def markdown_table() -> str:
    """The README's key table: one ``| key | what it does | binding id |`` table per
    screen, under a ``####`` heading each."""
    out: list[str] = []
    for screen_class, (title, _sections) in SCREENS.items():
        if any(base in SCREENS for base in screen_class.__mro__[1:]):
            continue  # built on a listed screen, with its keys: listed once, there
        out.append(f"#### {title}\n")
        out.append("| key | what it does | binding id |")
        out.append("|---|---|---|")
        for part, rows in screen_keys(screen_class)[:-1]:
            for row in rows:
                key = row.key.replace("|", "\\|")
                where = "" if len(SCREENS[screen_class][1]) == 1 else f"{part.split(' (')[0]}: "
                ident = f"`{row.binding_id}`" if row.binding_id else ""
                out.append(f"| `{key}` | {where}{row.description} | {ident} |")
        out.append("")
    out.append("#### Every screen\n")
    out.append("| key | what it does | binding id |")
    out.append("|---|---|---|")
    for key, text, binding_id in GLOBAL_KEYS:
        ident = f"`{binding_id}`" if binding_id else ""
        out.append(f"| `{key}` | {text} | {ident} |")
    return "\n".join(out) + "\n"


README_START = "<!-- keymap: generated by `make keys` from pail.ui.keymap; do not edit -->"
README_END = "<!-- keymap: end -->"


def readme_with_table(text: str) -> str:
    """``text`` (the README) with the part between :data:`README_START` and
    :data:`README_END` replaced by :func:`markdown_table`.

    Raises:
        ValueError: the markers are missing.
    """
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError("the README has no keymap markers")
    head = text[: start + len(README_START)]
    return f"{head}\n\n{markdown_table()}\n{text[end:]}"


if __name__ == "__main__":  # make keys
    import sys

    path = sys.argv[1] if len(sys.argv) > 1 else "README.md"
    with open(path, encoding="utf-8") as fh:
        old = fh.read()
    new = readme_with_table(old)
    if new != old:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(new)
