"""question-answering equals transformers 4.57's pipeline (5.x dropped it), run in the legacy venv."""

from __future__ import annotations

import json

import pytest
import torch

from clearformer.pipelines import pipeline
from tests.conftest import run_legacy

from .conftest import assert_close

CONTEXT = (
    "Hugging Face Inc. is a company based in New York City. Its headquarters are in DUMBO, therefore very "
    "close to the Manhattan Bridge. The company was founded in 2016 and builds open-source tools for machine "
    "learning."
)
CASES = [
    {"question": "Where is Hugging Face based?", "context": CONTEXT},
    {"question": "Where is Hugging Face based?", "context": CONTEXT, "top_k": 3},
    {"question": "When was it founded?", "context": CONTEXT, "max_seq_len": 32, "doc_stride": 8},
    {
        "question": "When was it founded?",
        "context": CONTEXT,
        "max_seq_len": 32,
        "doc_stride": 8,
        "top_k": 4,
        "handle_impossible_answer": True,
    },
    {"question": "What?", "context": CONTEXT, "max_answer_len": 3, "top_k": 2},
    {"question": "What?", "context": CONTEXT, "align_to_words": False, "top_k": 2},
    {"question": ["Who?", "What does it build?"], "context": CONTEXT},
]
LEGACY_SCRIPT = r"""
import json, sys
from transformers import pipeline
qa = pipeline("question-answering", model=sys.argv[1])
print(json.dumps([qa(**case) for case in json.loads(sys.argv[2])], default=float))
"""


@pytest.fixture(scope="module")
def folder(tiny):
    return tiny("qa")


@pytest.fixture(scope="module")
def legacy_answers(legacy_python, folder):
    out = run_legacy(legacy_python, LEGACY_SCRIPT, str(folder), json.dumps(CASES))
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.legacy
@pytest.mark.parametrize("case", range(len(CASES)))
def test_question_answering_matches_legacy_oracle(folder, legacy_answers, case):
    ours = pipeline("question-answering", model=folder)(**CASES[case])
    assert_close(ours, legacy_answers[case])


def test_answers_are_char_spans_of_the_context(folder):
    qa = pipeline("question-answering", model=folder)
    for answer in qa(question="What does it build?", context=CONTEXT, top_k=5, max_seq_len=32, doc_stride=8):
        assert CONTEXT[answer["start"] : answer["end"]] == answer["answer"] and answer["answer"]


def test_dict_inputs_batching_and_windows_give_the_same_answers(folder):
    qa = pipeline("question-answering", model=folder)
    examples = [{"question": "Who?", "context": CONTEXT}, {"question": "When?", "context": CONTEXT[:60]}]
    one_by_one = [qa(example, max_seq_len=32, doc_stride=8) for example in examples]
    batched = qa(examples, max_seq_len=32, doc_stride=8, batch_size=4)
    assert [a["answer"] for a in batched] == [a["answer"] for a in one_by_one]
    for a, b in zip(batched, one_by_one):
        assert abs(a["score"] - b["score"]) < 1e-6


def test_unanswerable_context_gives_the_empty_answer(folder):
    qa = pipeline("question-answering", model=folder)
    forward = qa.model.forward

    def cls_always_wins(*args, **kwargs):  # a model sure that no window holds the answer
        out = forward(*args, **kwargs)
        out.start_logits[:, 0] += 50.0
        out.end_logits[:, 0] += 50.0
        return out

    qa.model.forward = cls_always_wins
    answer = qa(question="Who?", context=CONTEXT, max_seq_len=32, doc_stride=8, handle_impossible_answer=True)
    assert answer["answer"] == "" and answer["start"] == answer["end"] == 0 and answer["score"] > 0.99
    assert qa(question="Who?", context=CONTEXT, max_seq_len=32, doc_stride=8)["answer"] != ""


def test_question_too_long_for_max_seq_len_is_a_clear_error(folder):
    qa = pipeline("question-answering", model=folder)
    question = "What is the name of the bridge close to the headquarters of the company?"
    with pytest.raises(ValueError, match=r"max_seq_len=16 is too short for this question"):
        qa(question=question, context=CONTEXT, max_seq_len=16, doc_stride=4)


def test_bad_question_answering_inputs_are_named(folder):
    qa = pipeline("question-answering", model=folder)
    with pytest.raises(ValueError, match="question must be a non-empty string"):
        qa(question="", context=CONTEXT)
    with pytest.raises(KeyError, match="'question' and 'context'"):
        qa({"query": "x", "context": CONTEXT})
    with pytest.raises(ValueError, match="both question"):
        qa(question="Who?")
    with pytest.raises(ValueError, match="top_k"):
        qa(question="Who?", context=CONTEXT, top_k=0)
    assert torch.is_inference_mode_enabled() is False
