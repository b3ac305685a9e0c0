"""Placeholder: the MLflow / FastTrackML tracking server client (being written)."""

from __future__ import annotations

from pail.services.runs.model import RunSet


class TrackingServer:
    """An MLflow-compatible tracking server (being written)."""

    uri: str = ""

    def merge(self, result: RunSet) -> None:
        """Merge the server's knowledge of the MLflow runs in ``result`` into them."""
