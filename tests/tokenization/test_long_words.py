"""A word without spaces costs about linear time in its length, with ids equal to the oracle's.

Byte-level BPE merged with a rescan of the whole word per merge (quadratic: 200k letters took 85 s);
WordPiece and Unigram must not grow faster than linearly either.
"""

from __future__ import annotations

import functools
import random
import re
import time

import pytest

from .conftest import need_data


def _seconds(fn, *args) -> float:
    # CPU time of this process: other jobs on the cores (test workers, CI) do not inflate it
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def _growth(encode, make_word, n: int) -> float:
    """time(8n) / time(n) for fresh words (no cache hits); ~8 for linear, ~64 for quadratic."""
    encode(make_word(200, 0))  # warm up
    small = min(_seconds(encode, make_word(n, s)) for s in (1, 2))
    large = _seconds(encode, make_word(8 * n, 3))
    return large / max(small, 1e-4)


def _letters(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


@functools.lru_cache(maxsize=1)
def _wiki_letters() -> str:
    text = need_data("wikitext-2-raw", "wiki.valid.raw").read_text(encoding="utf-8")
    return "".join(re.findall("[A-Za-z]", text))


def _text_letters(n: int, seed: int) -> str:
    """n letters of English text with spaces and punctuation removed: many different merges
    apply one after another (the old loop's worst case: 20k letters took 73 s)."""
    letters = _wiki_letters()
    start = random.Random(seed).randrange(len(letters) - n)
    return letters[start : start + n]


@pytest.mark.parametrize("kind", ["gpt2", "roberta"])
def test_bpe_cost_grows_about_linearly_with_word_length(ours, kind):
    tok = ours(kind)
    ratio = _growth(lambda w: tok(w, add_special_tokens=False), _text_letters, 2_000)
    assert ratio < 32, f"an 8x longer word took {ratio:.1f}x longer (linear ~8x, quadratic ~64x)"


@pytest.mark.parametrize("make_word", [_text_letters, _letters])
def test_bpe_200k_letter_word_is_fast_and_matches_oracle(ours, oracle, make_word):
    word = make_word(200_000, 7)
    seconds = _seconds(ours("gpt2"), word)
    assert seconds < 20, f"200k letters took {seconds:.1f}s"
    assert ours("gpt2")(word)["input_ids"] == oracle("gpt2")(word)["input_ids"]


def test_bpe_overlapping_pairs_merge_leftmost_first_like_the_oracle(ours, oracle):
    # runs of one letter: every pair overlaps its neighbours, so the order of equal-rank merges
    # decides the result; plus short-alphabet strings where many merges compete
    rng = random.Random(3)
    words = [c * n for c in "a ae1.\u00e9\u4e2d" for n in range(1, 40)]
    words += ["".join(rng.choice("ab ") for _ in range(rng.randint(1, 60))) for _ in range(300)]
    words += ["".join(rng.choice("the quick") for _ in range(rng.randint(1, 80))) for _ in range(300)]
    for kind in ("gpt2", "roberta"):
        for word in words:
            assert ours(kind)(word)["input_ids"] == oracle(kind)(word)["input_ids"], (kind, word)


def test_wordpiece_cost_grows_about_linearly_when_words_may_be_long(folders):
    from clearformer.models.bert.tokenization_bert import BertTokenizer

    tok = BertTokenizer.from_pretrained(folders["bert"], max_input_chars_per_word=10**7)
    tok.pipeline.model.max_input_chars_per_word = 10**7
    ratio = _growth(lambda w: tok(w, add_special_tokens=False), _letters, 1_000)
    assert ratio < 32, f"an 8x longer word took {ratio:.1f}x longer (linear ~8x, quadratic ~64x)"


@pytest.mark.parametrize("length", [99, 100, 101, 150])
def test_wordpiece_long_word_limit_counts_characters_like_the_oracle(ours, oracle, length):
    # 'é' is 2 bytes and '中' 3: the limit is in characters, not bytes
    for unit in ("a", "\u00e9", "ab"):
        word = (unit * length)[:length]
        assert ours("bert")(word)["input_ids"] == oracle("bert")(word)["input_ids"], (unit, length)


def test_unigram_cost_grows_about_linearly_with_word_length(tmp_path):
    # Viterbi looks at most max-piece-length candidates per position: linear already; pinned here
    spm = pytest.importorskip("sentencepiece")
    from clearformer.tokenization.unigram import UnigramModel

    corpus = need_data("multi30k", "train.en").read_text(encoding="utf-8").splitlines()[:3000]
    (tmp_path / "c.txt").write_text("\n".join(corpus), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(tmp_path / "c.txt"), model_prefix=str(tmp_path / "u"), vocab_size=800, minloglevel=2
    )
    model = UnigramModel.from_sentencepiece(tmp_path / "u.model")
    reference = spm.SentencePieceProcessor(model_file=str(tmp_path / "u.model"))
    word = _letters(10_000, 5)
    assert model.encode(word) == reference.encode(word)
    ratio = _growth(model.encode_with_offsets, _letters, 5_000)
    assert ratio < 32, f"an 8x longer word took {ratio:.1f}x longer (linear ~8x, quadratic ~64x)"
