"""Tensor and array headers without the data: safetensors and NumPy ``.npy``.

* safetensors (https://github.com/huggingface/safetensors#format, "Format"): 8 bytes
  little-endian u64 ``N``, then ``N`` bytes of UTF-8 JSON: ``{"name": {"dtype": "F16",
  "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}``, then
  the data. Only the length and the header are read; a header larger than the preview
  budget is refused (the format itself caps it at 100 MB).
* ``.npy`` (NEP 1, "A Simple File Format for NumPy Arrays"): ``\\x93NUMPY``, major and
  minor version bytes, header length (u16 LE in version 1, u32 LE in 2 and 3), then a
  Python dict literal ``{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }``
  (latin-1; UTF-8 in version 3), parsed with :func:`ast.literal_eval` (literals only,
  never evaluated as code).

Malformed headers raise :class:`~pail.services.previews.common.NotThisFormat`.
"""

from __future__ import annotations

import ast
import json
import math
import struct

from pail.core.text import clip
from pail.services.previews.common import Job, NotThisFormat
from pail.services.previews.results import TensorHeaderPreview, TensorInfo

#: Tensors listed at most (total_parameters still counts all of them).
MAX_TENSORS = 1000
#: Dimensions accepted per tensor (real models use <= 8).
MAX_DIMS = 32
#: Metadata entries kept.
MAX_METADATA = 100


def _shape(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_DIMS:
        raise NotThisFormat(f"{where}: shape is not a list of at most {MAX_DIMS} integers")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value):
        raise NotThisFormat(f"{where}: shape holds something other than sizes >= 0")
    return tuple(value)


def safetensors_preview(job: Job, *, max_tensors: int = MAX_TENSORS) -> TensorHeaderPreview:
    """Tensor names, dtypes, shapes, parameter count and ``__metadata__`` of a safetensors
    file, from its header alone (the first ``max_tensors`` tensors listed; run diffs
    list more than the preview)."""
    prefix = job.head(8)
    if len(prefix) < 8:
        raise NotThisFormat("too short for a safetensors header length")
    (length,) = struct.unpack("<Q", prefix[:8])
    if length > job.size - 8:
        raise NotThisFormat(f"header length {length:,} runs past the end of the object")
    if length > job.limit - 8:
        raise NotThisFormat(
            f"safetensors header of {length:,} bytes is larger than the preview limit"
        )
    raw = job.reader.read_at(8, length, exact=True)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise NotThisFormat(f"safetensors header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise NotThisFormat("safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise NotThisFormat("safetensors __metadata__ is not an object")
    tensors: list[TensorInfo] = []
    total = 0
    for name, entry in header.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str):
            raise NotThisFormat(f"tensor {clip(name)}: no dtype")
        offsets = entry.get("data_offsets")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and o >= 0 for o in offsets)
        ):
            raise NotThisFormat(f"tensor {clip(name)}: data_offsets is not two integers")
        shape = _shape(entry.get("shape"), f"tensor {clip(name)}")
        count = math.prod(shape)
        total += count
        if len(tensors) < max_tensors:
            tensors.append(TensorInfo(clip(name, 300), clip(entry["dtype"], 20), shape, count))
    metadata = {clip(k, 100): clip(v, 500) for k, v in list(meta.items())[:MAX_METADATA]}
    return job.done(
        TensorHeaderPreview,
        format="safetensors",
        tensors=tuple(tensors),
        total_tensors=len(header),
        total_parameters=total,
        metadata=metadata,
        header_bytes=8 + length,
        note=None if len(header) <= max_tensors else f"the first {max_tensors:,} tensors shown",
    )


def npy_preview(job: Job) -> TensorHeaderPreview:
    """Dtype, shape and memory order of a ``.npy`` array, from its header alone."""
    prefix = job.head(12)
    if prefix[:6] != b"\x93NUMPY" or len(prefix) < 10:
        raise NotThisFormat("no NumPy .npy magic (\\x93NUMPY)")
    major, minor = prefix[6], prefix[7]
    if major == 1:
        (length,), start = struct.unpack("<H", prefix[8:10]), 10
    elif major in (2, 3) and len(prefix) >= 12:
        (length,), start = struct.unpack("<I", prefix[8:12]), 12
    else:
        raise NotThisFormat(f"unknown .npy version {major}.{minor}")
    if start + length > job.size or length > job.limit - start:
        raise NotThisFormat(f".npy header of {length:,} bytes does not fit the object or limit")
    raw = job.reader.read_at(start, length, exact=True)
    try:
        header = ast.literal_eval(raw.decode("utf-8" if major == 3 else "latin-1"))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise NotThisFormat(f".npy header is not a Python literal ({type(exc).__name__})") from None
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise NotThisFormat(".npy header lacks descr, fortran_order or shape")
    shape = _shape(header["shape"], ".npy")
    count = math.prod(shape)
    info = TensorInfo("array", clip(header["descr"], 200), shape, count)
    metadata = {"version": f"{major}.{minor}", "fortran_order": str(bool(header["fortran_order"]))}
    return job.done(
        TensorHeaderPreview,
        format="npy",
        tensors=(info,),
        total_tensors=1,
        total_parameters=count,
        metadata=metadata,
        header_bytes=start + length,
    )
