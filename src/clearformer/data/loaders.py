"""Loaders for the course's local data formats, returning ``datasets.DatasetDict`` (offline).

GLUE TSV (CoLA's raw 4 columns without header, or a header row as SST-2), CoNLL-2003, SQuAD-format
JSON (SQuAD, CMRC2018), DREAM/C3 multiple-choice JSON, parallel text files, raw text. Each loader
takes ``{split: path}``; a malformed row raises ``DataFormatError`` naming the file and line, or,
with ``on_error="skip"``, is dropped and counted in a warning.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .glue import GLUE_TASKS, get_glue_task

logger = logging.getLogger(__name__)
Files = str | os.PathLike | dict[str, str | os.PathLike]

CONLL_NER_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


class DataFormatError(ValueError):
    """A row that does not fit the expected layout; the message names the file and line."""


def _datasets():
    try:
        import datasets
    except ImportError as err:
        raise ImportError("the data loaders need the 'datasets' package: pip install 'clearformer[data]'") from err
    return datasets


def _split_files(data_files: Files, default_split: str = "train") -> dict[str, Path]:
    if isinstance(data_files, str | os.PathLike):
        data_files = {default_split: data_files}
    out = {}
    for split, path in data_files.items():
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{split} file {path} does not exist")
        out[split] = path
    return out


class _Rows:
    """Collects rows for one file; bad rows raise or are counted, depending on ``on_error``."""

    def __init__(self, path: Path, on_error: str) -> None:
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.path, self.on_error, self.rows, self.skipped = path, on_error, [], 0

    def bad(self, where: str, why: str, expected: str) -> None:
        if self.on_error == "skip":
            self.skipped += 1
            return
        raise DataFormatError(
            f"{self.path}, {where}: {why}; expected {expected} (pass on_error='skip' to drop such rows)"
        )

    def done(self) -> list[dict[str, Any]]:
        if self.skipped:
            logger.warning("%s: skipped %d malformed rows", self.path, self.skipped)
        return self.rows


def _build(split_rows: dict[str, list[dict]], features=None):
    ds = _datasets()
    out = {}
    for split, rows in split_rows.items():
        columns = {k: [r[k] for r in rows] for k in (rows[0] if rows else {})}
        out[split] = ds.Dataset.from_dict(columns, features=features)
    return ds.DatasetDict(out)


# --- GLUE-style TSV ----------------------------------------------------------------------------------
def _read_tsv(path: Path) -> Iterator[tuple[int, list[str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        yield from enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=1)


def _read_glue_file(path: Path, task, header: bool | None, on_error: str) -> list[dict]:
    rows = _Rows(path, on_error)
    lines = list(_read_tsv(path))
    if header is None:  # CoLA's raw files are the only GLUE files without a header row
        header = not (lines and len(lines[0][1]) == 4 and lines[0][1][1] in ("0", "1"))
    names = lines[0][1] if header and lines else ["source", "label", "original_label", "sentence"]
    text_keys = [k for k in (task.keys if task else ()) if k]
    for line_no, fields in lines[1 if header else 0 :]:
        if not fields or fields == [""]:
            continue
        if len(fields) != len(names):
            rows.bad(f"line {line_no}", f"{len(fields)} tab-separated fields", f"{len(names)} ({', '.join(names)})")
            continue
        row = dict(zip(names, fields))
        for k in text_keys:
            if k not in row:
                raise DataFormatError(f"{path}: no column {k!r} for GLUE task {task.name!r}; columns are {names}")
        if "label" in row:
            try:
                row["label"] = float(row["label"]) if task and task.is_regression else int(row["label"])
            except ValueError:
                rows.bad(f"line {line_no}", f"label {row['label']!r} is not a number", "an integer class id")
                continue
        row["idx"] = len(rows.rows)
        rows.rows.append(row)
    result = rows.done()
    if not header:  # the raw CoLA layout: keep the course's columns sentence, label, idx
        result = [{"sentence": r["sentence"], "label": r["label"], "idx": r["idx"]} for r in result]
    return result


def load_glue(task: str | None, data_files: Files, header: bool | None = None, on_error: str = "raise"):
    """GLUE-format TSV files; with a task, labels become a ClassLabel with the task's names."""
    ds = _datasets()
    info = get_glue_task(task) if task else None
    split_rows = {s: _read_glue_file(p, info, header, on_error) for s, p in _split_files(data_files).items()}
    features = None
    first = next(iter(split_rows.values()))
    if info is not None and first and "label" in first[0] and info.label_names:
        features = ds.Features(
            {k: ds.Value("string") if isinstance(v, str) else ds.Value("int64") for k, v in first[0].items()}
        )
        features["label"] = ds.ClassLabel(names=list(info.label_names))
    return _build(split_rows, features)


