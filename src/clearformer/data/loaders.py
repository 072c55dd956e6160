"""Loaders for the course's local data formats, returning ``datasets.DatasetDict`` (offline).

GLUE TSV (CoLA's raw 4 columns without header, or a header row as SST-2), CoNLL-2003, SQuAD-format
JSON (SQuAD, CMRC2018), DREAM/C3 multiple-choice JSON, parallel text files, raw text. Each loader
takes ``{split: path}`` and an ``encoding`` (UTF-8 unless told); a malformed row raises
``DataFormatError`` naming the file and line, or, with ``on_error="skip"``, is dropped and counted
in a warning. A file that yields no rows at all is an error: no course split is empty, and an empty
split would train nothing or report metrics over zero examples.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .files import DataFormatError, locate_json_lines_error, read_json, read_lines, read_text, read_tsv
from .glue import GLUE_TASKS, get_glue_task

logger = logging.getLogger(__name__)
Files = str | os.PathLike | dict[str, str | os.PathLike]

CONLL_NER_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
# The hub ``conll2003`` dataset's fixed id tables (notebook 4.2 prints ids from them); they are not
# sorted (``NN|SYM`` sits between NNS and PDT), so they are written out rather than derived.
CONLL_POS_TAGS = (
    '"', "''", "#", "$", "(", ")", ",", ".", ":", "``", "CC", "CD", "DT", "EX", "FW", "IN", "JJ", "JJR",
    "JJS", "LS", "MD", "NN", "NNP", "NNPS", "NNS", "NN|SYM", "PDT", "POS", "PRP", "PRP$", "RB", "RBR",
    "RBS", "RP", "SYM", "TO", "UH", "VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "WDT", "WP", "WP$", "WRB",
)  # fmt: skip
CONLL_CHUNK_TAGS = (
    "O", "B-ADJP", "I-ADJP", "B-ADVP", "I-ADVP", "B-CONJP", "I-CONJP", "B-INTJ", "I-INTJ", "B-LST",
    "I-LST", "B-NP", "I-NP", "B-PP", "I-PP", "B-PRT", "I-PRT", "B-SBAR", "I-SBAR", "B-UCP", "I-UCP",
    "B-VP", "I-VP",
)  # fmt: skip


__all__ = ["DataFormatError"]  # re-exported: it lives in files.py with the readers that raise it


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

    def done(self, why_empty: str = " (the file is empty)") -> list[dict[str, Any]]:
        if not self.rows:
            why = f": all {self.skipped} rows were malformed" if self.skipped else why_empty
            raise DataFormatError(
                f"{self.path}: no data rows{why}; fix the file, or leave this split out of data_files"
            )
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
def _read_glue_file(path: Path, task, header: bool | None, on_error: str, encoding: str) -> list[dict]:
    rows = _Rows(path, on_error)
    lines = read_tsv(path, encoding)
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
    result = rows.done(f" after the header on line {lines[0][0]}" if header and lines else " (the file is empty)")
    if not header:  # the raw CoLA layout: keep the course's columns sentence, label, idx
        result = [{"sentence": r["sentence"], "label": r["label"], "idx": r["idx"]} for r in result]
    return result


def load_glue(
    task: str | None,
    data_files: Files,
    header: bool | None = None,
    on_error: str = "raise",
    encoding: str = "utf-8",
):
    """GLUE-format TSV files; with a task, labels become a ClassLabel with the task's names."""
    ds = _datasets()
    info = get_glue_task(task) if task else None
    split_rows = {s: _read_glue_file(p, info, header, on_error, encoding) for s, p in _split_files(data_files).items()}
    features = None
    first = next(iter(split_rows.values()))
    if info is not None and first and "label" in first[0] and info.label_names:
        features = ds.Features(
            {k: ds.Value("string") if isinstance(v, str) else ds.Value("int64") for k, v in first[0].items()}
        )
        features["label"] = ds.ClassLabel(names=list(info.label_names))
    return _build(split_rows, features)


# --- CoNLL-2003 ---------------------------------------------------------------------------------------
def _unknown_conll_tag(fields: list[str]) -> str | None:
    """Why a line's POS or chunk tag has no id, or None: ids are the hub's fixed tables, never renumbered."""
    if fields[1] not in CONLL_POS_TAGS:
        return f"POS tag {fields[1]!r} is not one of the {len(CONLL_POS_TAGS)} CoNLL-2003 POS tags"
    if fields[2] not in CONLL_CHUNK_TAGS:
        return f"chunk tag {fields[2]!r} is not one of the {len(CONLL_CHUNK_TAGS)} CoNLL-2003 chunk tags"
    return None


