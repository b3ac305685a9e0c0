"""Runs as first-class: layout detection, tracking servers, diff and retention by run."""
