"""Bad data files fail with errors that name the file, the place and the fix (issue 16)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

pytest.importorskip("datasets")

from clearformer.data.loaders import (  # noqa: E402
    DataFormatError,
    load_conll2003,
    load_dataset,
    load_glue,
    load_multiple_choice,
    load_parallel,
    load_parallel_tsv,
    load_squad,
    load_text,
)
from clearformer.tasks.text_classification import load_thucnews  # noqa: E402


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- DREAM / C3 --------------------------------------------------------------------------------------
def _dream(tmp_path: Path, question: object) -> Path:
    return _write(tmp_path / "dream.json", json.dumps([[["M: hi", "W: hello"], [question], "1-1"]]))


def test_dream_choice_given_as_a_string_is_an_error_not_split_into_characters(tmp_path):
    path = _dream(tmp_path, {"question": "q?", "choice": "abc", "answer": "a"})
    with pytest.raises(DataFormatError, match=r"dream\.json, item 0 \(1-1\) question 0: 'choice' is a str"):
        load_multiple_choice(path)


def test_dream_question_that_is_not_an_object_is_an_error(tmp_path):
    path = _dream(tmp_path, "what?")
    with pytest.raises(DataFormatError, match=r"item 0 \(1-1\) question 0: .*not an object"):
        load_multiple_choice(path)


def test_dream_choice_string_is_skipped_and_counted_with_on_error_skip(tmp_path, caplog):
    good = {"question": "q?", "choice": ["x", "y"], "answer": "y"}
    bad = {"question": "q?", "choice": "xy", "answer": "y"}
    path = _write(tmp_path / "d.json", json.dumps([[["t"], [good, bad], "7"]]))
    with caplog.at_level(logging.WARNING):
        ds = load_multiple_choice(path, on_error="skip")
    assert ds["train"]["choices"] == [["x", "y"]]
    assert "skipped 1 malformed rows" in caplog.text


def test_invalid_json_names_file_line_and_column(tmp_path):
    path = _write(tmp_path / "d.json", '[\n  [["a"], [], "1"],\n  oops\n]')
    with pytest.raises(DataFormatError, match=r"d\.json: not valid JSON at line 3, column 3"):
        load_multiple_choice(path)


# --- empty files --------------------------------------------------------------------------------------
def test_empty_tsv_is_an_error_naming_the_file(tmp_path):
    path = _write(tmp_path / "train.tsv", "")
    with pytest.raises(DataFormatError, match=r"train\.tsv: no data rows \(the file is empty\)"):
        load_glue("sst2", path)


def test_header_only_tsv_is_an_error_naming_the_header_line(tmp_path):
    path = _write(tmp_path / "dev.tsv", "sentence\tlabel\n")
    with pytest.raises(DataFormatError, match=r"dev\.tsv: no data rows after the header on line 1"):
        load_glue("sst2", path)


def test_empty_conll_file_is_a_clear_error(tmp_path):
    path = _write(tmp_path / "train.txt", "")
    with pytest.raises(DataFormatError, match=r"train\.txt: no data rows \(the file is empty\)"):
        load_conll2003(path)


def test_conll_file_with_only_docstart_is_a_clear_error(tmp_path):
    path = _write(tmp_path / "train.txt", "-DOCSTART- -X- -X- O\n\n")
    with pytest.raises(DataFormatError, match=r"train\.txt: no data rows"):
        load_conll2003(path)


def test_every_row_skipped_is_an_error_not_an_empty_split(tmp_path):
    path = _write(tmp_path / "t.tsv", "sentence\tlabel\nonly one field\n")
    with pytest.raises(DataFormatError, match=r"t\.tsv: no data rows: all 1 rows were malformed"):
        load_glue("sst2", path, on_error="skip")


@pytest.mark.parametrize(
    "load",
    [
        lambda p: load_text(p),
        lambda p: load_parallel_tsv(p, "en", "zh"),
        lambda p: load_squad(p),
        lambda p: load_multiple_choice(p),
    ],
    ids=["text", "parallel_tsv", "squad", "multiple_choice"],
)
def test_other_loaders_refuse_an_empty_file(tmp_path, load):
    path = _write(tmp_path / "empty.txt", "")
    with pytest.raises(DataFormatError, match=r"empty\.txt"):
        load(path)


# --- encodings -------------------------------------------------------------------------------------------
GBK_TSV = "sentence\tlabel\n好的\t1\n".encode("gbk")


def test_gbk_bytes_in_a_utf8_tsv_name_file_offset_line_and_encoding(tmp_path):
    path = _write(tmp_path / "train.tsv", GBK_TSV)
    with pytest.raises(DataFormatError) as info:
        load_glue("sst2", path)
    message = str(info.value)
    assert "train.tsv" in message and "byte 15" in message and "line 2" in message
    assert "encoding='gbk'" in message


def test_encoding_argument_loads_a_gbk_tsv(tmp_path):
    path = _write(tmp_path / "train.tsv", GBK_TSV)
    assert load_glue("sst2", path, encoding="gbk")["train"]["sentence"] == ["好的"]


@pytest.mark.parametrize(
    ("load", "text"),
    [
        (lambda p, **kw: load_conll2003(p, **kw), "中 NN B-NP O\n"),
        (lambda p, **kw: load_text(p, **kw), "中文\n"),
        (lambda p, **kw: load_parallel_tsv(p, "zh", "en", **kw), "中文\tChinese\n"),
        (
            lambda p, **kw: load_multiple_choice(p, **kw),
            json.dumps(
                [[["中"], [{"question": "问", "choice": ["是", "否"], "answer": "是"}], "1"]], ensure_ascii=False
            ),
        ),
        (
            lambda p, **kw: load_squad(p, **kw),
            json.dumps(
                {
                    "data": [
                        {"paragraphs": [{"context": "中文", "qas": [{"id": "1", "question": "问", "answers": []}]}]}
                    ]
                },
                ensure_ascii=False,
            ),
        ),
    ],
    ids=["conll", "text", "parallel_tsv", "multiple_choice", "squad"],
)
def test_every_loader_names_gbk_bytes_and_takes_an_encoding(tmp_path, load, text):
    path = _write(tmp_path / "data.txt", text.encode("gbk"))
    with pytest.raises(DataFormatError, match=r"data\.txt: .*byte \d+.*encoding='gbk'"):
        load(path)
    (split,) = load(path, encoding="gbk").values()
    assert len(split) == 1


def test_parallel_files_name_gbk_bytes(tmp_path):
    src = _write(tmp_path / "a.zh", "中文\n".encode("gbk"))
    tgt = _write(tmp_path / "a.en", "Chinese\n")
    with pytest.raises(DataFormatError, match=r"a\.zh: .*encoding='gbk'"):
        load_parallel(src, tgt, "zh", "en")
    assert load_parallel(src, tgt, "zh", "en", encoding="gbk")["train"][0]["translation"]["zh"] == "中文"


def test_thucnews_names_gbk_bytes(tmp_path):
    from clearformer.tasks.text_classification import THUCNEWS_CLASSES

    _write(tmp_path / "class.txt", "\n".join(THUCNEWS_CLASSES))
    _write(tmp_path / "dev.txt", "体育新闻\t7\n".encode("gbk"))
    _write(tmp_path / "test.txt", "体育\t7\n")
    with pytest.raises(ValueError, match=r"dev\.txt: .*byte 0.*encoding='gbk'"):
        load_thucnews(tmp_path)


# --- SQuAD / CMRC structure ---------------------------------------------------------------------------------
def _squad(tmp_path: Path, paragraph: dict) -> Path:
    return _write(tmp_path / "dev.json", json.dumps({"data": [{"title": "T", "paragraphs": [paragraph]}]}))


def test_squad_entry_without_id_names_file_and_entry(tmp_path):
    path = _squad(
        tmp_path, {"context": "abc", "qas": [{"question": "q", "answers": [{"text": "a", "answer_start": 0}]}]}
    )
    with pytest.raises(DataFormatError, match=r"dev\.json, data\[0\]\.paragraphs\[0\]\.qas\[0\]: no 'id'"):
        load_squad(path)


def test_squad_paragraph_without_context_names_file_and_entry(tmp_path):
    path = _squad(tmp_path, {"qas": [{"id": "x", "question": "q", "answers": []}]})
    with pytest.raises(DataFormatError, match=r"dev\.json, data\[0\]\.paragraphs\[0\]: no 'context'"):
        load_squad(path)


def test_squad_answer_without_answer_start_names_the_question(tmp_path):
    path = _squad(tmp_path, {"context": "abc", "qas": [{"id": "q7", "question": "q", "answers": [{"text": "a"}]}]})
    with pytest.raises(DataFormatError, match=r"qas\[0\] \(question id q7\): .*answer_start"):
        load_squad(path)


def test_squad_entry_without_id_is_skipped_with_on_error_skip(tmp_path):
    qas = [{"question": "q", "answers": []}, {"id": "ok", "question": "q2", "answers": []}]
    path = _squad(tmp_path, {"context": "abc", "qas": qas})
    assert load_squad(path, on_error="skip")["validation"]["id"] == ["ok"]


# --- sizes and JSON lines ---------------------------------------------------------------------------------
def test_tsv_field_over_the_csv_default_limit_loads(tmp_path):
    long_text = "x" * 200_000
    path = _write(tmp_path / "train.tsv", f"sentence\tlabel\n{long_text}\t1\n")
    assert load_glue("sst2", path)["train"][0]["sentence"] == long_text
    assert load_parallel_tsv(path, "a", "b")["train"][1]["translation"]["a"] == long_text


def test_broken_json_lines_file_names_file_and_line(tmp_path):
    path = _write(tmp_path / "rows.jsonl", '{"text": "a"}\n{"text": "b"}\n{"text": \n{"text": "d"}\n')
    with pytest.raises(DataFormatError, match=r"rows\.jsonl, line 3: not valid JSON"):
        load_dataset("json", data_files={"train": path})


def test_valid_json_lines_file_still_loads(tmp_path):
    path = _write(tmp_path / "rows.jsonl", '{"text": "a"}\n{"text": "b"}\n')
    assert load_dataset("json", data_files={"train": path})["train"]["text"] == ["a", "b"]


def test_xsum_summary_file_names_gbk_bytes(tmp_path):
    from clearformer.data.xsum import SPLIT_FILE, SUMMARY_DIR, load_xsum

    _write(tmp_path / SPLIT_FILE, json.dumps({"train": ["1"]}))
    (tmp_path / SUMMARY_DIR).mkdir()
    text = "[SN]FIRST-SENTENCE[SN]\n摘要\n[SN]RESTBODY[SN]\n正文\n"
    _write(tmp_path / SUMMARY_DIR / "1.summary", text.encode("gbk"))
    # "摘要" in GBK happens to be valid UTF-8 too: the first bad byte is in "正文", on line 4.
    with pytest.raises(DataFormatError, match=r"1\.summary: byte 45 \(line 4\).*encoding='gbk'"):
        load_xsum(tmp_path)
    assert load_xsum(tmp_path, encoding="gbk")["train"][0]["summary"] == "摘要"


def test_xsum_split_file_with_bad_json_names_line_and_column(tmp_path):
    from clearformer.data.xsum import SPLIT_FILE, load_xsum

    _write(tmp_path / SPLIT_FILE, '{"train":\n  [1,,]}')
    with pytest.raises(DataFormatError, match=r"not valid JSON at line 2, column 6"):
        load_xsum(tmp_path)
