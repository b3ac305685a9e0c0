"""Downloads shared by the app's downloads panel and ``pail get``.

The engine (:class:`Downloader`, its report types and the trust rules) is in
:mod:`pail.services.download.engine`; planning in :mod:`~pail.services.download.plan`;
the parts a file goes through in ``fetch`` (ranged transfer), ``paths`` (key -> local
path), ``progress``, ``ranges``, ``state`` (partials and their sidecars) and ``verify``.
This package re-exports the names front-ends use.
"""

from pail.services.download.engine import (
    DEFAULT_JOBS,
    ConflictAnswer,
    Downloader,
    DownloadReport,
    Failure,
    FileDone,
    Skipped,
)
from pail.services.download.plan import (
    DownloadJob,
    DownloadPlan,
    RefusedKey,
    plan_keys,
    plan_prefix,
)

__all__ = [
    "DEFAULT_JOBS",
    "ConflictAnswer",
    "DownloadJob",
    "DownloadPlan",
    "DownloadReport",
    "Downloader",
    "Failure",
    "FileDone",
    "RefusedKey",
    "Skipped",
    "plan_keys",
    "plan_prefix",
]