# --- CoNLL-2003 ---------------------------------------------------------------------------------------
def _read_conll(path: Path, on_error: str) -> list[dict]:
    rows = _Rows(path, on_error)
    tokens: list[list[str]] = []
    bad_sentence = False

    def flush() -> None:
        nonlocal tokens, bad_sentence
        if tokens and not bad_sentence:
            rows.rows.append(
                {
                    "id": str(len(rows.rows)),
                    "tokens": [t[0] for t in tokens],
                    "pos_tags": [t[1] for t in tokens],
                    "chunk_tags": [t[2] for t in tokens],
                    "ner_tags": [t[3] for t in tokens],
                }
            )
        tokens, bad_sentence = [], False

    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("-DOCSTART-"):
                flush()
                continue
            fields = line.split(" ")
            if len(fields) != 4 or fields[3] not in CONLL_NER_TAGS:
                rows.bad(f"line {line_no}", f"{line!r}", "4 space-separated fields 'word POS chunk NER' (IOB2 NER tag)")
                bad_sentence = True
                continue
            tokens.append(fields)
    flush()
    return rows.done()


def load_conll2003(data_files: Files, on_error: str = "raise"):
    """Columns id, tokens, pos_tags, chunk_tags, ner_tags (ClassLabel sequences).

    ner_tags use the course's label_list order; POS and chunk tag ids are the sorted tags seen in
    the given files (the hub dataset's id tables are not reproduced).
    """
    ds = _datasets()
    split_rows = {s: _read_conll(p, on_error) for s, p in _split_files(data_files).items()}
    every = [r for rows in split_rows.values() for r in rows]
    pos = sorted({t for r in every for t in r["pos_tags"]})
    chunk = sorted({t for r in every for t in r["chunk_tags"]})
    for rows in split_rows.values():
        for r in rows:
            r["pos_tags"] = [pos.index(t) for t in r["pos_tags"]]
            r["chunk_tags"] = [chunk.index(t) for t in r["chunk_tags"]]
            r["ner_tags"] = [CONLL_NER_TAGS.index(t) for t in r["ner_tags"]]
    features = ds.Features(
        {
            "id": ds.Value("string"),
            "tokens": ds.Sequence(ds.Value("string")),
            "pos_tags": ds.Sequence(ds.ClassLabel(names=pos)),
            "chunk_tags": ds.Sequence(ds.ClassLabel(names=chunk)),
            "ner_tags": ds.Sequence(ds.ClassLabel(names=list(CONLL_NER_TAGS))),
        }
    )
    return _build(split_rows, features)


# --- SQuAD-format JSON (SQuAD v1.1/v2, CMRC2018) -----------------------------------------------------------
def _read_squad(path: Path, on_error: str, check_answers: bool) -> list[dict]:
    rows = _Rows(path, on_error)
    try:
        articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise DataFormatError(
            f"{path}: not SQuAD-format JSON ({err}); expected {{'data': [{{'paragraphs': ...}}]}}"
        ) from err
    for article in articles:
        for paragraph in article.get("paragraphs", []):
            context = paragraph["context"]
            for qa in paragraph.get("qas", []):
                answers = qa.get("answers", [])
                texts = [a["text"].strip() for a in answers]
                starts = [int(a["answer_start"]) for a in answers]
                wrong = [t for t, s in zip(texts, starts) if context[s : s + len(t)] != t]
                if check_answers and wrong:
                    rows.bad(
                        f"question id {qa['id']}",
                        f"answer {wrong[0]!r} is not at its answer_start in the context",
                        "context[answer_start:answer_start+len(text)] == text (or check_answers=False)",
                    )
                    continue
                rows.rows.append(
                    {
                        "id": str(qa["id"]),
                        "title": article.get("title", ""),
                        "context": context,
                        "question": qa["question"].strip(),
                        "answers": {"text": texts, "answer_start": starts},
                    }
                )
    return rows.done()


