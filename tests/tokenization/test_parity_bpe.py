"""GPT-2 / RoBERTa byte-level BPE: exact equality with transformers 5.24 on every field."""

from __future__ import annotations

import pytest

from . import corpora
from .conftest import assert_same

FIELDS = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)
KINDS = ["gpt2", "roberta"]


def test_course_ids_for_gpt2(ours):
    assert ours("gpt2")("Hello, my dog is cute")["input_ids"] == [15496, 11, 616, 3290, 318, 13779]


def test_gpt2_regex_split_in_plain_words(ours):
    trace = ours("gpt2").explain(" Hello  world\n\n it's 42!")
    assert trace["pre_tokens"] == [" Hello", " ", " world", "\n\n", " it", "'s", " 42", "!"]


@pytest.mark.parametrize("kind", KINDS)
def test_hard_cases_match_oracle(ours, oracle, kind):
    for text in corpora.HARD_CASES:
        assert_same(ours(kind)(text, **FIELDS), oracle(kind)(text, **FIELDS), repr(text))
        pair = "pair: " + text[::-1]
        assert_same(ours(kind)(text, pair, **FIELDS), oracle(kind)(text, pair, **FIELDS), repr(text))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", sorted(corpora.TEXT_SOURCES))
def test_text_corpus_matches_oracle(ours, oracle, kind, source):
    texts = corpora.TEXT_SOURCES[source]()[:1000]
    for start in range(0, len(texts), 200):
        chunk = texts[start : start + 200]
        assert_same(ours(kind)(chunk, **FIELDS), oracle(kind)(chunk, **FIELDS), source)


@pytest.mark.parametrize("kind", KINDS)
def test_conll_words_match_oracle(ours, oracle, kind):
    sentences = corpora.conll_words()[:1000]
    kw = dict(is_split_into_words=True, **FIELDS)
    for start in range(0, len(sentences), 200):
        chunk = sentences[start : start + 200]
        assert_same(ours(kind)(chunk, **kw), oracle(kind)(chunk, **kw), "conll")


def test_roberta_squad_windows_match_oracle(ours, oracle):
    pairs = corpora.squad(300)
    kw = dict(
        max_length=384,
        stride=128,
        truncation="only_second",
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=True,
    )
    questions, contexts = [q for q, _ in pairs], [c for _, c in pairs]
    for start in range(0, len(pairs), 100):
        q, c = questions[start : start + 100], contexts[start : start + 100]
        assert_same(ours("roberta")(q, c, **kw), oracle("roberta")(q, c, **kw), "squad")


@pytest.mark.parametrize("kind", KINDS)
def test_decode_matches_oracle_and_round_trips(ours, oracle, kind):
    texts = corpora.wikitext()[:300] + corpora.tatoeba_cmn()[:300] + corpora.HARD_CASES
    mine, ref = ours(kind), oracle(kind)
    for text in texts:
        ids = ref(text)["input_ids"]
        assert mine.decode(ids) == ref.decode(ids)
        assert mine.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)
    for text in texts:
        assert ours("gpt2").decode(ours("gpt2").encode(text)) == text


def test_course_wikitext_ids_for_distilgpt2_vocab(ours):
    # distilgpt2 shares GPT-2's vocabulary; the course prints wikitext train[1] as these ids
    ids = ours("gpt2")(" = Valkyria Chronicles III = \n")["input_ids"]
    assert ids == [796, 569, 18354, 7496, 17740, 6711, 796, 220, 198]
