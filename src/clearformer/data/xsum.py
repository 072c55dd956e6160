"""XSum from its local release layout (the course's 4.7 offline path) as a ``datasets.DatasetDict``.

Layout: a split file ``XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json`` (``{"train": [ids], "validation":
[ids], "test": [ids]}``) beside a folder ``bbc-summary-data/`` of ``<id>.summary`` files, each made
of ``[SN]URL[SN]``, ``[SN]TITLE[SN]``, ``[SN]FIRST-SENTENCE[SN]`` (the summary) and
``[SN]RESTBODY[SN]`` (the document) sections. Columns: ``document``, ``summary``, ``id`` — the
hub dataset's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .files import DataFormatError, read_json, read_text
from .loaders import _build

SPLIT_FILE = "XSum-TRAINING-DEV-TEST-SPLIT-90-5-5.json"
SUMMARY_DIR = "bbc-summary-data"
_SECTION = re.compile(r"^\[SN\]([A-Z-]+)\[SN\]\s*$")
LAYOUT = (
    f"<root>/{SPLIT_FILE} with train/validation/test id lists and <root>/{SUMMARY_DIR}/<id>.summary "
    "files with [SN]FIRST-SENTENCE[SN] and [SN]RESTBODY[SN] sections"
)


def parse_summary_file(path: Path, encoding: str = "utf-8") -> dict[str, str]:
    """One ``.summary`` file -> {"summary", "document"}; lines of a section are joined with newlines."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in read_text(path, encoding).splitlines():
        match = _SECTION.match(line)
        if match:
            current = match.group(1)
            sections[current] = []
        elif current is not None and line.strip():
            sections[current].append(line.strip())
    for name in ("FIRST-SENTENCE", "RESTBODY"):
        if name not in sections:
            raise DataFormatError(f"{path}: no [SN]{name}[SN] section; expected {LAYOUT}")
    return {"summary": "\n".join(sections["FIRST-SENTENCE"]), "document": "\n".join(sections["RESTBODY"])}


def load_xsum(
    path: str | os.PathLike, splits: tuple[str, ...] | None = None, on_missing: str = "raise", encoding: str = "utf-8"
):
    """Read the XSum release under ``path``; ``on_missing="skip"`` drops ids whose file is absent."""
    root = Path(path)
    split_file = root / SPLIT_FILE
    if not split_file.is_file():
        raise FileNotFoundError(f"{split_file} not found; expected {LAYOUT}")
    ids = read_json(split_file, encoding)
    if not isinstance(ids, dict):
        raise DataFormatError(f"{split_file} must hold an object of id lists; expected {LAYOUT}")
    out = {}
    for split in splits or tuple(ids):
        if split not in ids:
            raise KeyError(f"{split_file} has no split {split!r}; it has {sorted(ids)}")
        rows = []
        for item in ids[split]:
            file = root / SUMMARY_DIR / f"{item}.summary"
            if not file.is_file():
                if on_missing == "skip":
                    continue
                raise FileNotFoundError(f"{file} (listed in {split_file}, split {split!r}) is missing")
            rows.append({**parse_summary_file(file, encoding), "id": str(item)})
        out[split] = rows
    return _build(out)
