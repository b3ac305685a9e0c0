"""Each tool's run layout, tried in this order (a key claimed by one is not offered to the
next; ZenML's pattern is the most general, so it comes last)."""

from __future__ import annotations

from pail.services.runs.layouts.base import LayoutReader
from pail.services.runs.layouts.hf_trainer import HF_TRAINER
from pail.services.runs.layouts.lightning import LIGHTNING
from pail.services.runs.layouts.mlflow import MLFLOW
from pail.services.runs.layouts.modelkit import MODELKIT
from pail.services.runs.layouts.zenml import ZENML

LAYOUTS: tuple[LayoutReader, ...] = (MLFLOW, LIGHTNING, HF_TRAINER, MODELKIT, ZENML)