def load_squad(data_files: Files, on_error: str = "raise", check_answers: bool = True):
    """Columns id, title, context, question, answers{text, answer_start}, as the course's squad.py."""
    ds = _datasets()
    split_rows = {s: _read_squad(p, on_error, check_answers) for s, p in _split_files(data_files, "validation").items()}
    features = ds.Features(
        {
            "id": ds.Value("string"),
            "title": ds.Value("string"),
            "context": ds.Value("string"),
            "question": ds.Value("string"),
            "answers": {"text": ds.Sequence(ds.Value("string")), "answer_start": ds.Sequence(ds.Value("int32"))},
        }
    )
    return _build(split_rows, features)


# --- DREAM / C3 multiple choice -------------------------------------------------------------------------
def _read_multiple_choice(path: Path, on_error: str) -> list[dict]:
    rows = _Rows(path, on_error)
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataFormatError(f"{path}: not valid JSON ({err})") from err
    for n, item in enumerate(items):
        if not (isinstance(item, list) and len(item) == 3):
            rows.bad(f"item {n}", "not a [dialogue, questions, id] triple", "DREAM/C3 layout")
            continue
        dialogue, questions, doc_id = item
        for q_no, q in enumerate(questions):
            if q.get("answer") not in q.get("choice", []):
                rows.bad(
                    f"item {n} ({doc_id}) question {q_no}",
                    f"answer {q.get('answer')!r} is not one of the choices",
                    "'answer' equal to one entry of 'choice'",
                )
                continue
            rows.rows.append(
                {
                    "id": f"{doc_id}-{q_no}",
                    "dialogue": list(dialogue),
                    "question": q["question"],
                    "choices": list(q["choice"]),
                    "label": q["choice"].index(q["answer"]),
                }
            )
    return rows.done()


def load_multiple_choice(data_files: Files, on_error: str = "raise"):
    """DREAM or C3 JSON: columns id, dialogue (list of turns), question, choices, label (answer index)."""
    split_rows = {s: _read_multiple_choice(p, on_error) for s, p in _split_files(data_files).items()}
    return _build(split_rows)


# --- parallel and raw text ----------------------------------------------------------------------------------
def load_parallel(source_files: Files, target_files: Files, source_lang: str, target_lang: str):
    """Line-aligned files -> rows {'translation': {source_lang: ..., target_lang: ...}} (WMT's layout)."""
    sources, targets = _split_files(source_files), _split_files(target_files)
    if sources.keys() != targets.keys():
        raise ValueError(f"source splits {sorted(sources)} differ from target splits {sorted(targets)}")
    split_rows = {}
    for split in sources:
        src = sources[split].read_text(encoding="utf-8").splitlines()
        tgt = targets[split].read_text(encoding="utf-8").splitlines()
        if len(src) != len(tgt):
            raise DataFormatError(
                f"{sources[split]} has {len(src)} lines but {targets[split]} has {len(tgt)}; parallel files "
                "must be line-aligned"
            )
        split_rows[split] = [{"translation": {source_lang: s, target_lang: t}} for s, t in zip(src, tgt)]
    return _build(split_rows)


def load_parallel_tsv(data_files: Files, source_lang: str, target_lang: str, on_error: str = "raise"):
    """Tab-separated pairs, one per line (Tatoeba's cmn.txt: source, target, attribution)."""
    split_rows = {}
    for split, path in _split_files(data_files).items():
        rows = _Rows(path, on_error)
        for line_no, fields in _read_tsv(path):
            if len(fields) < 2:
                rows.bad(f"line {line_no}", f"{len(fields)} tab-separated fields", "at least 2 (source, target)")
                continue
            rows.rows.append({"translation": {source_lang: fields[0], target_lang: fields[1]}})
        split_rows[split] = rows.done()
    return _build(split_rows)


