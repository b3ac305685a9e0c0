"""The Textual app: a tree of connections, buckets, prefixes and objects beside a detail pane.

Entry point: :class:`pail.ui.app.PailApp`. Imports point one way: ``ui`` -> ``services`` ->
``drivers``.
"""
