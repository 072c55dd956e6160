"""zero-shot-classification and text-generation equal transformers 5.24."""

from __future__ import annotations

import pytest
import torch

from clearformer.pipelines import pipeline

from .conftest import assert_close, transformers

TEXTS = ["I've been waiting for a HuggingFace course my whole life.", "The match ended in a draw after extra time."]


@pytest.fixture(scope="module")
def zero_shot(tiny):
    folder = tiny("nli")
    return (
        pipeline("zero-shot-classification", model=folder),
        transformers.pipeline("zero-shot-classification", model=str(folder)),
    )


@pytest.mark.parametrize(
    "inputs, options",
    [
        (TEXTS[0], {"candidate_labels": ["education", "politics", "sports"]}),
        (TEXTS, {"candidate_labels": "sports, politics, cooking", "multi_label": True}),
        (TEXTS[1], {"candidate_labels": ["sports"], "hypothesis_template": "This text is about {}."}),
    ],
)
def test_zero_shot_matches_oracle(zero_shot, inputs, options):
    ours, ref = zero_shot
    assert_close(ours(inputs, **options), ref(inputs, **options))


def test_zero_shot_takes_labels_positionally_and_uses_the_entailment_id(zero_shot):
    ours, _ = zero_shot
    assert ours.entailment_id == 2  # contradiction, neutral, entailment
    result = ours(TEXTS[0], ["a", "b"])
    assert sorted(result["labels"]) == ["a", "b"] and abs(sum(result["scores"]) - 1) < 1e-6


def test_zero_shot_template_without_placeholder_is_refused(zero_shot):
    with pytest.raises(ValueError, match="no {}"):
        zero_shot[0](TEXTS[0], candidate_labels=["a"], hypothesis_template="No slot here.")
    with pytest.raises(ValueError, match="candidate_labels"):
        zero_shot[0](TEXTS[0])


@pytest.fixture(scope="module")
def generators(tiny_gpt2):
    return pipeline("text-generation", model=tiny_gpt2), transformers.pipeline("text-generation", model=str(tiny_gpt2))


PROMPTS = ["Hello, my dog is", "The meaning of life is that we"]


@pytest.mark.parametrize(
    "inputs, options",
    [
        (PROMPTS[0], {"max_new_tokens": 8, "do_sample": False}),
        (PROMPTS, {"max_new_tokens": 6, "do_sample": False, "return_full_text": False}),
        (PROMPTS[1], {"max_new_tokens": 5, "do_sample": False, "num_beams": 3, "num_return_sequences": 2}),
        (PROMPTS[0], {"max_new_tokens": 4, "do_sample": False, "return_tensors": True}),
    ],
)
def test_text_generation_matches_oracle(generators, inputs, options):
    ours, ref = generators
    assert_close(ours(inputs, **options), ref(inputs, **options))


def test_batched_generation_equals_one_prompt_at_a_time(generators):
    ours, _ = generators
    prompts = [*PROMPTS, "x"]
    one_by_one = ours(prompts, max_new_tokens=6, do_sample=False)
    assert ours(prompts, max_new_tokens=6, do_sample=False, batch_size=3) == one_by_one


def test_generation_rejects_unknown_options(generators):
    with pytest.raises(TypeError, match="max_new_tokenz"):
        generators[0](PROMPTS[0], max_new_tokenz=3)


def test_seeded_sampling_is_reproducible_and_defaults_to_sampling(generators):
    ours, _ = generators

    def sample(seed):
        return ours(PROMPTS[0], max_new_tokens=6, generator=torch.Generator().manual_seed(seed))

    assert sample(0) == sample(0)
    assert ours._generation_kwargs({})["do_sample"] is True  # transformers' pipeline default
    assert "temperature" not in ours._generation_kwargs({"do_sample": False})