def load_text(data_files: Files, keep_linebreaks: bool = False):
    """One row per line in column ``text`` (empty lines kept, as the ``text`` builder does)."""
    split_rows = {}
    for split, path in _split_files(data_files).items():
        with open(path, encoding="utf-8") as f:
            lines = [line if keep_linebreaks else line.rstrip("\n") for line in f]
        split_rows[split] = [{"text": line} for line in lines]
    return _build(split_rows)


# --- one entry point -------------------------------------------------------------------------------------------
# Known folder layouts (see the shared data README): name -> (loader name, {split: file}).
LAYOUTS: dict[str, tuple[str, dict[str, str]]] = {
    "cola": (
        "glue",
        {"train": "in_domain_train.tsv", "validation": "in_domain_dev.tsv", "test": "out_of_domain_dev.tsv"},
    ),
    "sst2": ("glue", {"train": "train.tsv", "validation": "dev.tsv"}),
    "conll2003": ("conll2003", {"train": "train.txt", "validation": "dev.txt", "test": "test.txt"}),
    "squad": ("squad", {"validation": "dev-v1.1.json"}),
    "cmrc2018": ("squad", {"validation": "cmrc2018_dev.json", "trial": "cmrc2018_trial.json"}),
    "dream": ("multiple_choice", {"train": "train.json", "validation": "dev.json", "test": "test.json"}),
    "wikitext-2-raw": ("text", {"validation": "wiki.valid.raw", "test": "wiki.test.raw"}),
}

LAYOUT_OPTIONS: dict[str, dict[str, Any]] = {"cmrc2018": {"check_answers": False}}

_LOADERS: dict[str, Callable[..., Any]] = {
    "conll2003": load_conll2003,
    "squad": load_squad,
    "cmrc2018": load_squad,
    "squad_v2": load_squad,
    "multiple_choice": load_multiple_choice,
    "dream": load_multiple_choice,
    "c3": load_multiple_choice,
    "text": load_text,
}


def load_dataset(
    path: str | os.PathLike,
    name: str | None = None,
    data_files: Files | None = None,
    split: str | None = None,
    **kwargs: Any,
):
    """``load_dataset``-like: a format name with ``data_files`` ("glue" + task, "conll2003", "squad",
    "dream", "c3", "text", "csv", "json"), or a local folder with a known layout (``.../cola``)."""
    path_str = os.fspath(path)
    folder = Path(path_str)
    if data_files is None and folder.is_dir():
        key = folder.name
        if key not in LAYOUTS:
            raise ValueError(f"no known layout for folder {folder}; pass data_files= (known: {sorted(LAYOUTS)})")
        kind, files = LAYOUTS[key]
        data_files = {s: folder / f for s, f in files.items() if (folder / f).is_file()}
        path_str, name = kind, name or (key if key in GLUE_TASKS else None)
        # CMRC2018 ships answers whose answer_start is wrong; loading its folder keeps them as released.
        kwargs = {**LAYOUT_OPTIONS.get(key, {}), **kwargs}
    if data_files is None:
        raise ValueError(f"load_dataset({path_str!r}) reads local files only: pass data_files={{'train': ...}}")
    if path_str == "glue" or path_str in GLUE_TASKS:
        result = load_glue(name or (path_str if path_str in GLUE_TASKS else None), data_files, **kwargs)
    elif path_str in _LOADERS:
        result = _LOADERS[path_str](data_files, **kwargs)
    elif path_str in ("csv", "json", "parquet"):
        result = _datasets().load_dataset(
            path_str, data_files={k: str(v) for k, v in _split_files(data_files).items()}, **kwargs
        )
    else:
        raise ValueError(f"unknown format {path_str!r}; use one of glue, csv, json, {', '.join(sorted(_LOADERS))}")
    return result[split] if split else result
