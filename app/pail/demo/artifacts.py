"""Realistic artifact files for the demo store (no torch needed).

Every generator returns the complete file as ``bytes`` and is deterministic for a given
``random.Random``. Formats are real, so previews and outside tools read them:

* PNG: an RGB line chart drawn with Pillow.
* safetensors (huggingface/safetensors README): little-endian u64 header length, a JSON
  header of dtype/shape/data_offsets, then the raw tensor bytes.
* Parquet: one row group written by pyarrow (both are dependencies of pail already).
* PyTorch-like checkpoint: a zip holding ``archive/data.pkl`` and ``archive/version``
  (the layout of ``torch.save``), with a plain-Python pickle inside.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import random
import struct
import zipfile
from datetime import datetime, timedelta
from typing import Any

# --- PNG ------------------------------------------------------------------------------


def line_chart_png(
    series: list[list[float]], width: int = 480, height: int = 300, margin: int = 30
) -> bytes:
    """A PNG (8-bit RGB) plotting each series as a coloured line over light axes.

    Args:
        series: one or more lists of y values, drawn left to right on a shared scale.
        width, height: image size in pixels.
        margin: blank border in pixels around the plot area.
    """
    from PIL import Image, ImageDraw

    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44)]
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for k in range(1, 5):  # faint horizontal grid lines
        y = margin + k * (height - 2 * margin) // 5
        draw.line([(margin, y), (width - margin - 1, y)], fill=(225, 225, 225))
    draw.line([(margin, height - margin), (width - margin - 1, height - margin)], fill=(90, 90, 90))
    draw.line([(margin, margin), (margin, height - margin)], fill=(90, 90, 90))
    values = [v for s in series for v in s]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    for n, ys in enumerate(series):
        points = [
            (
                margin + round(i * (width - 2 * margin - 1) / max(len(ys) - 1, 1)),
                height - margin - 1 - round((v - lo) / span * (height - 2 * margin - 2)),
            )
            for i, v in enumerate(ys)
        ]
        draw.line(points, fill=colours[n % 3], width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- safetensors ----------------------------------------------------------------------


def safetensors_file(
    tensors: dict[str, list[int]], rng: random.Random, *, metadata: dict[str, str] | None = None
) -> bytes:
    """A safetensors file of float16 tensors with the given shapes, random-looking data.

    The data repeats a 64 KiB random block so tens of MiB are generated in milliseconds.
    """
    header: dict[str, object] = {"__metadata__": metadata or {"format": "pt"}}
    offset = 0
    for name, shape in tensors.items():
        size = 2 * math.prod(shape)
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the format pads the header to 8 bytes
    block = rng.randbytes(1 << 16)
    data = (block * (offset // len(block) + 1))[:offset]
    return struct.pack("<Q", len(head)) + head + data


# --- Parquet ----------------------------------------------------------------------------


def parquet_table(columns: dict[str, list[Any]]) -> bytes:
    """A Parquet file of one row group written by pyarrow (column types inferred from the
    values: ``int`` -> int64, ``float`` -> double, ``str`` -> string)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table(columns), out, compression="none")
    return out.getvalue()


# --- checkpoints, logs, tables ----------------------------------------------------------


