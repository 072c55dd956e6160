"""Metrics equal the libraries' own outputs and the course's sanity values (COURSE.md 4.4)."""

from __future__ import annotations

import numpy as np
import pytest

from clearformer.metrics import list_metrics, load_metric, normalize_answer

pytest.importorskip("sklearn")


def test_sacrebleu_course_case_scores_zero_with_counts():
    result = load_metric("sacrebleu").compute(
        predictions=["hello there", "general kenobi"], references=[["hello there"], ["general kenobi"]]
    )
    assert result["score"] == 0.0
    assert result["counts"] == [4, 2, 0, 0] and result["totals"] == [4, 2, 0, 0]
    assert result["precisions"] == [100.0, 100.0, 0.0, 0.0]
    assert (result["bp"], result["sys_len"], result["ref_len"]) == (1.0, 4, 4)


def test_sacrebleu_equals_the_library_and_docstring_case():
    import sacrebleu

    preds = ["hello there general kenobi", "foo bar foobar"]
    refs = [["hello there general kenobi", "hello there !"], ["foo bar foobar", "foo bar foobar"]]
    ours = load_metric("sacrebleu").compute(predictions=preds, references=refs)
    theirs = sacrebleu.corpus_bleu(preds, [[r[0] for r in refs], [r[1] for r in refs]])
    assert ours["score"] == pytest.approx(100.0) and ours["score"] == theirs.score


def test_squad_exact_answer_is_100_and_normalisation_is_official():
    m = load_metric("./dataset/metrics/squad.py")
    refs = [{"id": "56e10a3be3433e1400422b22", "answers": {"answer_start": [97], "text": ["1976"]}}]
    preds = [{"id": "56e10a3be3433e1400422b22", "prediction_text": "1976"}]
    assert m.compute(predictions=preds, references=refs) == {"exact_match": 100.0, "f1": 100.0}
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    partial = m.compute(
        predictions=[{"id": "a", "prediction_text": "Denver Broncos team"}],
        references=[{"id": "a", "answers": {"text": ["the Denver Broncos"], "answer_start": [0]}}],
    )
    assert partial["exact_match"] == 0.0 and partial["f1"] == pytest.approx(100 * 0.8)


def test_squad_v2_counts_no_answer_predictions():
    refs = [
        {"id": "a", "answers": {"text": [], "answer_start": []}},
        {"id": "b", "answers": {"text": ["x y"], "answer_start": [0]}},
    ]
    preds = [
        {"id": "a", "prediction_text": "", "no_answer_probability": 0.0},
        {"id": "b", "prediction_text": "x y", "no_answer_probability": 0.0},
    ]
    out = load_metric("squad_v2").compute(predictions=preds, references=refs)
    assert out["exact"] == 100.0 and out["NoAns_total"] == 1 and out["HasAns_total"] == 1


def test_seqeval_conll_train_sentence_4_against_itself_is_perfect(shared_data):
    pytest.importorskip("datasets")
    from clearformer.data.loaders import CONLL_NER_TAGS, load_conll2003

    row = load_conll2003({"train": shared_data / "conll2003" / "train.txt"})["train"][4]
    tags = [[CONLL_NER_TAGS[i] for i in row["ner_tags"]]]
    out = load_metric("seqeval").compute(predictions=tags, references=tags)
    assert {k: out[k]["number"] for k in ("LOC", "ORG", "PER")} == {"LOC": 2, "ORG": 1, "PER": 1}
    assert all(out[k][m] == 1.0 for k in ("LOC", "ORG", "PER") for m in ("precision", "recall", "f1"))
    assert out["overall_f1"] == out["overall_accuracy"] == out["overall_precision"] == out["overall_recall"] == 1.0


def test_seqeval_matches_the_library():
    from seqeval.metrics import f1_score

    refs = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    preds = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "O"]]
    out = load_metric("seqeval").compute(predictions=preds, references=refs)
    assert out["overall_f1"] == pytest.approx(f1_score(refs, preds))
    assert out["PER"]["f1"] == 0.0 and out["LOC"]["f1"] == 1.0


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("cola", {"matthews_correlation": 1.0}),
        ("sst2", {"accuracy": 1.0}),
        ("mrpc", {"accuracy": 1.0, "f1": 1.0}),
    ],
)
def test_glue_docstring_values(task, expected):
    assert load_metric("glue", task).compute(predictions=[0, 1], references=[0, 1]) == expected


def test_glue_stsb_pearson_spearman_and_library_equality():
    from scipy.stats import pearsonr
    from sklearn.metrics import matthews_corrcoef

    out = load_metric("glue", "stsb").compute(predictions=[0, 1, 2, 3, 4, 5], references=[0, 1, 2, 3, 4, 5])
    assert out == pytest.approx({"pearson": 1.0, "spearmanr": 1.0})
    rng = np.random.default_rng(0)
    p, r = rng.integers(0, 2, 64), rng.integers(0, 2, 64)
    assert load_metric("glue", "cola").compute(predictions=p, references=r)["matthews_correlation"] == pytest.approx(
        matthews_corrcoef(r, p)
    )
    x, y = rng.normal(size=20), rng.normal(size=20)
    assert load_metric("glue", "stsb").compute(predictions=x, references=y)["pearson"] == pytest.approx(
        pearsonr(x, y)[0]
    )


def test_rouge_identical_texts_give_one_everywhere():
    out = load_metric("rouge").compute(
        predictions=["the cat sat\non the mat"], references=["the cat sat\non the mat"], use_stemmer=True
    )
    for key in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        for level in (out[key].low, out[key].mid, out[key].high):
            assert level.precision == level.recall == level.fmeasure == 1.0


def test_add_batch_then_compute_and_clear_errors():
    m = load_metric("accuracy")
    m.add_batch(predictions=[0, 1], references=[0, 0])
    m.add_batch(predictions=[1], references=[1])
    assert m.compute() == {"accuracy": pytest.approx(2 / 3)}
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        m.compute(predictions=[0, 1], references=[0])
    with pytest.raises(KeyError, match="unknown GLUE task"):
        load_metric("glue", "mnli_typo")
    with pytest.raises(KeyError, match="unknown metric"):
        load_metric("bleurt")
    assert "glue" in list_metrics()
