"""The course's XSum layout (split JSON + .summary files) through clearformer.data.xsum, on a sample
written here; and the summarization preprocessing of the course (prefix, targets as labels)."""

from __future__ import annotations

import json

import pytest

from clearformer.data.loaders import DataFormatError
from clearformer.data.xsum import SPLIT_FILE, SUMMARY_DIR, load_xsum

pytest.importorskip("datasets", reason="the loaders return datasets.DatasetDict")

SUMMARY = """[SN]URL[SN]
http://www.bbc.co.uk/news/{id}

[SN]TITLE[SN]
Title {id}

[SN]FIRST-SENTENCE[SN]
Summary of story {id}.

[SN]RESTBODY[SN]
First line of story {id}.
Second line of story {id}.
"""


def _write_sample(root, ids=None):
    ids = ids or {"train": ["101", "102"], "validation": ["201"], "test": ["301"]}
    (root / SUMMARY_DIR).mkdir(parents=True, exist_ok=True)
    (root / SPLIT_FILE).write_text(json.dumps(ids))
    for split_ids in ids.values():
        for item in split_ids:
            (root / SUMMARY_DIR / f"{item}.summary").write_text(SUMMARY.format(id=item))
    return root


def test_xsum_layout_loads_as_document_summary_id(tmp_path):
    ds = load_xsum(_write_sample(tmp_path))
    assert sorted(ds) == ["test", "train", "validation"]
    assert ds["train"].num_rows == 2 and set(ds["train"].column_names) == {"document", "summary", "id"}
    row = ds["train"][0]
    assert row["document"] == "First line of story 101.\nSecond line of story 101."
    assert row["summary"] == "Summary of story 101." and row["id"] == "101"


def test_missing_summary_file_is_named_or_skipped(tmp_path):
    _write_sample(tmp_path)
    (tmp_path / SUMMARY_DIR / "102.summary").unlink()
    with pytest.raises(FileNotFoundError, match="102.summary"):
        load_xsum(tmp_path)
    assert load_xsum(tmp_path, on_missing="skip")["train"].num_rows == 1


def test_bad_layout_errors_say_what_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="bbc-summary-data"):
        load_xsum(tmp_path)
    _write_sample(tmp_path)
    (tmp_path / SUMMARY_DIR / "101.summary").write_text("[SN]URL[SN]\nx\n")
    with pytest.raises(DataFormatError, match="FIRST-SENTENCE"):
        load_xsum(tmp_path, splits=("train",))
