"""BERT / DistilBERT WordPiece: exact equality with transformers 5.24 on every field."""

from __future__ import annotations

import pytest

from . import corpora
from .conftest import assert_same

FIELDS = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)


def test_course_ids_for_bert(ours):
    enc = ours("bert")("I like natural language progressing!")
    assert enc["input_ids"] == [101, 1045, 2066, 3019, 2653, 27673, 999, 102]
    assert enc["token_type_ids"] == [0] * 8 and enc["attention_mask"] == [1] * 8


def test_course_pair_ids_and_types(ours):
    enc = ours("bert")("This is the first sentence.", "This is the second one.")
    assert enc["input_ids"] == [
        101,
        2023,
        2003,
        1996,
        2034,
        6251,
        1012,
        102,
        2023,
        2003,
        1996,
        2117,
        2028,
        1012,
        102,
    ]
    assert enc["token_type_ids"] == [0] * 8 + [1] * 7


def test_distilbert_has_no_token_type_ids(ours, oracle):
    enc = ours("distilbert")("What is your name?", "My name is Sylvain.")
    assert "token_type_ids" not in enc
    assert enc["input_ids"][:7] == [101, 2054, 2003, 2115, 2171, 1029, 102]
    assert ours("distilbert").tokenize("My name is Sylvain.", add_special_tokens=True) == [
        "[CLS]",
        "my",
        "name",
        "is",
        "sy",
        "##lva",
        "##in",
        ".",
        "[SEP]",
    ]
    assert_same(enc, oracle("distilbert")("What is your name?", "My name is Sylvain."))


@pytest.mark.parametrize("kind", ["bert", "distilbert"])
def test_hard_cases_match_oracle(ours, oracle, kind):
    for text in corpora.HARD_CASES:
        assert_same(ours(kind)(text, **FIELDS), oracle(kind)(text, **FIELDS), repr(text))
        assert_same(
            ours(kind)(text, "pair: " + text[::-1], **FIELDS),
            oracle(kind)(text, "pair: " + text[::-1], **FIELDS),
            repr(text),
        )


def test_hard_cases_batch_padded_matches_oracle(ours, oracle):
    texts = [t for t in corpora.HARD_CASES]
    kw = dict(padding=True, pad_to_multiple_of=8, **FIELDS)
    assert_same(ours("bert")(texts, **kw), oracle("bert")(texts, **kw), "batch")


@pytest.mark.parametrize("source", sorted(corpora.TEXT_SOURCES))
def test_text_corpus_matches_oracle(ours, oracle, source):
    texts = corpora.TEXT_SOURCES[source]()
    for start in range(0, len(texts), 200):
        chunk = texts[start : start + 200]
        assert_same(ours("bert")(chunk, **FIELDS), oracle("bert")(chunk, **FIELDS), source)


def test_conll_words_match_oracle(ours, oracle):
    sentences = corpora.conll_words()
    for start in range(0, len(sentences), 200):
        chunk = sentences[start : start + 200]
        kw = dict(is_split_into_words=True, truncation=True, max_length=64, **FIELDS)
        assert_same(ours("bert")(chunk, **kw), oracle("bert")(chunk, **kw), "conll")


@pytest.mark.parametrize("source", ["squad", "cmrc"])
def test_qa_windows_match_oracle(ours, oracle, source):
    pairs = getattr(corpora, source)()
    kw = dict(
        max_length=384,
        stride=128,
        truncation="only_second",
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    for start in range(0, len(pairs), 100):
        chunk = pairs[start : start + 100]
        questions, contexts = [q for q, _ in chunk], [c for _, c in chunk]
        ours_enc = ours("bert")(questions, contexts, **kw)
        assert_same(ours_enc, oracle("bert")(questions, contexts, **kw), source)


def test_decode_matches_oracle(ours, oracle):
    texts = corpora.sst2()[:500] + corpora.tatoeba_cmn()[:300] + corpora.HARD_CASES
    mine, ref = ours("bert"), oracle("bert")
    for text in texts:
        ids = ref(text)["input_ids"]
        for skip in (False, True):
            for clean in (False, True):
                assert mine.decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=clean) == ref.decode(
                    ids, skip_special_tokens=skip, clean_up_tokenization_spaces=clean
                )


def test_vocab_only_folder_matches_tokenizer_json_folder(folders, bert_vocab_only_dir, oracle):
    from clearformer.tokenization import AutoTokenizer

    mine = AutoTokenizer.from_pretrained(bert_vocab_only_dir)
    for text in corpora.HARD_CASES:
        assert_same(mine(text, **FIELDS), oracle("bert")(text, **FIELDS), repr(text))
