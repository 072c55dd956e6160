"""postprocess_qa_predictions on hand-built logits: spans, n_best, max_answer_length, v2 null answers."""

from __future__ import annotations

import numpy as np
import pytest

from clearformer.postprocessing import postprocess_qa_predictions

CONTEXT = "Denver Broncos won Super Bowl 50 in 2016."
#           0      7       15  19    25   30 33 36
WORDS = [(0, 6), (7, 14), (15, 18), (19, 24), (25, 29), (30, 32), (33, 35), (36, 40)]


def window(offsets: list, start: dict, end: dict, cls: float = 0.0) -> tuple[dict, np.ndarray, np.ndarray]:
    """A feature: [CLS] q q [SEP] <context tokens> [SEP]; logits -5 except where given."""
    mapping = [None, None, None, None, *offsets, None]
    s, e = np.full(len(mapping), -5.0), np.full(len(mapping), -5.0)
    s[0] = e[0] = cls
    for i, v in start.items():
        s[4 + i] = v
    for i, v in end.items():
        e[4 + i] = v
    return {"example_id": "q1", "offset_mapping": mapping}, s, e


def run(windows, **options):
    features = [w[0] for w in windows]
    starts = np.stack([w[1] for w in windows]) if len({len(w[1]) for w in windows}) == 1 else None
    if starts is None:  # windows of unequal length, padded as the Trainer does
        width = max(len(w[1]) for w in windows)
        pad = lambda a: np.pad(a, (0, width - len(a)), constant_values=-100.0)  # noqa: E731
        starts, ends = np.stack([pad(w[1]) for w in windows]), np.stack([pad(w[2]) for w in windows])
        for f in features:
            f["offset_mapping"] = f["offset_mapping"] + [None] * (width - len(f["offset_mapping"]))
    else:
        ends = np.stack([w[2] for w in windows])
    return postprocess_qa_predictions([{"id": "q1", "context": CONTEXT}], features, (starts, ends), **options)


def test_best_span_is_highest_start_plus_end_logit():
    answers = run([window(WORDS, {0: 5.0, 3: 4.5}, {1: 5.0, 4: 6.0})])
    assert answers == {"q1": "Denver Broncos won Super Bowl"}  # 5 + 6 beats 4.5 + 6 (3..4) and 5 + 5 (0..1)


def test_max_answer_length_excludes_long_spans():
    answers = run([window(WORDS, {0: 5.0, 3: 4.5}, {1: 5.0, 4: 6.0})], max_answer_length=2)
    assert answers == {"q1": "Super Bowl"}  # 0..4 is 5 tokens; 3..4 (4.5 + 6) beats 0..1 (5 + 5)


def test_end_before_start_and_question_tokens_are_skipped():
    feature, s, e = window(WORDS, {5: 9.0}, {2: 9.0, 6: 1.0})
    s[1] = e[1] = 20.0  # a question token: offset None
    assert run([(feature, s, e)]) == {"q1": "50 in"}


def test_n_best_size_limits_the_candidates_and_they_carry_probabilities():
    answers, n_best = run([window(WORDS, {0: 5.0, 3: 4.5}, {1: 5.0, 4: 6.0})], n_best_size=2, return_n_best=True)
    texts = [c["text"] for c in n_best["q1"]]
    assert texts == ["Denver Broncos won Super Bowl", "Super Bowl"]  # 3 valid of 2 starts x 2 ends, 2 kept
    assert abs(sum(c["probability"] for c in n_best["q1"]) - 1) < 1e-9


def test_windows_from_stride_each_propose_and_the_best_wins():
    first = window(WORDS[:5], {0: 3.0}, {1: 3.0})
    second = window(WORDS[3:], {2: 4.0}, {4: 4.5})  # tokens 3..7 of the context
    assert run([first, second]) == {"q1": "50 in 2016"}


def test_v2_answers_empty_when_no_window_beats_the_null_score():
    windows = [window(WORDS[:5], {0: 3.0}, {1: 3.0}, cls=4.0), window(WORDS[3:], {0: 2.0}, {1: 2.0}, cls=5.0)]
    assert run(windows, version_2_with_negative=True) == {"q1": ""}  # best 6 < null min(8, 10)
    assert run(windows) == {"q1": "Denver Broncos"}  # v1 always answers
    assert run(windows, squad_v2=True, null_score_diff_threshold=-3.0) == {"q1": "Denver Broncos"}


def test_v2_null_score_is_the_lowest_cls_score_over_windows():
    windows = [window(WORDS[:5], {0: 3.0}, {1: 3.0}, cls=2.0), window(WORDS[3:], {}, {}, cls=10.0)]
    assert run(windows, squad_v2=True) == {"q1": "Denver Broncos"}  # 6 > min(4, 20)


def test_example_without_valid_span_answers_empty():
    feature, s, e = window([], {}, {})
    assert run([(feature, s, e)]) == {"q1": ""}


def test_logit_rows_must_match_features():
    feature, s, e = window(WORDS, {}, {})
    with pytest.raises(ValueError, match="2 rows of logits for 1 features"):
        postprocess_qa_predictions([{"id": "q1", "context": CONTEXT}], [feature], (np.stack([s, s]), np.stack([e, e])))
