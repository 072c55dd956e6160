"""A damaged tokenizer folder gives an error that names the file and the field (or line), never a
KeyError, an AttributeError, or a silent fall-back to other files that loads another tokenizer."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from clearformer.tokenization import AutoTokenizer


@pytest.fixture
def bert_copy(bert_dir, tmp_path):
    folder = tmp_path / "bert"
    shutil.copytree(bert_dir, folder)
    return folder


def _edit_json(path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_tokenizer_json_without_model_vocab_names_file_and_field(bert_copy):
    _edit_json(bert_copy / "tokenizer.json", lambda d: d["model"].pop("vocab"))
    with pytest.raises(ValueError, match=r"tokenizer\.json.*'model\.vocab'"):
        AutoTokenizer.from_pretrained(bert_copy)


def test_tokenizer_json_without_model_names_file_and_field(bert_copy):
    _edit_json(bert_copy / "tokenizer.json", lambda d: d.pop("model"))
    with pytest.raises(ValueError, match=r"tokenizer\.json.*'model'"):
        AutoTokenizer.from_pretrained(bert_copy)


def test_added_token_without_id_names_file_and_entry(bert_copy):
    _edit_json(bert_copy / "tokenizer.json", lambda d: d["added_tokens"][0].pop("id"))
    with pytest.raises(ValueError, match=r"tokenizer\.json: field 'added_tokens\[0\]\.id'"):
        AutoTokenizer.from_pretrained(bert_copy)


def test_list_valued_tokenizer_config_names_the_file(bert_copy):
    (bert_copy / "tokenizer_config.json").write_text('["BertTokenizer"]')
    with pytest.raises(ValueError, match=r"tokenizer_config\.json.*JSON object.*list"):
        AutoTokenizer.from_pretrained(bert_copy)


def test_list_valued_special_tokens_map_names_the_file(bert_copy):
    (bert_copy / "special_tokens_map.json").write_text('["[CLS]"]')
    with pytest.raises(ValueError, match=r"special_tokens_map\.json.*JSON object.*list"):
        AutoTokenizer.from_pretrained(bert_copy)


@pytest.mark.parametrize("name", ["tokenizer.json", "tokenizer_config.json"])
def test_invalid_json_names_file_and_line_and_is_not_skipped(bert_copy, name):
    # vocab.txt is there too: a torn tokenizer.json must not silently fall back to it
    text = (bert_copy / name).read_text(encoding="utf-8")
    (bert_copy / name).write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(name) + r", line \d+, column \d+"):
        AutoTokenizer.from_pretrained(bert_copy)


def test_empty_tokenizer_json_is_an_error_naming_it(bert_copy):
    (bert_copy / "tokenizer.json").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tokenizer\.json"):
        AutoTokenizer.from_pretrained(bert_copy)


def test_tokenizer_json_of_wrong_shape_names_the_field(bert_copy):
    _edit_json(bert_copy / "tokenizer.json", lambda d: d["model"].update(vocab=["[PAD]", "[UNK]"]))
    with pytest.raises(ValueError, match=r"tokenizer\.json.*'model\.vocab'.*object"):
        AutoTokenizer.from_pretrained(bert_copy)
