"""Seeding helpers for the du / delete tests: objects with chosen sizes and ages, put
straight into the in-process moto backend (the server's own data, not a mock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conftest import moto_backend, seed_keys

#: The reference "now" of the tests (UTC): ages are relative to it.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def seed_aged(bucket: str, objects: dict[str, tuple[int, float]], now: datetime = NOW) -> None:
    """``{key: (size_bytes, age_days)}``: each object gets ``size`` bytes and a
    last-modified time ``age_days`` before ``now`` (default :data:`NOW`)."""
    seed_keys(bucket, {key: b"x" * size for key, (size, _) in objects.items()})
    found = moto_backend().buckets[bucket].keys
    for key, (_, age) in objects.items():
        when = now - timedelta(days=age)
        found[key].last_modified = when.replace(tzinfo=None)  # moto keeps naive UTC


def runs(bucket: str, ages: dict[str, float], files: int = 2, size: int = 10) -> None:
    """Runs ``runs/NAME/f{i}.bin`` of ``files`` objects each, the run's objects ``age``
    days old (the last file half a day newer, so the run's newest object is that one)."""
    objects = {}
    for name, age in ages.items():
        for i in range(files):
            objects[f"runs/{name}/f{i}.bin"] = (size, age - (0.5 if i == files - 1 else 0))
    seed_aged(bucket, objects)
