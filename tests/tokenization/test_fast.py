"""backend="tokenizers" (the `tokenizers` package) gives exactly what the Python path gives."""

from __future__ import annotations

import pytest

from clearformer.tokenization import TokenizersBackend

from . import corpora
from .conftest import assert_same

pytest.importorskip("tokenizers")
FIELDS = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)


@pytest.mark.parametrize("kind", ["bert", "gpt2", "roberta"])
def test_fast_equals_python_on_texts(ours, kind):
    texts = corpora.sst2()[:1000] + corpora.tatoeba_cmn()[:500] + corpora.HARD_CASES
    slow, fast = ours(kind), ours(kind, True)
    assert fast.is_fast and slow.is_fast  # both have offsets and word_ids
    assert isinstance(fast, TokenizersBackend) and not isinstance(slow, TokenizersBackend)
    assert type(fast).__name__ == type(slow).__name__ + "TokenizersBackend"
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
    fast = AutoTokenizer.from_pretrained(folders["bert"], backend="tokenizers")
    for tok in (slow, fast):
        tok.add_tokens(["newtok"])
        tok.add_special_tokens({"additional_special_tokens": ["<x>"]})
    text = "a newtokb <x> c"
    assert_same(fast(text, **FIELDS), slow(text, **FIELDS), "added")


# ---------------------------------------------------------------- the lazy alignment of the fast path
def alignment(enc, texts: list[tuple[str, str | None]], mapping: list[int], char_step: int = 1) -> list:
    """Everything a BatchEncoding derives from its rows: per row the tokens, word and sequence
    ids, token_to_word/_sequence/_chars of every token, word_to_tokens of every word and
    char_to_token of every (``char_step``-th) character of each sequence of its example."""
    out = []
    for row, example in enumerate(mapping):
        n = len(enc["input_ids"][row])
        words = enc.word_ids(row)
        per_token = [
            (enc.token_to_word(row, i), enc.token_to_sequence(row, i), enc.token_to_chars(row, i)) for i in range(n)
        ]
        per_word = [
            enc.word_to_tokens(row, w, s)
            for s in (0, 1)
            for w in sorted({w for w, q in zip(words, enc.sequence_ids(row)) if w is not None and q == s})
        ]
        per_char = [
            enc.char_to_token(row, c, s)
            for s, text in enumerate(texts[example])
            if text is not None
            for c in range(0, len(text), char_step)
        ]
        out.append((enc.tokens(row), words, enc.sequence_ids(row), per_token, per_word, per_char))
    return out


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_fast_alignment_equals_oracle_and_python_on_squad_windows(ours, oracle, kind):
    pairs = corpora.squad(40)
    q, c = [p[0] for p in pairs], [p[1] for p in pairs]
    kw = dict(max_length=256, stride=64, truncation="only_second", return_overflowing_tokens=True)
    fast, hf, slow = ours(kind, True)(q, c, **kw), oracle(kind)(q, c, **kw), ours(kind)(q, c, **kw)
    assert fast["overflow_to_sample_mapping"] == hf["overflow_to_sample_mapping"]
    assert len(fast["overflow_to_sample_mapping"]) > len(pairs)  # windows were made
    assert_same(fast, hf, "squad windows fast vs oracle")
    mapping = fast["overflow_to_sample_mapping"]
    got = alignment(fast, pairs, mapping)
    assert got == alignment(hf, pairs, mapping)
    assert alignment(fast, pairs, mapping, 5) == alignment(slow, pairs, mapping, 5)


def test_fast_alignment_equals_oracle_on_words_and_texts(ours, oracle):
    words = corpora.conll_words()[:200]
    kw = dict(is_split_into_words=True, return_offsets_mapping=True)
    fast, hf = ours("bert", True)(words, **kw), oracle("bert")(words, **kw)
    assert_same(fast, hf, "conll fast vs oracle")
    texts = [(t, None) for t in corpora.sst2()[:200] + corpora.HARD_CASES]
    mapping = list(range(len(texts)))
    for kind in ("bert", "gpt2"):
        batch = [t for t, _ in texts]
        fast, hf = ours(kind, True)(batch), oracle(kind)(batch)
        assert alignment(fast, texts, mapping) == alignment(hf, texts, mapping), kind
        single = ours(kind, True)(batch[3])  # one text: unbatched fields, still aligned
        last = len(single["input_ids"]) - 2  # ours also reads negative indices as Python does
        assert single.word_ids() == hf.word_ids(3)
        assert single.token_to_chars(-2) == single.token_to_chars(last) == hf.token_to_chars(3, last)


