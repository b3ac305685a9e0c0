"""Jupyter notebook previews: the cells, their sources and their outputs as text.

Follows the nbformat 4 JSON schema (https://nbformat.readthedocs.io, "The Notebook file
format"): ``cells[]`` with ``cell_type``, ``source`` (a string or a list of lines) and, for
code cells, ``outputs[]`` (``stream`` text, ``execute_result``/``display_data`` bundles
keyed by MIME type, ``error`` with ``ename``/``evalue``). nbformat 3's ``worksheets[0]``
with ``input`` is read too. Rich outputs (images, HTML) are named, not shown; tracebacks
(full of colour escapes) are left out.

Caps: 200 cells, 5,000 characters of source and 2,000 of outputs per cell. A notebook
larger than the preview limit is shown as raw JSON text with a note.
"""

from __future__ import annotations

import json

from pail.core.text import clip
from pail.services.previews.common import Job, NotThisFormat
from pail.services.previews.results import NotebookCell, NotebookPreview, PreviewResult
from pail.services.previews.text import text_preview

MAX_CELLS = 200
MAX_SOURCE = 5000
MAX_OUTPUT = 2000


def _joined(value: object) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _output_text(output: object) -> str:
    if not isinstance(output, dict):
        return ""
    kind = output.get("output_type")
    if kind == "stream":
        return _joined(output.get("text"))
    if kind == "error":
        return f"{output.get('ename', 'error')}: {output.get('evalue', '')}"
    data = output.get("data")
    if isinstance(data, dict):
        if "text/plain" in data:
            return _joined(data["text/plain"])
        return "[" + ", ".join(str(k) for k in list(data)[:5]) + " output]"
    return ""


def notebook_preview(job: Job) -> PreviewResult:
    """The cells of an ``.ipynb`` notebook (nbformat 3 or 4).

    Raises:
        NotThisFormat: not JSON, or JSON without cells.
    """
    if job.size > job.limit:
        note = f"notebook larger than the {job.limit:,}-byte preview limit: raw JSON shown"
        return text_preview(job, language="json", note=note)
    raw = job.reader.read_at(0, job.size)
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:
        raise NotThisFormat(f"notebook is not valid JSON ({clip(exc, 200)})") from None
    if not isinstance(doc, dict):
        raise NotThisFormat("notebook is not a JSON object")
    cells = doc.get("cells")
    if cells is None and isinstance(doc.get("worksheets"), list) and doc["worksheets"]:
        sheet = doc["worksheets"][0]
        cells = sheet.get("cells") if isinstance(sheet, dict) else None
    if not isinstance(cells, list):
        raise NotThisFormat("no cells in the notebook")
    shown = []
    for cell in cells[:MAX_CELLS]:
        if not isinstance(cell, dict):
            continue
        source = _joined(cell.get("source", cell.get("input")))
        outputs = cell.get("outputs")
        parts = [_output_text(o).rstrip("\n") for o in outputs or () if isinstance(outputs, list)]
        text = "\n".join(p for p in parts if p)
        shown.append(
            NotebookCell(
                clip(cell.get("cell_type", "code"), 20),
                clip(source, MAX_SOURCE, one_line=False),
                clip(text, MAX_OUTPUT, one_line=False),
            )
        )
    found = doc.get("metadata")
    meta = found if isinstance(found, dict) else {}
    lang = None
    for holder, field in (("kernelspec", "language"), ("language_info", "name")):
        value = meta.get(holder)
        if isinstance(value, dict) and isinstance(value.get(field), str):
            lang = clip(value[field].lower(), 40)
            break
    return job.done(
        NotebookPreview,
        cells=tuple(shown),
        total_cells=len(cells),
        language=lang,
        note=f"the first {MAX_CELLS} cells shown" if len(cells) > MAX_CELLS else None,
    )
