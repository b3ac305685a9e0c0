"""Small helpers the Lightning, Hugging Face Trainer, modelkit and ZenML layouts share:
naming runs and experiments relative to the location, flattening params to text, reading
one metadata file with its failure turned into a warning line."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from pail.drivers.errors import StorageError
from pail.services.runs.layouts.base import MetadataTooLarge, ReadText
from pail.services.runs.model import Run


def parent(prefix: str) -> str:
    """The folder above ``prefix`` (``"a/b/c/"`` -> ``"a/b/"``, ``"a/"`` -> ``""``)."""
    trimmed = prefix.rstrip("/")
    cut = trimmed.rfind("/")
    return trimmed[: cut + 1] if cut >= 0 else ""


def folder_name(prefix: str) -> str:
    """The last segment of a folder prefix (``"a/b/"`` -> ``"b"``; ``""`` -> ``""``)."""
    return prefix.rstrip("/").rsplit("/", 1)[-1]


def experiment_of(base: str, folder: str) -> str | None:
    """What to call the folder ``folder`` (a prefix ending in ``/``, or ``""`` for the
    bucket's root) seen from the location ``base``: its path below ``base``
    (``"exp/lightning_logs"``), or its own name when it is ``base`` or above it (the
    location is inside it); ``None`` for the bucket's root. Two folders of the same name
    under one location keep distinct names, so "keep the last N per experiment" never
    counts two of them together."""
    if not folder:
        return None
    if folder.startswith(base) and len(folder) > len(base):
        return folder[len(base) :].rstrip("/")
    return folder_name(folder)


def unique_ids(base: str, short: list[str], prefixes: list[str]) -> list[str]:
    """Run ids unique within one layout's runs: ``short[i]`` (``"version_0"``) where no
    other run has it, else the run's path below ``base`` shortened to the fewest trailing
    segments that tell it apart (``"lightning_logs/version_0"``). ``prefixes[i]`` is run
    i's key prefix (ending in ``/``)."""
    counts = Counter(short)
    paths = [_below(base, prefix).split("/") for prefix in prefixes]
    out: list[str] = []
    for i, name in enumerate(short):
        if counts[name] == 1:
            out.append(name)
            continue
        rivals = [paths[j] for j in range(len(short)) if j != i and short[j] == name]
        segs = paths[i]
        depth = 1
        while depth < len(segs) and any(r[-depth:] == segs[-depth:] for r in rivals):
            depth += 1
        out.append("/".join(segs[-depth:]))
    return out


def _below(base: str, prefix: str) -> str:
    trimmed = prefix.rstrip("/")
    if prefix.startswith(base) and len(prefix) > len(base):
        return trimmed[len(base) :]
    return trimmed


def folder_runs(
    layout: str, base: str, prefixes: list[str], groups: Mapping[str, Mapping[str, str]]
) -> tuple[list[Run], list[str]]:
    """One run per folder of ``prefixes`` (a Lightning ``version_N/``, a Trainer
    ``checkpoint-<step>/``): id and name the folder's name, made unique with its parents
    where two share it (:func:`unique_ids`), the experiment its parent folder
    (:func:`experiment_of`), ``groups[prefix]`` its artifact groups sorted by name. Returns
    the runs and the experiments in first-seen order."""
    ids = unique_ids(base, [folder_name(p) for p in prefixes], prefixes)
    runs = []
    experiments: dict[str, None] = {}
    for prefix, run_id in zip(prefixes, ids, strict=True):
        experiment = experiment_of(base, parent(prefix))
        if experiment is not None:
            experiments[experiment] = None
        runs.append(
            Run(
                id=run_id,
                name=run_id,
                layout=layout,
                prefixes=(prefix,),
                experiment=experiment,
                groups=dict(sorted(groups[prefix].items())),
            )
        )
    return runs, list(experiments)


def without_nested(prefixes: Iterable[str]) -> list[str]:
    """``prefixes`` sorted, minus any that lie under another one (a run never owns part
    of another run)."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes)):
        if kept and prefix.startswith(kept[-1]):
            continue
        kept.append(prefix)
    return kept


def text(value: Any) -> str:
    """A param value as text: strings as they are, numbers and booleans with ``str``,
    lists and ``None`` as JSON (``[0.9, 0.999]``, ``null``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value)
    return json.dumps(value, default=str)


def flatten(
    data: Mapping[str, Any],
    prefix: str = "",
    *,
    scalars_only: bool = False,
    limit: int | None = None,
) -> dict[str, str]:
    """Nested mappings flattened with dots (``{"optim": {"lr": 0.1}}`` ->
    ``{"optim.lr": "0.1"}``), values as :func:`text`, in the mapping's order.

    Args:
        scalars_only: keep only strings, numbers and booleans (lists and nulls left out).
        limit: keep at most this many params (the first ones in the file's order).
    """
    out: dict[str, str] = {}

    def walk(node: Mapping[str, Any], lead: str) -> None:
        for key, value in node.items():
            if limit is not None and len(out) >= limit:
                return
            name = f"{lead}{key}"
            if isinstance(value, Mapping):
                walk(value, name + ".")
            elif not scalars_only or isinstance(value, (str, bool, int, float)):
                out[name] = text(value)

    walk(data, prefix)
    return out


def number(value: Any) -> float | None:
    """``value`` as a float when it is a number (not a boolean), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (``"2024-06-20T10:11:12.123456+00:00"``, ``"...Z"``) as UTC;
    a time without an offset is taken as UTC; ``None`` when it does not parse."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def read_text(run: Run, key: str, label: str, read: ReadText, warnings: list[str]) -> str | None:
    """``read(key)``, or ``None`` with a warning line (``"version_3: metrics.csv not read:
    ..."``) when the object is too large or the store refuses it: one unreadable file does
    not lose the run's other metadata."""
    try:
        return read(key)
    except (MetadataTooLarge, StorageError) as exc:
        warnings.append(f"{run.id}: {label} not read: {exc}")
        return None
