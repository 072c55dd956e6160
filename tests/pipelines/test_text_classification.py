"""text-classification / sentiment-analysis equals transformers 5.24's pipeline on a tiny model."""

from __future__ import annotations

import pytest

from clearformer.pipelines import pipeline

from .conftest import assert_close, transformers

TEXTS = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]


@pytest.fixture(scope="module")
def pipes(tiny):
    folder = tiny("sentiment")
    return pipeline("sentiment-analysis", model=folder), transformers.pipeline("sentiment-analysis", model=str(folder))


@pytest.mark.parametrize(
    "inputs, options",
    [
        (TEXTS[0], {}),
        (TEXTS, {}),
        (TEXTS[0], {"top_k": None}),
        (TEXTS, {"top_k": 1}),
        (TEXTS, {"function_to_apply": "sigmoid"}),
        (TEXTS[1], {"function_to_apply": "none", "top_k": 2}),
        ({"text": "A man is eating.", "text_pair": "Someone eats food."}, {}),
    ],
)
def test_text_classification_matches_oracle(pipes, inputs, options):
    ours, ref = pipes
    assert_close(ours(inputs, **options), ref(inputs, **options))


def test_course_call_shape_is_one_dict_per_text(pipes):
    ours, _ = pipes
    result = ours(TEXTS)
    assert [sorted(r) for r in result] == [["label", "score"]] * 2
    assert all(r["label"] in ("NEGATIVE", "POSITIVE") for r in result)


def test_unknown_function_to_apply_names_the_choices(pipes):
    with pytest.raises(ValueError, match="softmax"):
        pipes[0](TEXTS[0], function_to_apply="tanh")