def torch_like_checkpoint(state: dict[str, Any]) -> bytes:
    """A zip laid out like ``torch.save`` output, holding a plain pickle of ``state``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(state, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
    return buf.getvalue()


def loss_curve(rng: random.Random, steps: int, start: float = 2.4, floor: float = 0.3) -> list:
    """A noisy, decaying training-loss series of ``steps`` values."""
    rate = rng.uniform(3.0, 5.0) / steps
    return [
        round(floor + (start - floor) * math.exp(-rate * i) + rng.gauss(0, 0.03), 4)
        for i in range(steps)
    ]


def train_log(
    rng: random.Random,
    run_name: str,
    started: datetime,
    losses: list[float],
    lr: float | list[float],
    *,
    times: list[datetime] | None = None,
    evals: dict[int, tuple[float, float]] | None = None,
    failure: str | None = None,
) -> bytes:
    """A training log: a banner, one line per step with loss/lr/throughput, evals, a summary
    (or, with ``failure``, an error line and a traceback ending in it).

    Args:
        losses: the loss of each step (step 1 first).
        lr: the peak learning rate (warmed up over 50 steps, then constant), or the
            learning rate of each step.
        times: each step's time (default: 2.5 to 4 s apart from ``started``).
        evals: step -> (val_loss, val_acc) of the validations (default: every 100 steps,
            derived from the loss).
    """
    lines = [
        f"{started:%Y-%m-%d %H:%M:%S} INFO  run {run_name}: starting training",
        f"{started:%Y-%m-%d %H:%M:%S} INFO  world_size=4 precision=bf16-mixed seed=42",
    ]
    when = started
    for step, loss in enumerate(losses, 1):
        if times is not None:
            when = times[step - 1]
        else:
            when += timedelta(seconds=rng.uniform(2.5, 4.0))
        its = rng.uniform(11.0, 13.5)
        rate = lr[step - 1] if isinstance(lr, list) else lr * min(1.0, step / 50)
        lines.append(
            f"{when:%Y-%m-%d %H:%M:%S} INFO  step={step:>4} loss={loss:.4f} "
            f"lr={rate:.2e} it/s={its:.2f}"
        )
        if evals is not None:
            checked = evals.get(step)
        elif step % 100 == 0:
            checked = (loss + 0.05, min(0.99, 1.05 - loss / 2.5))
        else:
            checked = None
        if checked is not None:
            lines.append(
                f"{when:%Y-%m-%d %H:%M:%S} INFO  eval step={step} val_loss={checked[0]:.4f} "
                f"val_acc={checked[1]:.4f}"
            )
        if step == len(losses) // 3:
            lines.append(
                f"{when:%Y-%m-%d %H:%M:%S} WARN  grad norm {rng.uniform(8, 12):.1f} clipped to 1.0"
            )
    if failure is not None:
        lines += [
            f"{when:%Y-%m-%d %H:%M:%S} ERROR {failure}",
            "Traceback (most recent call last):",
            '  File "train.py", line 212, in <module>',
            "    trainer.fit(model, datamodule)",
            '  File "train.py", line 148, in training_step',
            '    raise FloatingPointError(f"loss is {loss.item()} at step {step}")',
            f"FloatingPointError: {failure}",
        ]
    else:
        lines.append(f"{when:%Y-%m-%d %H:%M:%S} INFO  finished: final loss {losses[-1]:.4f}")
    return ("\n".join(lines) + "\n").encode()


def history_columns(
    losses: list[float], accuracy: list[float] | None = None
) -> dict[str, list[Any]]:
    """Per-step metrics as columns (step, epoch, loss, accuracy, split) for CSV/Parquet;
    ``accuracy`` per step (default: derived from a loss that starts near 2.4)."""
    if accuracy is None:
        accuracy = [min(0.99, max(0.0, 1.05 - v / 2.5)) for v in losses]
    return {
        "step": list(range(1, len(losses) + 1)),
        "epoch": [i * 10 // len(losses) for i in range(len(losses))],
        "loss": losses,
        "accuracy": [round(a, 4) for a in accuracy],
        "split": ["train"] * len(losses),
    }


def csv_table(columns: dict[str, list[Any]]) -> bytes:
    """The columns as CSV with a header row (values contain no commas or quotes)."""
    names = list(columns)
    rows = zip(*(columns[n] for n in names), strict=True)
    lines = [",".join(names)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


# --- run metadata as each tool writes it ----------------------------------------------


def float32(value: float) -> float:
    """``value`` through a 32-bit float, as a tensor's ``.item()`` hands it to a logger
    (``0.4123`` -> ``0.41229999065399170``)."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def mlflow_metric_file(points: list[tuple[int, float, int]]) -> bytes:
    """An MLflow file store metric file: one ``<timestamp ms> <value> <step>`` line per point
    (``FileStore._log_run_metric`` appends ``f"{timestamp} {value} {step}\\n"``)."""
    return "".join(f"{ts} {value} {step}\n" for ts, value, step in points).encode()


def mlflow_yaml(record: dict[str, Any]) -> bytes:
    """A ``meta.yaml`` as MLflow's FileStore writes it (``yaml.safe_dump`` with its defaults:
    keys sorted, block style)."""
    import yaml

    return yaml.safe_dump(record, default_flow_style=False).encode()


def lightning_metrics_csv(rows: list[dict[str, Any]]) -> bytes:
    """Lightning ``CSVLogger``'s ``metrics.csv``: ``csv.DictWriter`` over the sorted names of
    every logged key (``epoch``, ``step`` and the metrics), empty cells where a row did not
    log a key, ``\\r\\n`` line ends (the csv module's default)."""
    import csv

    names = sorted({name for row in rows for name in row})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def lightning_hparams_yaml(hparams: dict[str, Any]) -> bytes:
    """Lightning's ``hparams.yaml`` (``save_hparams_to_yaml``: ``yaml.dump`` of the dict)."""
    import yaml

    return yaml.dump(hparams).encode()


def trainer_state_json(state: dict[str, Any]) -> bytes:
    """Hugging Face ``TrainerState.save_to_json``: ``json.dumps(asdict(state), indent=2,
    sort_keys=True) + "\\n"``."""
    return (json.dumps(state, indent=2, sort_keys=True) + "\n").encode()