def _read_conll(path: Path, on_error: str, encoding: str) -> list[dict]:
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

    line_no = 0
    for line_no, line in enumerate(read_lines(path, encoding), start=1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("-DOCSTART-"):
            flush()
            continue
        fields = line.split(" ")
        if len(fields) != 4 or fields[3] not in CONLL_NER_TAGS:
            rows.bad(f"line {line_no}", f"{line!r}", "4 space-separated fields 'word POS chunk NER' (IOB2 NER tag)")
            bad_sentence = True
            continue
        unknown = _unknown_conll_tag(fields)
        if unknown:
            rows.bad(f"line {line_no}", unknown, "the hub conll2003 dataset's tags (CONLL_POS_TAGS, CONLL_CHUNK_TAGS)")
            bad_sentence = True
            continue
        tokens.append(fields)
    flush()
    return rows.done(f" (its {line_no} lines are blank or -DOCSTART-)" if line_no else " (the file is empty)")


def load_conll2003(data_files: Files, on_error: str = "raise", encoding: str = "utf-8"):
    """Columns id, tokens, pos_tags, chunk_tags, ner_tags (ClassLabel sequences).

    ner_tags use the course's label_list order; POS and chunk ids are the hub ``conll2003`` dataset's
    tables, so ids match what notebook 4.2 prints whichever tags a file happens to contain.
    """
    ds = _datasets()
    split_rows = {s: _read_conll(p, on_error, encoding) for s, p in _split_files(data_files).items()}
    pos_id = {t: i for i, t in enumerate(CONLL_POS_TAGS)}
    chunk_id = {t: i for i, t in enumerate(CONLL_CHUNK_TAGS)}
    ner_id = {t: i for i, t in enumerate(CONLL_NER_TAGS)}
    for rows in split_rows.values():
        for r in rows:
            r["pos_tags"] = [pos_id[t] for t in r["pos_tags"]]
            r["chunk_tags"] = [chunk_id[t] for t in r["chunk_tags"]]
            r["ner_tags"] = [ner_id[t] for t in r["ner_tags"]]
    features = ds.Features(
        {
            "id": ds.Value("string"),
            "tokens": ds.Sequence(ds.Value("string")),
            "pos_tags": ds.Sequence(ds.ClassLabel(names=list(CONLL_POS_TAGS))),
            "chunk_tags": ds.Sequence(ds.ClassLabel(names=list(CONLL_CHUNK_TAGS))),
            "ner_tags": ds.Sequence(ds.ClassLabel(names=list(CONLL_NER_TAGS))),
        }
    )
    return _build(split_rows, features)


# --- SQuAD-format JSON (SQuAD v1.1/v2, CMRC2018) -----------------------------------------------------------
SQUAD_LAYOUT = "{'data': [{'title', 'paragraphs': [{'context', 'qas': [{'id', 'question', 'answers'}]}]}]}"


def _squad_entries(path: Path, data: Any, rows: _Rows) -> Iterator[tuple[str, dict, str, dict]]:
    """(place, article, context, qa) for every question whose structure is whole; others go to ``rows.bad``."""
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise DataFormatError(f"{path}: not SQuAD-format JSON (no 'data' list); expected {SQUAD_LAYOUT}")
    for i, article in enumerate(articles):
        paragraphs = article.get("paragraphs", []) if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            rows.bad(f"data[{i}]", "not an object with a 'paragraphs' list", SQUAD_LAYOUT)
            continue
        for j, paragraph in enumerate(paragraphs):
            place = f"data[{i}].paragraphs[{j}]"
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            if not isinstance(context, str):
                rows.bad(place, "no 'context' string", SQUAD_LAYOUT)
                continue
            for k, qa in enumerate(paragraph.get("qas", [])):
                where = f"{place}.qas[{k}]"
                missing = [key for key in ("id", "question") if key not in qa] if isinstance(qa, dict) else ["id"]
                if missing:
                    rows.bad(where, f"no {missing[0]!r}", "each question to have 'id', 'question' and 'answers'")
                    continue
                where = f"{where} (question id {qa['id']})"
                answers = qa.get("answers", [])
                if not isinstance(answers, list) or not all(
                    isinstance(a, dict) and "text" in a and "answer_start" in a for a in answers
                ):
                    rows.bad(where, f"answers {answers!r}", "a list of {'text', 'answer_start'} objects")
                    continue
                yield where, article, context, qa


def _read_squad(path: Path, on_error: str, check_answers: bool, encoding: str) -> list[dict]:
    rows = _Rows(path, on_error)
    for where, article, context, qa in _squad_entries(path, read_json(path, encoding), rows):
        texts = [a["text"].strip() for a in qa.get("answers", [])]
        starts = [int(a["answer_start"]) for a in qa.get("answers", [])]
        wrong = [t for t, s in zip(texts, starts) if context[s : s + len(t)] != t]
        if check_answers and wrong:
            rows.bad(
                where,
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
    return rows.done(" (no questions)")


def load_squad(data_files: Files, on_error: str = "raise", check_answers: bool = True, encoding: str = "utf-8"):
    """Columns id, title, context, question, answers{text, answer_start}, as the course's squad.py."""
    ds = _datasets()
    split_rows = {
        s: _read_squad(p, on_error, check_answers, encoding) for s, p in _split_files(data_files, "validation").items()
    }
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
def _question_problem(q: Any) -> str | None:
    """Why a DREAM/C3 question object cannot be used, or None."""
    if not isinstance(q, dict):
        return f"{q!r} is not an object with 'question', 'choice' and 'answer'"
    if not isinstance(q.get("question"), str):
        return f"'question' is {type(q.get('question')).__name__}, not a string"
    choice = q.get("choice")
    # A string here would otherwise be read as one option per character.
    if not (isinstance(choice, list) and choice and all(isinstance(c, str) for c in choice)):
        return f"'choice' is a {type(choice).__name__} ({choice!r}), not a list of option strings"
    if q.get("answer") not in choice:
        return f"answer {q.get('answer')!r} is not one of the choices"
    return None


def _read_multiple_choice(path: Path, on_error: str, encoding: str) -> list[dict]:
    rows = _Rows(path, on_error)
    layout = "[[dialogue turns], [{'question', 'choice': [options], 'answer'}], id] items in a list"
    items = read_json(path, encoding)
    if not isinstance(items, list):
        raise DataFormatError(f"{path}: the top level is a {type(items).__name__}; expected {layout}")
    for n, item in enumerate(items):
        ok = isinstance(item, list) and len(item) == 3 and isinstance(item[0], list) and isinstance(item[1], list)
        if not ok or not all(isinstance(turn, str) for turn in item[0]):
            rows.bad(f"item {n}", "not a [dialogue turns (list of strings), questions (list), id] triple", layout)
            continue
        dialogue, questions, doc_id = item
        for q_no, q in enumerate(questions):
            problem = _question_problem(q)
            if problem:
                rows.bad(f"item {n} ({doc_id}) question {q_no}", problem, layout)
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
    return rows.done(" (no questions)")


def load_multiple_choice(data_files: Files, on_error: str = "raise", encoding: str = "utf-8"):
    """DREAM or C3 JSON: columns id, dialogue (list of turns), question, choices, label (answer index)."""
    split_rows = {s: _read_multiple_choice(p, on_error, encoding) for s, p in _split_files(data_files).items()}
    return _build(split_rows)


# --- parallel and raw text ----------------------------------------------------------------------------------
def load_parallel(
    source_files: Files, target_files: Files, source_lang: str, target_lang: str, encoding: str = "utf-8"
):
    """Line-aligned files -> rows {'translation': {source_lang: ..., target_lang: ...}} (WMT's layout)."""
    sources, targets = _split_files(source_files), _split_files(target_files)
    if sources.keys() != targets.keys():
        raise ValueError(f"source splits {sorted(sources)} differ from target splits {sorted(targets)}")
    split_rows = {}
    for split in sources:
        src = read_text(sources[split], encoding).splitlines()
        tgt = read_text(targets[split], encoding).splitlines()
        if len(src) != len(tgt):
            raise DataFormatError(
                f"{sources[split]} has {len(src)} lines but {targets[split]} has {len(tgt)}; parallel files "
                "must be line-aligned"
            )
        if not src:
            raise DataFormatError(f"{sources[split]}: no data rows (the file is empty)")
        split_rows[split] = [{"translation": {source_lang: s, target_lang: t}} for s, t in zip(src, tgt)]
    return _build(split_rows)


def load_parallel_tsv(
    data_files: Files, source_lang: str, target_lang: str, on_error: str = "raise", encoding: str = "utf-8"
):
    """Tab-separated pairs, one per line (Tatoeba's cmn.txt: source, target, attribution)."""
    split_rows = {}
    for split, path in _split_files(data_files).items():
        rows = _Rows(path, on_error)
        for line_no, fields in read_tsv(path, encoding):
            if len(fields) < 2:
                rows.bad(f"line {line_no}", f"{len(fields)} tab-separated fields", "at least 2 (source, target)")
                continue
            rows.rows.append({"translation": {source_lang: fields[0], target_lang: fields[1]}})
        split_rows[split] = rows.done()
    return _build(split_rows)


def load_text(data_files: Files, keep_linebreaks: bool = False, encoding: str = "utf-8"):
    """One row per line in column ``text`` (empty lines kept, as the ``text`` builder does)."""
    split_rows = {}
    for split, path in _split_files(data_files).items():
        rows = _Rows(path, "raise")
        rows.rows = [{"text": line if keep_linebreaks else line.rstrip("\n")} for line in read_lines(path, encoding)]
        split_rows[split] = rows.done()
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


def _load_with_datasets(kind: str, files: dict[str, Path], kwargs: dict[str, Any]):
    try:
        return _datasets().load_dataset(kind, data_files={k: str(v) for k, v in files.items()}, **kwargs)
    except Exception as err:
        # The json builder fails deep in pandas without naming the file or line: find them here.
        if kind == "json":
            for path in files.values():
                located = locate_json_lines_error(path, kwargs.get("encoding", "utf-8"))
                if located is not None:
                    raise located from err
        raise


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
        result = _load_with_datasets(path_str, _split_files(data_files), kwargs)
    else:
        result = _load_by_extension(path_str, data_files, kwargs)
    return result[split] if split else result


# File extension -> (builder, its options), as ``datasets`` picks a generic builder for a folder path.
_EXTENSION_BUILDERS: dict[str, tuple[str, dict[str, Any]]] = {
    ".csv": ("csv", {}),
    ".tsv": ("csv", {"sep": "\t"}),
    ".json": ("json", {}),
    ".jsonl": ("json", {}),
    ".parquet": ("parquet", {}),
    ".txt": ("text", {}),
}
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")


def _load_by_extension(path_str: str, data_files: Files, kwargs: dict[str, Any]):
    """A path that names no format (the course's ``./datasets/swag/``): the builder comes from the
    data_files' extensions, and relative data_files are inside that folder, as in ``datasets``."""
    base = Path(path_str) if Path(path_str).is_dir() else None
    if isinstance(data_files, str | os.PathLike):
        data_files = {"train": data_files}
    files = {
        split: base / f if base is not None and not Path(f).is_absolute() else Path(f)
        for split, f in data_files.items()
    }
    builders = {}
    for split, f in files.items():
        name = f.name[: -len(f.suffix)] if f.suffix in _COMPRESSION_SUFFIXES else f.name
        builders[split] = _EXTENSION_BUILDERS.get(Path(name).suffix.lower(), (None, {}))
    kinds = {kind for kind, _ in builders.values()}
    if None in kinds:
        unknown = [str(files[s]) for s, (kind, _) in builders.items() if kind is None]
        raise ValueError(
            f"unknown format {path_str!r}: cannot tell the builder from the extension of {unknown}; use one of "
            f"glue, csv, json, parquet, {', '.join(sorted(_LOADERS))}, or files ending in {sorted(_EXTENSION_BUILDERS)}"
        )
    if len(kinds) > 1:
        seen = {str(files[s]): kind for s, (kind, _) in builders.items()}
        raise ValueError(f"data_files under {path_str!r} mix formats {seen}; load each format with its own call")
    kind = kinds.pop()
    # The config name ('regular' in notebook 4.4) means nothing to a generic builder, and no cache is kept.
    kwargs = {k: v for k, v in kwargs.items() if k != "cache_dir"}
    if kind == "text":
        return load_text({s: str(f) for s, f in files.items()}, **kwargs)
    options = next(iter(builders.values()))[1]
    return _load_with_datasets(kind, _split_files({s: str(f) for s, f in files.items()}), {**options, **kwargs})
