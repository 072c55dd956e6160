"""The Hugging Face call API: every option combination the course uses, field-equal to the oracle."""

from __future__ import annotations

import itertools

import pytest
import torch

from .conftest import assert_same

TEXTS = [
    "Hello, world! This is a longer sentence with several words in it.",
    "short",
    "",
    "Naïve café: 中文 and emoji 😀 inside a medium sized sentence, ok?",
    "Another one: the quick brown fox jumps over the lazy dog " * 3,
]
PAIRS = [
    "a second segment that is fairly long so that truncation has something to cut off " * 2,
    "tiny",
    "x y",
    "pair with 中文 and 😀",
    "the end",
]
KINDS = ["bert", "distilbert", "gpt2", "roberta"]


def _maybe_pad(tok, ref):
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
        ref.pad_token = ref.eos_token


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "truncation,max_length,stride",
    [
        (True, 12, 0),
        ("longest_first", 10, 2),
        ("only_first", 14, 3),
        ("only_second", 14, 4),
        (True, 40, 5),
        ("only_second", 30, 0),
    ],
)
def test_truncation_and_overflow_match_oracle(ours, oracle, kind, truncation, max_length, stride):
    mine, ref = ours(kind), oracle(kind)
    kw = dict(
        truncation=truncation,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )
    first = [t for t in TEXTS if t]
    second = [p for t, p in zip(TEXTS, PAIRS) if t]
    if truncation == "only_first":
        second = ["b"] * len(first)
    if truncation == "only_second":
        first = ["q?"] * len(first)
    assert_same(mine(first, second, **kw), ref(first, second, **kw), f"{kind} {truncation}")
    if truncation in (True, "longest_first"):
        assert_same(mine(first, **kw), ref(first, **kw), f"{kind} single")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "padding,max_length,multiple,side",
    list(itertools.product([True, "longest", "max_length"], [None, 48], [None, 8], ["left", "right"])),
)
def test_padding_matches_oracle(ours, oracle, kind, padding, max_length, multiple, side):
    mine, ref = ours(kind), oracle(kind)
    _maybe_pad(mine, ref)
    if padding == "max_length" and max_length is None:
        max_length = 64
    kw = dict(
        padding=padding,
        max_length=max_length,
        pad_to_multiple_of=multiple,
        padding_side=side,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_length=True,
        truncation=True if max_length else None,
    )
    assert_same(mine(TEXTS, PAIRS, **kw), ref(TEXTS, PAIRS, **kw), f"{kind} {padding}")
    assert_same(mine(TEXTS[0], **kw), ref(TEXTS[0], **kw), f"{kind} single")


@pytest.mark.parametrize("kind", KINDS)
def test_return_flags_and_tensors_match_oracle(ours, oracle, kind):
    mine, ref = ours(kind), oracle(kind)
    _maybe_pad(mine, ref)
    for flags in [
        dict(return_token_type_ids=True),
        dict(return_attention_mask=False),
        dict(add_special_tokens=False, return_offsets_mapping=True),
        dict(return_tensors="pt", padding=True, return_offsets_mapping=True),
    ]:
        a, b = mine(TEXTS, PAIRS, **flags), ref(TEXTS, PAIRS, **flags)
        assert_same(a, b, f"{kind} {flags}")
        if "return_tensors" in flags:
            assert all(isinstance(v, torch.Tensor) for v in a.values())
            single = mine(TEXTS[0], return_tensors="pt")
            assert single["input_ids"].shape == ref(TEXTS[0], return_tensors="pt")["input_ids"].shape


