"""A key that does nothing here says why: the mixin every full screen uses.

A screen hides a command that does not apply now from its footer with ``check_action``
(Textual then ignores the key). Pressed anyway, the key would do nothing, silently; this
mixin's ``on_key`` notices such a key among the screen's own bindings and notifies
"``x (Stop): the scan has finished``" instead. Keys a focused text field takes never get
here (the field consumes them first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.actions import parse

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen
else:
    _Base = object

#: What is said when a screen gives no reason of its own.
GENERIC_REASON = "not available here now"


class KeysExplained(_Base):
    """Mixin for a :class:`~textual.screen.Screen`: keys of disabled commands explain
    themselves.

    Attributes:
        WHY_NOT: action name (``"cancel_scan"``) -> why it does nothing now (plain text);
            :meth:`why_not` may compute it instead.
    """

    WHY_NOT: ClassVar[dict[str, str]] = {}

    def why_not(self, action: str) -> str:
        """Why ``action`` (a name, without parameters) does nothing now (plain text)."""
        return self.WHY_NOT.get(action, GENERIC_REASON)

    def on_key(self, event: events.Key) -> None:
        if event.key in self.active_bindings:
            return
        for node, bindings in self._modal_binding_chain:
            for binding in bindings.key_to_bindings.get(event.key, []):
                if self.app._check_action_state(binding.action, node) is not False:
                    continue
                _destination, name, _params = parse(binding.action)
                reason = self.why_not(name) if node is self else ""
                if reason:
                    key = self.app.get_key_display(binding)
                    self.notify(f"{key} ({binding.description}): {reason}", markup=False)
                    return
