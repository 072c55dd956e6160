"""The ids the course prints (COURSE.md section 4.3), reproduced with the same vocabularies
(MiniLM's vocab.txt is bert-base-uncased's; distilgpt2 shares GPT-2's files), on both paths."""

from __future__ import annotations

import pytest

from .conftest import need_data


@pytest.fixture(params=[False, True], ids=["python", "tokenizers"])
def rust(request):
    if request.param:
        pytest.importorskip("tokenizers")
    return request.param


def test_bert_single_and_pair_ids(ours, rust):
    tok = ours("bert", rust)
    assert tok("I like natural language progressing!")["input_ids"] == [
        101,
        1045,
        2066,
        3019,
        2653,
        27673,
        999,
        102,
    ]
    pair = tok("Hello, this one sentence!", "And this sentence goes with it.")
    assert pair["input_ids"] == [
        101,
        7592,
        1010,
        2023,
        2028,
        6251,
        999,
        102,
        1998,
        2023,
        6251,
        3632,
        2007,
        2009,
        1012,
        102,
    ]
    assert pair["token_type_ids"] == [0] * 8 + [1] * 8


def test_distilbert_padded_batch(ours, rust):
    batch = ours("distilbert", rust)(
        ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"],
        padding=True,
        return_tensors="pt",
    )
    assert batch["input_ids"].tolist() == [
        [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102],
        [101, 1045, 5223, 2023, 2061, 2172, 999, 102] + [0] * 8,
    ]
    assert batch["attention_mask"][1].tolist() == [1] * 8 + [0] * 8
    assert set(batch) == {"input_ids", "attention_mask"}


def test_cola_first_training_sentence(ours, rust):
    line = need_data("cola", "in_domain_train.tsv").read_text(encoding="utf-8").splitlines()[0]
    sentence = line.split("\t")[3]
    assert ours("distilbert", rust)(sentence)["input_ids"] == [
        101,
        2256,
        2814,
        2180,
        1005,
        1056,
        4965,
        2023,
        4106,
        1010,
        2292,
        2894,
        1996,
        2279,
        2028,
        2057,
        16599,
        1012,
        102,
    ]


def test_gpt2_ids(ours, rust):
    tok = ours("gpt2", rust)
    assert tok("Hello, my dog is cute")["input_ids"] == [15496, 11, 616, 3290, 318, 13779]
    assert tok(" = Valkyria Chronicles III = \n")["input_ids"] == [
        796,
        569,
        18354,
        7496,
        17740,
        6711,
        796,
        220,
        198,
    ]
