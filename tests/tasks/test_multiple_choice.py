"""DREAM / C3 multiple-choice features: (batch, num_choices, seq) batches, missing options, C3 padding."""

from __future__ import annotations

import pytest
import torch

from clearformer.data.collators import DataCollatorForMultipleChoice
from clearformer.tasks import TaskDataError, multiple_choice_preprocess


@pytest.fixture(scope="module")
def dream_dev(shared_data):
    from clearformer.data.loaders import load_multiple_choice

    return load_multiple_choice({"validation": shared_data / "dream" / "dev.json"})["validation"].select(range(8))


def test_dream_batch_is_batch_by_choices_by_seq(tokenizer, dream_dev):
    features = multiple_choice_preprocess(tokenizer, num_choices=3, max_length=64)(dream_dev[:])
    assert [len(row) for row in features["input_ids"]] == [3] * 8
    rows = [{k: features[k][i] for k in features} for i in range(8)]
    batch = DataCollatorForMultipleChoice(tokenizer)(rows)
    seq = batch["input_ids"].shape[2]
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (8, 3, seq) and seq <= 64
    assert torch.equal(batch["labels"], torch.tensor(dream_dev["label"]))
    # each choice pair ends with the question and that option, untruncated
    text = tokenizer.decode(features["input_ids"][0][1], skip_special_tokens=True)
    option = dream_dev[0]["choices"][1].lower().rstrip(".")
    assert text.endswith(option) or option in text


def test_forward_on_the_batch_gives_one_logit_per_choice(tiny_bert_dir, tokenizer, dream_dev):
    from clearformer import AutoModelForMultipleChoice

    features = multiple_choice_preprocess(tokenizer, num_choices=3, max_length=48)(dream_dev[:4])
    batch = DataCollatorForMultipleChoice(tokenizer)([{k: features[k][i] for k in features} for i in range(4)])
    out = AutoModelForMultipleChoice.from_pretrained(tiny_bert_dir)(**batch)
    assert out.logits.shape == (4, 3) and out.loss.ndim == 0


def test_missing_option_is_a_clear_error(tokenizer):
    rows = {
        "id": ["d1-0"],
        "dialogue": [["M: Hi.", "W: Hello."]],
        "question": ["Who spoke?"],
        "choices": [["A man.", "A woman."]],
        "label": [0],
    }
    with pytest.raises(TaskDataError, match=r"row 0 \(id 'd1-0'\) has 2 options, 1 missing \(num_choices=3\)"):
        multiple_choice_preprocess(tokenizer, num_choices=3)(rows)
    rows["choices"] = [["A man.", None, "Both."]]
    with pytest.raises(TaskDataError, match=r"option 1 is missing or empty"):
        multiple_choice_preprocess(tokenizer, num_choices=3)(rows)


def test_c3_rows_with_fewer_options_are_padded(tokenizer, shared_data):
    from clearformer.data.loaders import load_multiple_choice

    c3 = load_multiple_choice({"validation": shared_data / "c3" / "c3-d-dev.json"})["validation"].select(range(40))
    assert {len(c) for c in c3["choices"]} != {4}  # C3 mixes 2, 3 and 4 options
    features = multiple_choice_preprocess(tokenizer, num_choices=4, max_length=64, pad_option="无效答案")(c3[:])
    assert {len(row) for row in features["input_ids"]} == {4}
    assert features["label"] == c3["label"]
