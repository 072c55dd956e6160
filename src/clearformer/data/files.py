"""Reading data files with errors that say where and why: text in a stated encoding, JSON, TSV.

A wrong encoding names the file, the byte offset and line of the first bad byte, and an encoding
that does decode the whole file; bad JSON names the line and column; TSV fields may be longer than
the csv module's 128 KiB default.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class DataFormatError(ValueError):
    """A file or row that does not fit the expected layout; the message names the file and place."""


# Tried in order when a file does not decode; cp1252 decodes almost any bytes, so it comes last.
_OTHER_ENCODINGS = ("utf-8", "gbk", "gb18030", "big5", "shift_jis", "utf-16", "cp1252")


def _guess_encoding(raw: bytes, tried: str) -> str | None:
    for candidate in _OTHER_ENCODINGS:
        if candidate == tried.lower().replace("_", "-"):
            continue
        if candidate == "utf-16" and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue  # without a byte-order mark almost any even-length file "decodes" as UTF-16
        try:
            raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The whole file as text; undecodable bytes raise ``DataFormatError`` with offset and a fix."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        guess = _guess_encoding(raw, encoding)
        fix = (
            f"the file decodes as {guess}: pass encoding={guess!r}"
            if guess
            else "convert the file to UTF-8 or pass the encoding it was written in (encoding=...)"
        )
        raise DataFormatError(
            f"{path}: byte {err.start} (line {line}) is {raw[err.start : err.start + 4]!r}..., which is not "
            f"valid {encoding}; {fix}"
        ) from err


def read_lines(path: Path, encoding: str = "utf-8") -> Iterator[str]:
    """Lines with their ``\\n``, split as iterating an opened text file splits them (universal newlines)."""
    return iter(io.StringIO(read_text(path, encoding), newline=None))


def read_json(path: Path, encoding: str = "utf-8") -> Any:
    try:
        return json.loads(read_text(path, encoding))
    except json.JSONDecodeError as err:
        raise DataFormatError(f"{path}: not valid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from err


@contextmanager
def _long_csv_fields() -> Iterator[None]:
    # Long documents (e.g. a whole news article in one TSV cell) exceed the csv module's 131072-char
    # default; the limit is raised only while a file is read, then put back.
    old = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def read_tsv(path: Path, encoding: str = "utf-8") -> list[tuple[int, list[str]]]:
    """(line number, fields) for each line; quotes are text, as in the GLUE files."""
    text = read_text(path, encoding)
    with _long_csv_fields():
        return list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE), 1))


def locate_json_lines_error(path: Path, encoding: str = "utf-8") -> DataFormatError | None:
    """For a file the ``json`` builder could not read: the line and column that are not JSON."""
    text = read_text(path, encoding)
    try:
        json.loads(text)
        return None  # one JSON document: the builder's problem is not the syntax
    except json.JSONDecodeError as whole:
        document_error = whole
    lines = [(n, line) for n, line in enumerate(io.StringIO(text, newline=None), start=1) if line.strip()]
    try:
        json.loads(lines[0][1]) if lines else None
    except json.JSONDecodeError:
        # The first line is not a value on its own: one (broken) JSON document spread over lines.
        return DataFormatError(
            f"{path}, line {document_error.lineno}: not valid JSON ({document_error.msg} at column "
            f"{document_error.colno})"
        )
    for line_no, line in lines:
        try:
            json.loads(line)
        except json.JSONDecodeError as err:
            return DataFormatError(
                f"{path}, line {line_no}: not valid JSON ({err.msg} at column {err.colno}); a JSON-lines "
                f"file holds one JSON object per line: {line.strip()[:80]!r}"
            )
    return None
