"""Writes shared by the app and ``pail put``/``cp``/``mv`` (issue 16): uploads, copies
between stores, server-side copies, moves and renames.

Planning is in :mod:`~pail.services.transfer.plan` (:func:`side_for`,
:func:`plan_transfer`, :func:`plan_rename`), the shapes in
:mod:`~pail.services.transfer.model`, the job in :mod:`~pail.services.transfer.engine`
(:class:`Transfer`); the parts an item goes through in ``parts`` (layout, checksums),
``source`` (reading), ``prove`` (verification), ``resume`` (multipart state) and ``move``
(deleting verified sources). Front-ends import only from here.
"""

from pail.services.download import (
    DEFAULT_JOBS,
    ConflictAnswer,
    Failure,
    FileDone,
    RefusedKey,
    Skipped,
)
from pail.services.download.engine import ConflictPolicy
from pail.services.transfer.engine import (
    ConflictAction,
    ConflictResolver,
    Transfer,
    UnverifiedResolver,
)
from pail.services.transfer.model import (
    Kind,
    NoSource,
    PlanError,
    Side,
    TransferItem,
    TransferPlan,
    TransferReport,
)
from pail.services.transfer.parts import MULTIPART_THRESHOLD
from pail.services.transfer.plan import plan_rename, plan_transfer, side_for

__all__ = [
    "DEFAULT_JOBS",
    "MULTIPART_THRESHOLD",
    "ConflictAction",
    "ConflictAnswer",
    "ConflictPolicy",
    "ConflictResolver",
    "Failure",
    "FileDone",
    "Kind",
    "NoSource",
    "PlanError",
    "RefusedKey",
    "Side",
    "Skipped",
    "Transfer",
    "TransferItem",
    "TransferPlan",
    "TransferReport",
    "UnverifiedResolver",
    "plan_rename",
    "plan_transfer",
    "side_for",
]
