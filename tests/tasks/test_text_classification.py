"""GLUE single sentences and pairs, STS-B regression, the Chinese sets' loaders, bad labels."""

from __future__ import annotations

import numpy as np
import pytest

from clearformer.tasks import TaskDataError, classification_metrics, get_task, load_chnsenticorp, load_thucnews


def test_pair_task_builds_sentence_pairs(tokenizer):
    spec = get_task("mrpc")
    rows = {
        "sentence1": ["The cat sat.", "He left early."],
        "sentence2": ["A cat was sitting.", "He stayed."],
        "label": [1, 0],
    }
    encoded = spec.preprocess(tokenizer)(rows)
    for i in range(2):
        ids = encoded["input_ids"][i]
        assert ids.count(tokenizer.sep_token_id) == 2
        second = [t for t, s in zip(ids, encoded["token_type_ids"][i]) if s == 1]
        assert tokenizer.decode(second, skip_special_tokens=True) == rows["sentence2"][i].lower()
    assert encoded["label"] == [1, 0]


def test_cola_single_sentences_and_mcc(tokenizer, shared_data):
    spec = get_task("cola")
    data = spec.load(shared_data / "cola")
    rows = data["validation"].select(range(32))
    encoded = spec.preprocess(tokenizer)(rows[:])
    assert all(set(t) == {0} for t in encoded["token_type_ids"])
    labels = np.array(encoded["label"])
    logits = np.eye(2)[labels]
    assert spec.compute_metrics()((logits, labels)) == {"matthews_correlation": 1.0}
    assert spec.metric == "matthews_correlation"


def test_stsb_is_regression_on_the_first_column(tokenizer):
    spec = get_task("stsb")
    assert spec.num_labels == 1 and spec.metric == "pearson"
    encoded = spec.preprocess(tokenizer)(
        {"sentence1": ["a", "b", "c"], "sentence2": ["x", "y", "z"], "label": [0.5, 3.2, 4.8]}
    )
    assert encoded["label"] == [0.5, 3.2, 4.8]
    scores = classification_metrics("stsb", regression=True)(
        (np.array([[1.0], [2.0], [3.0]]), np.array([0.5, 3.2, 4.8]))
    )
    assert scores["spearmanr"] == pytest.approx(1.0)


def test_label_outside_the_label_list_is_a_clear_error(tokenizer):
    spec = get_task("sst2")
    with pytest.raises(
        TaskDataError, match=r"row 1 has label 2, which is not in the label list \['negative', 'positive'\]"
    ):
        spec.preprocess(tokenizer)({"sentence": ["good", "bad"], "label": [1, 2]})
    assert spec.preprocess(tokenizer)({"sentence": ["good"], "label": ["positive"]})["label"] == [1]


def test_chinese_sets_load_with_their_sizes(shared_data, tokenizer):
    senti = load_chnsenticorp(shared_data / "chnsenticorp")
    assert (len(senti["train"]), len(senti["validation"])) == (9600, 1200)
    assert set(senti["validation"]["label"]) == {0, 1}
    encoded = get_task("chnsenticorp").preprocess(tokenizer, max_length=32)(senti["validation"][:4])
    assert max(len(r) for r in encoded["input_ids"]) <= 32
    news = load_thucnews(shared_data / "thucnews")
    assert (len(news["train"]), len(news["validation"])) == (10000, 10000)
    assert set(news["train"]["label"]) == set(range(10))
