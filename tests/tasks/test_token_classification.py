"""CoNLL-2003 word -> sub-token label alignment, the label order, seqeval metrics, bad labels."""

from __future__ import annotations

import numpy as np
import pytest

from clearformer.tasks import CONLL_LABELS, TaskDataError, get_task, tokenize_and_align_labels
from clearformer.tasks.token_classification import inside_label_ids, token_classification_metrics


@pytest.fixture(scope="module")
def conll_dev(shared_data):
    from clearformer.data.loaders import load_conll2003

    return load_conll2003({"validation": shared_data / "conll2003" / "dev.txt"})["validation"].select(range(60))


def test_label_list_is_the_course_order():
    assert CONLL_LABELS == ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
    spec = get_task("conll2003")
    assert spec.label_list == CONLL_LABELS
    assert spec.model_kwargs()["id2label"][3] == "B-ORG"
    assert inside_label_ids(CONLL_LABELS) == [0, 2, 2, 4, 4, 6, 6, 8, 8]


@pytest.mark.parametrize("label_all_tokens", [False, True])
def test_first_sub_token_gets_the_word_label(tokenizer, conll_dev, label_all_tokens):
    encoded = tokenize_and_align_labels(tokenizer, label_all_tokens=label_all_tokens)(conll_dev[:])
    inside = inside_label_ids(CONLL_LABELS)
    continued = 0
    for row, tags in enumerate(conll_dev["ner_tags"]):
        previous = None
        for word, label in zip(encoded.word_ids(row), encoded["labels"][row]):
            if word is None:
                assert label == -100
            elif word != previous:
                assert label == tags[word]
            else:
                continued += 1
                assert label == (inside[tags[word]] if label_all_tokens else -100)
            previous = word
    assert continued > 20  # the slice has words split into several sub-tokens


def test_label_all_tokens_turns_b_into_i_on_later_sub_tokens(tokenizer):
    rows = {"tokens": [["Schwarzenegger", "visited"]], "ner_tags": [["B-PER", "O"]]}
    labels = tokenize_and_align_labels(tokenizer, label_all_tokens=True)(rows)["labels"][0]
    assert labels[0] == -100 and labels[-1] == -100
    assert labels[1] == CONLL_LABELS.index("B-PER")
    assert len(labels) > 4 and set(labels[2:-2]) == {CONLL_LABELS.index("I-PER")}


def test_label_not_in_label_list_is_a_clear_error(tokenizer):
    rows = {"tokens": [["EU", "rejects"]], "ner_tags": [["B-GPE", "O"]]}
    with pytest.raises(TaskDataError, match=r"row 0, word 0: label 'B-GPE' is not in the label list"):
        tokenize_and_align_labels(tokenizer)(rows)
    with pytest.raises(TaskDataError, match="label id 9 is not in the label list"):
        tokenize_and_align_labels(tokenizer)({"tokens": [["EU"]], "ner_tags": [[9]]})


def test_metrics_are_entity_level(tokenizer, conll_dev):
    encoded = tokenize_and_align_labels(tokenizer)(conll_dev[:8])
    width = max(len(r) for r in encoded["labels"])
    labels = np.full((8, width), -100)
    for i, row in enumerate(encoded["labels"]):
        labels[i, : len(row)] = row
    perfect = np.eye(len(CONLL_LABELS))[np.where(labels < 0, 0, labels)]
    compute = token_classification_metrics()
    assert compute((perfect, labels))["f1"] == 1.0
    shifted = perfect.copy()
    entity = np.argwhere(labels > 0)[0]
    shifted[tuple(entity)] = np.eye(len(CONLL_LABELS))[0]  # drop one entity token
    scores = compute((shifted, labels))
    assert scores["f1"] < 1.0 and scores["accuracy"] < 1.0
