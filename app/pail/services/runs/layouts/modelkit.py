"""modelkit asset storage: each asset version is one run.

What modelkit writes (``StorageProvider`` in ``modelkit/assets/remote.py``, versions in
``modelkit/assets/versioning/``; ``docs/assets/store_organization.md``), under the storage
prefix (``MODELKIT_STORAGE_PREFIX``, default ``modelkit-assets``) and an asset name that
may itself contain ``/``:

* ``<prefix>/<name>/<version>``: the data, one object; or, for a folder pushed as an
  asset, ``<prefix>/<name>/<version>/<part>`` objects;
* ``<prefix>/<name>/<version>.meta``: ``json.dump`` of ``{"push_date": <ISO 8601 UTC>,
  "is_directory": ..., "contents": [<parts>]}`` (``contents`` for folders), written after
  the data;
* ``<prefix>/<name>.versions``: ``json.dump({"versions": [...]})``, latest first, the only
  object modelkit rewrites.

Versions are ``major.minor`` (``MajorMinorAssetsVersioningSystem``) or
``YYYY-MM-DDTHH-MM-SSZ`` (``SimpleDateAssetsVersioningSystem``); asset specs accept
``[0-9A-Za-z._-]+``. A version is recognised from its ``<version>.meta`` object when the
asset's ``<name>.versions`` object is listed too (the location is the storage prefix or
above it), or, when the location is the asset's own folder (its ``.versions`` object lies
outside it), when the version is ``major.minor`` or a modelkit date. Data without a
``.meta`` (a push that did not finish) stays loose; so does the ``.versions`` object, which
belongs to the asset, not to a version: a tool that deletes versions leaves it listing
them.

A run owns ``<name>/<version>`` and ``<name>/<version>.meta`` as exact keys
(:attr:`~pail.services.runs.model.Run.keys`: a prefix ``<name>/0.1`` would also take
``0.10``) and ``<name>/<version>/`` as a prefix for a folder version. Its id is
``<asset>/<version>`` and its name ``<asset> <version>``, the asset being its folder's
path below the location (or its name when the location is the asset's folder); its
experiment is the asset. Params are the ``.meta`` scalars (``push_date``,
``is_directory``) and ``files`` (the number of parts of a folder version); ``push_date``
is the run's start. modelkit records no metrics or status.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Sequence

from pail.core.units import plural
from pail.drivers.base import Entry
from pail.services.runs.layouts.base import Found, ReadText
from pail.services.runs.layouts.common import (
    experiment_of,
    flatten,
    folder_name,
    parse_time,
    read_text,
)
from pail.services.runs.model import Run

META = ".meta"
VERSIONS = ".versions"
#: ``GENERIC_ASSET_VERSION_RE`` of ``modelkit/assets/settings.py``.
ANY_VERSION = re.compile(r"[0-9A-Za-z._-]+")
#: ``MAJOR_MINOR_VERSION_RE`` (major_minor.py) and ``DATE_RE`` (simple_date.py).
TOOL_VERSION = re.compile(
    r"[0-9]+(\.[0-9]+)?|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}Z"
)
#: Asset names the evidence lists at most.
_NAMES_SHOWN = 4


class _Layout:
    """The modelkit layout (:data:`MODELKIT`)."""

    name = "modelkit"

    def find(self, base: str, objects: Sequence[Entry]) -> Found | None:
        """Every asset version whose ``.meta`` object is at or below ``base`` (see the
        module's docstring); ``base`` may be the storage prefix, a folder above it or
        one asset's folder. No I/O."""
        keys = [entry.key for entry in objects]
        present = set(keys)
        ordered = sorted(keys)
        assets = {key[: -len(VERSIONS)] + "/": key for key in keys if key.endswith(VERSIONS)}
        runs: list[Run] = []
        named: dict[str, None] = {}
        for key in keys:
            if not key.endswith(META) or not key.startswith(base):
                continue
            folder, slash, leaf = key.rpartition("/")
            folder += slash
            version = leaf[: -len(META)]
            if not folder or not ANY_VERSION.fullmatch(version):
                continue  # an asset has a name: its versions are never at the bucket's root
            versions_key = assets.get(folder)
            if versions_key is None and not (folder == base and TOOL_VERSION.fullmatch(version)):
                continue
            asset = experiment_of(base, folder) or folder_name(folder)
            data = folder + version
            groups = {"meta": key}
            owned = [data] if data in present else []
            if owned:
                groups["data"] = data
            prefixes: tuple[str, ...] = ()
            if _has_under(ordered, data + "/"):
                prefixes = (data + "/",)
                groups["data"] = data + "/"
            if versions_key is not None:
                groups["versions"] = versions_key
            named[asset] = None
            runs.append(
                Run(
                    id=f"{asset}/{version}",
                    name=f"{asset} {version}",
                    layout=self.name,
                    prefixes=prefixes,
                    keys=(*owned, key),
                    experiment=asset,
                    groups=groups,
                )
            )
        if not runs:
            return None
        shown = list(named)[:_NAMES_SHOWN]
        more = len(named) - len(shown)
        names = ", ".join(shown) + (f" and {more} more" if more else "")
        evidence = (
            f"{plural(len(runs), 'version')} of {plural(len(named), 'modelkit asset')} "
            f"({names}), each with its <version>.meta"
        )
        return Found(runs, evidence)

    def load(self, run: Run, read: ReadText) -> list[str]:
        """Params and the push date from the version's ``.meta``. Returns warning lines
        when it could not be used."""
        warnings: list[str] = []
        key = run.groups.get("meta")
        if not key:
            return warnings
        body = read_text(run, key, META, read, warnings)
        if body is None:
            return warnings
        try:
            meta = json.loads(body)
        except ValueError as exc:
            warnings.append(f"{run.id}: {META} is not valid JSON ({exc})")
            return warnings
        if not isinstance(meta, dict):
            warnings.append(f"{run.id}: {META} holds no JSON object")
            return warnings
        run.params.update(flatten(meta, scalars_only=True))
        contents = meta.get("contents")
        if isinstance(contents, list):
            run.params["files"] = str(len(contents))
        pushed = parse_time(meta.get("push_date"))
        if pushed is not None:
            run.start = pushed
        elif "push_date" in meta:
            warnings.append(f"{run.id}: {META}: push_date is not an ISO 8601 time")
        run.sources.append(META)
        return warnings


def _has_under(ordered: list[str], prefix: str) -> bool:
    """Whether a key of ``ordered`` (sorted) starts with ``prefix``."""
    i = bisect_left(ordered, prefix)
    return i < len(ordered) and ordered[i].startswith(prefix)


#: The modelkit layout.
MODELKIT = _Layout()