@pytest.mark.parametrize("kind", KINDS)
def test_id_helpers_match_oracle(ours, oracle, kind):
    mine, ref = ours(kind), oracle(kind)
    a, b = mine.encode(TEXTS[0], add_special_tokens=False), mine.encode(PAIRS[0], add_special_tokens=False)
    assert a == ref.encode(TEXTS[0], add_special_tokens=False)
    # transformers 5.24 dropped these helpers from its tokenizers; its call output is the reference
    call = ref(TEXTS[0], PAIRS[0], return_special_tokens_mask=True, return_token_type_ids=True)
    assert mine.build_inputs_with_special_tokens(a, b) == call["input_ids"]
    assert mine.build_inputs_with_special_tokens(a) == ref(TEXTS[0])["input_ids"]
    assert mine.get_special_tokens_mask(a, b) == call["special_tokens_mask"]
    assert mine.create_token_type_ids_from_sequences(a, b) == call["token_type_ids"]
    full = mine.build_inputs_with_special_tokens(a, b)
    assert mine.get_special_tokens_mask(full, already_has_special_tokens=True) == ref.get_special_tokens_mask(
        full, already_has_special_tokens=True
    )
    assert mine.tokenize(TEXTS[3]) == ref.tokenize(TEXTS[3])
    assert mine.convert_ids_to_tokens(full) == ref.convert_ids_to_tokens(full)
    assert mine.convert_tokens_to_ids(mine.convert_ids_to_tokens(full)) == full
    assert mine.convert_tokens_to_string(mine.tokenize(TEXTS[3])) == ref.convert_tokens_to_string(
        ref.tokenize(TEXTS[3])
    )
    assert mine.batch_decode([full, a], skip_special_tokens=True) == ref.batch_decode(
        [full, a], skip_special_tokens=True
    )
    for name in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        assert getattr(mine, f"{name}_token") == getattr(ref, f"{name}_token"), name
        assert getattr(mine, f"{name}_token_id") == getattr(ref, f"{name}_token_id"), name
    assert mine.vocab_size == ref.vocab_size and len(mine) == len(ref)
    assert mine.get_vocab() == ref.get_vocab()
    assert mine.model_max_length == ref.model_max_length
    assert mine.model_input_names == ref.model_input_names
    assert mine.num_special_tokens_to_add(True) == ref.num_special_tokens_to_add(True)


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_alignment_methods_match_oracle(ours, oracle, kind):
    mine, ref = ours(kind), oracle(kind)
    a, b = mine(TEXTS, PAIRS), ref(TEXTS, PAIRS)
    for row in range(len(TEXTS)):
        assert a.tokens(row) == b.tokens(row)
        assert a.word_ids(row) == b.word_ids(row)
        assert a.sequence_ids(row) == b.sequence_ids(row)
        for i in range(len(a["input_ids"][row])):
            assert a.token_to_chars(row, i) == b.token_to_chars(row, i)
            assert a.token_to_word(row, i) == b.token_to_word(row, i)
        for c in range(len(TEXTS[row])):
            assert a.char_to_token(row, c) == b.char_to_token(row, c), (row, c)
            assert a.char_to_token(row, c, sequence_index=1) == b.char_to_token(row, c, 1)
    single = mine(TEXTS[0])
    assert single.input_ids == single["input_ids"]
    assert single.char_to_token(7) == ref(TEXTS[0]).char_to_token(7)


def test_batch_encoding_to_device_and_attribute_errors(ours):
    enc = ours("bert")(TEXTS, padding=True, return_tensors="pt").to("cpu")
    assert enc.input_ids.device.type == "cpu"
    with pytest.raises(AttributeError, match="has no field"):
        _ = enc.not_a_field


@pytest.mark.parametrize("kind", KINDS)
def test_pad_features_matches_oracle(ours, oracle, kind):
    mine, ref = ours(kind), oracle(kind)
    _maybe_pad(mine, ref)
    features = [mine(t) for t in TEXTS]
    for kw in [
        dict(),
        dict(padding="max_length", max_length=70),
        dict(pad_to_multiple_of=8),
        dict(padding_side="left"),
        dict(return_tensors="pt"),
    ]:
        a = mine.pad([dict(f) for f in features], **kw)
        b = ref.pad([dict(f) for f in features], **kw)
        a = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in a.items()}
        b = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in b.items()}
        assert a == b, kw


@pytest.mark.parametrize("kind", KINDS)
def test_added_tokens_match_oracle(folders, kind):
    transformers = pytest.importorskip("transformers")
    from clearformer.tokenization import AutoTokenizer

    mine = AutoTokenizer.from_pretrained(folders[kind])
    ref = transformers.AutoTokenizer.from_pretrained(str(folders[kind]))
    assert mine.add_tokens(["newtok", "HeLLo"]) == ref.add_tokens(["newtok", "HeLLo"])
    assert mine.add_tokens(["newtok"]) == ref.add_tokens(["newtok"]) == 0
    special = {"additional_special_tokens": ["<x>", "<y>"]}
    assert mine.add_special_tokens(special) == ref.add_special_tokens(special)
    assert len(mine) == len(ref) and mine.vocab_size == ref.vocab_size
    text = "hello HeLLo newtokxyz <x>a <y> b newtok"
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    assert_same(mine(text, **kw), ref(text, **kw), kind)
    ids = ref(text)["input_ids"]
    assert mine.decode(ids) == ref.decode(ids)
    assert mine.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)


@pytest.mark.parametrize("rust", [False, True])
def test_dataset_columns_series_and_arrays_are_batches(bert_dir, rust):
    """``tokenizer(ds["train"]["sentence"])``: a datasets Column (lazy in datasets >= 4), a pandas
    Series and a numpy array encode exactly as the same list of strings."""
    datasets = pytest.importorskip("datasets", reason="the datasets library makes the Column")
    import numpy as np

    from clearformer import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(bert_dir, backend="tokenizers" if rust else None)
    ds = datasets.Dataset.from_dict({"sentence": TEXTS, "other": PAIRS})
    want = tok(TEXTS, PAIRS, truncation=True, max_length=16)
    for text, pair in ((ds["sentence"], ds["other"]), (np.array(TEXTS), np.array(PAIRS))):
        got = tok(text, pair, truncation=True, max_length=16)
        assert dict(got) == dict(want)
    pandas = pytest.importorskip("pandas")
    got = tok(pandas.Series(TEXTS), pandas.Series(PAIRS), truncation=True, max_length=16)
    assert dict(got) == dict(want)
