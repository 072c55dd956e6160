"""translation / summarization / text2text-generation equal transformers 4.57's pipelines (5.x
dropped them) on tiny random Marian and T5 models, run in the legacy venv."""

from __future__ import annotations

import json

import pytest

from clearformer.pipelines import pipeline
from tests.conftest import run_legacy

from .conftest import assert_close

TEXTS = ["Hugging Face is a company based in New York City.", "How old are you?"]
CASES = [
    ("translation", "marian", TEXTS[0], {"max_new_tokens": 8}),
    ("translation", "marian", TEXTS, {"max_new_tokens": 6, "num_beams": 1}),
    ("text2text-generation", "marian", TEXTS[1], {"max_new_tokens": 5, "num_beams": 2, "num_return_sequences": 2}),
    ("summarization", "t5", TEXTS[0], {"max_new_tokens": 6}),  # prefix and num_beams=2 from task_specific_params
    ("translation_en_to_de", "t5", TEXTS, {"max_new_tokens": 5}),
    ("text2text-generation", "t5", TEXTS[1], {"max_new_tokens": 4, "return_tensors": True}),
]
LEGACY_SCRIPT = r"""
import json, sys
from transformers import pipeline
folders = json.loads(sys.argv[1])
cases = json.loads(sys.argv[2])
results = [pipeline(task, model=folders[kind])(inputs, **options) for task, kind, inputs, options in cases]
print(json.dumps(results, default=lambda tensor: tensor.tolist()))
"""


@pytest.fixture(scope="module")
def legacy_results(legacy_python, tiny_seq2seq):
    folders = {k: str(v) for k, v in tiny_seq2seq.items()}
    out = run_legacy(legacy_python, LEGACY_SCRIPT, json.dumps(folders), json.dumps(CASES))
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.legacy
@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_seq2seq_pipelines_match_legacy_oracle(tiny_seq2seq, legacy_results, case):
    task, kind, inputs, options = CASES[case]
    assert_close(pipeline(task, model=tiny_seq2seq[kind])(inputs, **options), legacy_results[case])


def test_t5_task_prefix_and_settings_come_from_task_specific_params(tiny_seq2seq):
    summarizer = pipeline("summarization", model=tiny_seq2seq["t5"])
    assert summarizer.prefix == "summarize: "
    assert summarizer.generation_defaults["num_beams"] == 2 and "prefix" not in summarizer.generation_defaults
    assert pipeline("translation_en_to_de", model=tiny_seq2seq["t5"]).prefix == "translate English to German: "
    assert pipeline("translation", model=tiny_seq2seq["marian"]).prefix == ""


def test_batched_translation_equals_one_text_at_a_time(tiny_seq2seq):
    translator = pipeline("translation", model=tiny_seq2seq["marian"])
    texts = [*TEXTS, "Paris", "A much longer sentence to force padding inside the batch of three."]
    options = {"max_new_tokens": 6, "num_beams": 2}
    assert translator(texts, batch_size=3, **options) == translator(texts, **options)
