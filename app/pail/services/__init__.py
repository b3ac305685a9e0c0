"""Work the UI and the CLI share, built on the drivers only (no Textual or Rich here)."""
