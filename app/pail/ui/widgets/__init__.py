"""Widgets of the app: the lazy bucket tree, the detail pane and the filter bar."""