def test_fast_rows_are_the_rust_encodings_unconverted(ours):
    import tokenizers

    enc = ours("bert", True)(["a first text", "and a second one"], ["pair", "pair"])
    assert all(isinstance(row, tokenizers.Encoding) for row in enc.encodings)
    assert enc[1].ids == enc["input_ids"][1] and enc.n_sequences == 2
    assert not any(isinstance(row, tokenizers.Encoding) for row in ours("bert")("a text").encodings)


PADDING_CALLS = [
    dict(padding=True),
    dict(padding="max_length", max_length=48, truncation=True),
    dict(padding="longest", pad_to_multiple_of=8, padding_side="left"),
    dict(truncation="longest_first", max_length=20, stride=4, return_overflowing_tokens=True, padding=True),
    dict(),
    dict(truncation=True, max_length=12),
    dict(padding="max_length", max_length=16, truncation="only_first", return_tensors="pt"),
]


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_fast_settings_change_between_calls_like_the_oracle(ours, oracle, kind):
    """Truncation and padding are set on the Rust tokenizer only when they change: every
    call must still see its own options, in any order."""
    pytest.importorskip("torch")
    texts = corpora.sst2()[:60]
    fast, slow, hf = ours(kind, True), ours(kind), oracle(kind)
    for kw in PADDING_CALLS + PADDING_CALLS[::-1]:
        if kw.get("padding") and kind == "gpt2":
            # GPT-2 has no pad token: padding refuses, the rest of the options still apply
            with pytest.raises(ValueError, match="no pad token"):
                fast(texts, **kw)
            kw = {k: v for k, v in kw.items() if k not in ("padding", "pad_to_multiple_of", "return_tensors")}
        kw = {**kw, "return_offsets_mapping": True, "return_special_tokens_mask": True}
        assert_same(fast(texts, **kw), hf(texts, **kw), f"{kind} {kw} fast vs oracle")
        assert_same(fast(texts, **kw), slow(texts, **kw), f"{kind} {kw} fast vs python")


def test_fast_pickles_the_same_after_calls_that_set_options(folders):
    import copy
    import pickle

    from clearformer.tokenization import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folders["bert"], backend="tokenizers")
    before = pickle.dumps(tok)
    enc = tok(["some text here", "more"], truncation=True, max_length=4, stride=1, padding="max_length")
    assert pickle.dumps(tok) == before
    again = pickle.loads(before)(["some text here", "more"], truncation=True, max_length=4, stride=1)
    assert again["input_ids"] == tok(["some text here", "more"], truncation=True, max_length=4, stride=1)["input_ids"]
    for clone in (pickle.loads(pickle.dumps(enc)), copy.deepcopy(enc)):
        assert dict(clone) == dict(enc)
        assert [clone.word_ids(i) for i in range(2)] == [enc.word_ids(i) for i in range(2)]


PAIR_WINDOW_CALLS = [
    dict(truncation="longest_first", max_length=40, stride=5, padding=True),
    dict(truncation="longest_first", max_length=48, stride=5, padding="max_length", pad_to_multiple_of=16),
    dict(truncation="only_first", max_length=30, stride=3, padding=True, padding_side="left"),
    dict(truncation="only_second", max_length=64, stride=16, padding=True, return_length=True),
]


@pytest.mark.parametrize("kw", PAIR_WINDOW_CALLS, ids=lambda kw: kw["truncation"])
def test_fast_pair_windows_padded_equal_oracle_and_python(ours, oracle, kw):
    """Pairs cut into overflow windows and padded by `tokenizers` (the fast path) or in Python."""
    pairs = corpora.squad(30)
    q, c = [p[0] for p in pairs], [p[1][:300] for p in pairs]
    args = (c, q) if kw["truncation"] == "only_first" else (q, c)
    kw = {**kw, "return_overflowing_tokens": True, "return_offsets_mapping": True, "return_special_tokens_mask": True}
    fast = ours("bert", True)(*args, **kw)
    assert len(fast["input_ids"]) > len(pairs)
    assert_same(fast, oracle("bert")(*args, **kw), f"{kw} fast vs oracle")
    assert_same(fast, ours("bert")(*args, **kw), f"{kw} fast vs python")
