"""Messages and requests of the cleanup screens (usage, review, delete, versions,
lifecycle): small dataclasses carrying worker results to the event loop, like
:mod:`pail.ui.messages` (kept apart so the cleanup screens stay in their own modules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from pail.drivers.base import StorageDriver
from pail.services.delete_plan import DeletePlan


@dataclass(eq=False)
class PlanReady(Message):
    """A delete plan was built; ``versioning`` is the bucket's versioning status
    (``"Enabled"``, ``"Suspended"``, ``None``) and ``versioning_note`` says why it is
    unknown ("" when it was read)."""

    plan: DeletePlan
    versioning: str | None
    versioning_note: str


@dataclass(frozen=True)
class DeleteRequest:
    """What the review screen asks for: run ``plan`` on ``driver`` (``dry_run``: report
    only), then, when ``purge_noncurrent``, permanently delete the noncurrent versions
    under ``plan.base``. ``where`` is the location shown (a URI)."""

    driver: StorageDriver
    plan: DeletePlan
    where: str
    dry_run: bool = False
    purge_noncurrent: bool = False


@dataclass(eq=False)
class PurgeFinished(Message):
    """The permanent deletion of noncurrent versions finished (``report``: a
    :class:`pail.services.versions.PurgeReport`)."""

    report: Any


@dataclass(eq=False)
class VersionsListed(Message):
    """A versions listing answered: ``rows`` (VersionEntry list) for ``ticket``."""

    ticket: int
    rows: list[Any]


@dataclass(eq=False)
class VersionPreviewLoaded(Message):
    """A preview of one old version was read (``preview``: a ``PreviewResult``)."""

    ticket: int
    preview: Any


@dataclass(eq=False)
class RestoreFinished(Message):
    """A restore finished (``report``: pail.services.versions.RestoreReport)."""

    report: Any


@dataclass(eq=False)
class LifecycleLoaded(Message):
    """The bucket's lifecycle rules were read (``rules``) and its versioning status."""

    rules: list[dict[str, Any]]


@dataclass(eq=False)
class LifecycleApplied(Message):
    """Rules were written (``result``: pail.services.lifecycle.ApplyResult)."""

    result: Any


@dataclass(eq=False)
class RestorePlanned(Message):
    """What a restore would do (``plan``: pail.services.versions.RestorePlan)."""

    plan: Any


@dataclass(eq=False)
class VersionSaved(Message):
    """An old version was downloaded to ``path``."""

    path: str
