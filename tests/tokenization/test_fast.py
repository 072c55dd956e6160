"""use_fast=True (the `tokenizers` package) gives exactly what the Python path gives."""

from __future__ import annotations

import pytest

from . import corpora
from .conftest import assert_same

pytest.importorskip("tokenizers")
FIELDS = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)


@pytest.mark.parametrize("kind", ["bert", "gpt2", "roberta"])
def test_fast_equals_python_on_texts(ours, kind):
    texts = corpora.sst2()[:1000] + corpora.tatoeba_cmn()[:500] + corpora.HARD_CASES
    slow, fast = ours(kind), ours(kind, True)
    assert fast.is_fast and not slow.is_fast
    assert type(fast).__name__.endswith("Fast")
    for start in range(0, len(texts), 250):
        chunk = texts[start : start + 250]
        assert_same(fast(chunk, **FIELDS), slow(chunk, **FIELDS), f"{kind} fast vs python")
    ids = slow(texts[:200])["input_ids"]
    assert fast.batch_decode(ids) == slow.batch_decode(ids)


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_fast_equals_python_on_squad_windows(ours, kind):
    pairs = corpora.squad(200)
    kw = dict(
        max_length=384,
        stride=128,
        truncation="only_second",
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    q, c = [p[0] for p in pairs], [p[1] for p in pairs]
    assert_same(ours(kind, True)(q, c, **kw), ours(kind)(q, c, **kw), "squad fast vs python")


def test_fast_equals_python_on_conll_words(ours):
    words = corpora.conll_words()[:500]
    kw = dict(is_split_into_words=True, **FIELDS)
    assert_same(ours("bert", True)(words, **kw), ours("bert")(words, **kw), "conll")


def test_fast_follows_added_tokens(folders):
    from clearformer.tokenization import AutoTokenizer

    slow = AutoTokenizer.from_pretrained(folders["bert"])
    fast = AutoTokenizer.from_pretrained(folders["bert"], use_fast=True)
    for tok in (slow, fast):
        tok.add_tokens(["newtok"])
        tok.add_special_tokens({"additional_special_tokens": ["<x>"]})
    text = "a newtokb <x> c"
    assert_same(fast(text, **FIELDS), slow(text, **FIELDS), "added")
