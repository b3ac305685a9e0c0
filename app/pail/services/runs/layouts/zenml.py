"""ZenML artifact stores: step outputs grouped into pipeline runs by time.

Where ZenML puts a step's output (``generate_artifact_uri`` in
``src/zenml/orchestrators/output_utils.py``)::

    <artifact store path>/<step run name>/<output name>/<step run id>/<str(uuid4())[:8]>/...

The step run id is a UUID written with dashes (``str(step_run.id)``, 36 characters); the
last folder is 8 lowercase hex digits ("add random subfolder to avoid collisions"); the
materializer writes its files inside (``data.json``, ``df.parquet_0``, ``artifact.pkl``,
...) and its visualizations beside them (``describe.csv``). A key is a step output only
with all of that: two name segments, a dashed UUID, an 8-hex folder and something inside
it. So these stay loose: step logs (``<step>/logs/<uuid>/<time>.log`` or
``<step>/logs/<uuid>.log``, ``prepare_logs_uri`` in ``src/zenml/logging/``; newer releases
use ``logs/<uuid>...`` and ``pipeline_runs/logs/...``), ``save_artifact``'s
``custom_artifacts/<name>/<uuid>/`` (no 8-hex folder), code uploads, and older ZenML
releases' outputs written straight under the step run id (not recognised: without the
8-hex folder a ``<name>/<name>/<uuid>/`` folder is too common to claim).

ZenML keeps params, metrics, statuses and which step run belongs to which pipeline run in
its server's database; the artifact store holds no record of it. The grouping here is
therefore **inferred** from the listing: per artifact store root, the step outputs are
sorted by their newest object time, and a new pipeline run starts when the gap to the
previous output exceeds :data:`GAP` (30 minutes), or when a step already seen in the
current run appears again under another step run id more than :data:`REPEAT_APART` (a
minute) after its first output (one pipeline run runs each step once). Limits, shown in
the evidence so nobody mistakes the grouping for ZenML's own: a step that runs longer than
:data:`GAP` after the previous step's outputs splits its pipeline run in two; outputs of
one step written within a minute of each other (concurrent runs, or a store copied with
``aws s3 sync``, which gives every object the copy's time) cannot be told apart and stay in
one run, which errs towards bigger runs rather than halves of runs. Outputs with an object
of unknown time are not grouped (left loose).

A run owns each of its step outputs' ``<step>/<output>/<step run id>/`` prefixes; its id
is its first step run's id, its name ``pipeline run YYYY-MM-DD HH:MM UTC`` (its oldest
object), its experiment the artifact store root, its params the names of the steps that
wrote it (``steps``). Metric-like outputs (``data.json``) are not read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pail.core.units import duration_words, plural
from pail.drivers.base import Entry
from pail.services.runs.layouts.base import Found, ReadText
from pail.services.runs.layouts.common import experiment_of
from pail.services.runs.model import Run

#: ``str(uuid)``: 8-4-4-4-12 lowercase hex digits.
STEP_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: ``str(uuid4())[:8]``.
VERSION = re.compile(r"[0-9a-f]{8}")
#: Output folder names that are not outputs (step logs on object stores).
_NOT_OUTPUTS = frozenset({"logs"})
#: Step folder names that are not steps (``save_artifact``'s default folder).
_NOT_STEPS = frozenset({"custom_artifacts"})
#: Longest quiet time within one inferred pipeline run.
GAP = timedelta(minutes=30)
#: A step's second step run starts a new pipeline run only this long after its first.
REPEAT_APART = timedelta(minutes=1)


@dataclass
class _Output:
    prefix: str
    root: str
    step: str
    output: str
    step_run: str
    oldest: datetime | None = None
    newest: datetime | None = None
    untimed: bool = False


@dataclass
class _Group:
    outputs: list[_Output] = field(default_factory=list)
    #: step name -> its first output in the group
    steps: dict[str, _Output] = field(default_factory=dict)


class _Layout:
    """The ZenML layout (:data:`ZENML`)."""

    name = "zenml"

    def find(self, base: str, objects: Sequence[Entry]) -> Found | None:
        """Step outputs at or below ``base`` (see the module's docstring) grouped into
        inferred pipeline runs; ``base`` may be the artifact store root, a folder above
        it, a step's folder or one step output. No I/O."""
        outputs: dict[str, _Output] = {}
        for entry in objects:
            found = _step_output(entry.key)
            if found is None or not found.prefix.startswith(base):
                continue
            known = outputs.setdefault(found.prefix, found)
            when = entry.last_modified
            if when is None:
                known.untimed = True
                continue
            known.oldest = when if known.oldest is None or when < known.oldest else known.oldest
            known.newest = when if known.newest is None or when > known.newest else known.newest
        timed = [o for o in outputs.values() if not o.untimed]
        if not timed:
            return None
        roots: dict[str, list[_Output]] = {}
        for output in timed:
            roots.setdefault(output.root, []).append(output)
        runs: list[Run] = []
        steps: dict[str, None] = {}
        for root in sorted(roots):
            for group in _groups(roots[root]):
                runs.append(self._run(base, root, group))
                steps.update(dict.fromkeys(o.step for o in group.outputs))
        stores = [experiment_of(base, root) or "at the bucket's root" for root in sorted(roots)]
        where = ", ".join(stores)
        evidence = (
            f"{plural(len(timed), 'step output')} of ZenML steps ({', '.join(steps)}) in the "
            f"artifact store {where}, grouped by time into {plural(len(runs), 'pipeline run')} "
            f"(a new run after {duration_words(GAP)} without output or when a step repeats)"
        )
        return Found(runs, evidence)

    def _run(self, base: str, root: str, group: _Group) -> Run:
        first = group.outputs[0]
        start = min(o.oldest for o in group.outputs if o.oldest is not None)
        step_names = list(dict.fromkeys(o.step for o in group.outputs))
        return Run(
            id=first.step_run,
            name=f"pipeline run {start:%Y-%m-%d %H:%M} UTC",
            layout=self.name,
            prefixes=tuple(o.prefix for o in group.outputs),
            experiment=experiment_of(base, root),
            params={"steps": ", ".join(step_names)},
            groups={f"{o.step}/{o.output}": o.prefix for o in group.outputs},
        )

    def load(self, run: Run, read: ReadText) -> list[str]:
        """Nothing to read: ZenML keeps params and metrics in its server's database."""
        return []


def _step_output(key: str) -> _Output | None:
    """The step output ``key`` lies in, or ``None``: the leftmost dashed-UUID segment with
    two name segments before it, an 8-hex folder after it and something inside that."""
    segs = key.split("/")
    for j in range(2, len(segs) - 2):
        if not STEP_RUN_ID.fullmatch(segs[j]) or not VERSION.fullmatch(segs[j + 1]):
            continue
        step, output = segs[j - 2], segs[j - 1]
        if not step or not output or output in _NOT_OUTPUTS or step in _NOT_STEPS:
            return None
        root = "/".join(segs[: j - 2])
        return _Output(
            prefix="/".join(segs[: j + 1]) + "/",
            root=root + "/" if root else "",
            step=step,
            output=output,
            step_run=segs[j],
        )
    return None


def _groups(outputs: list[_Output]) -> list[_Group]:
    """One artifact store's outputs as inferred pipeline runs, oldest first."""
    ordered = sorted(outputs, key=lambda o: (o.newest, o.prefix))
    groups: list[_Group] = []
    previous: datetime | None = None
    for output in ordered:
        assert output.newest is not None  # untimed outputs were left out
        current = groups[-1] if groups else None
        if current is None or previous is None or output.newest - previous > GAP:
            current = _Group()
            groups.append(current)
        else:
            ran = current.steps.get(output.step)
            if (
                ran is not None
                and ran.step_run != output.step_run
                and ran.newest is not None
                and output.newest - ran.newest > REPEAT_APART
            ):
                current = _Group()
                groups.append(current)
        current.outputs.append(output)
        current.steps.setdefault(output.step, output)
        previous = output.newest
    return groups


#: The ZenML layout.
ZENML = _Layout()
