"""``add_prefix_space``: GPT-2 / RoBERTa take it per call (as transformers' Python GPT-2
tokenizer did, and the course uses) with ids equal to the reference built with it; the
construction-time option and pre-split words match transformers 5.24."""

from __future__ import annotations

import json

import pytest

from clearformer.tokenization import AutoTokenizer
from tests.conftest import run_legacy

from .conftest import assert_same

KINDS = ["gpt2", "roberta"]
TEXTS = ["lower newer", "Hello, my dog is cute", " already spaced", "中文 and ünïcödé", ""]
WORDS = [["lower", "newer"], ["Hello", ",", "my", "dog"], ["New", "York", "City"]]
FIELDS = dict(return_offsets_mapping=True, return_special_tokens_mask=True)


@pytest.fixture(scope="module")
def oracle_with_prefix(folders):
    transformers = pytest.importorskip("transformers")
    return {k: transformers.AutoTokenizer.from_pretrained(str(folders[k]), add_prefix_space=True) for k in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_call_time_prefix_space_equals_the_reference_built_with_it(ours, oracle_with_prefix, kind):
    tok, ref = ours(kind), oracle_with_prefix[kind]
    assert_same(tok(TEXTS, add_prefix_space=True, **FIELDS), ref(TEXTS, **FIELDS), f"{kind} texts")
    words = dict(is_split_into_words=True, **FIELDS)
    assert_same(tok(WORDS, add_prefix_space=True, **words), ref(WORDS, **words), f"{kind} words")
    assert tok.tokenize("lower newer", add_prefix_space=True) == ["Ġlower", "Ġnewer"]
    assert tok.tokenize("lower newer") == ["lower", "Ġnewer"]  # the call left no trace


def test_call_time_prefix_space_matches_legacy_python_gpt2(ours, folders, legacy_python):
    # texts that start with a space are left out: the old Python tokenizer added a second one,
    # the `tokenizers` ByteLevel rule (ours, and 5.24's add_prefix_space=True) does not
    texts = [t for t in TEXTS if t and not t.startswith(" ")]
    script = (
        "import sys, json; from transformers import GPT2Tokenizer as T;"
        "t = T.from_pretrained(sys.argv[1]);"
        "print(json.dumps([t.tokenize(x, add_prefix_space=True) for x in json.loads(sys.argv[2])]))"
    )
    want = json.loads(run_legacy(legacy_python, script, str(folders["gpt2"]), json.dumps(texts)))
    assert [ours("gpt2").tokenize(x, add_prefix_space=True) for x in texts] == want


@pytest.mark.parametrize("kind", KINDS)
def test_construction_time_prefix_space_matches_the_reference(folders, oracle_with_prefix, kind):
    tok = AutoTokenizer.from_pretrained(folders[kind], add_prefix_space=True)
    ref = oracle_with_prefix[kind]
    assert_same(tok(TEXTS, **FIELDS), ref(TEXTS, **FIELDS), kind)
    words = dict(is_split_into_words=True, **FIELDS)
    assert_same(tok(WORDS, **words), ref(WORDS, **words), kind)
    assert tok(WORDS, add_prefix_space=False, **words)["input_ids"] == ours_without(folders, kind, WORDS)


def ours_without(folders, kind, words):
    return AutoTokenizer.from_pretrained(folders[kind])(words, is_split_into_words=True)["input_ids"]


def test_prefix_space_is_refused_where_it_cannot_be_honoured(ours):
    with pytest.raises(TypeError, match="add_prefix_space=.*byte-level"):
        ours("bert")("hello", add_prefix_space=True)
    with pytest.raises(TypeError, match="pass add_prefix_space=True to from_pretrained"):
        ours("gpt2", True)("hello", add_prefix_space=True)
