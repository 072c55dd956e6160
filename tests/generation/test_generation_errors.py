"""Bad generate() input fails once, on entry, with a message that says what to do."""

from __future__ import annotations

import pytest
import torch


def test_prompt_plus_new_tokens_beyond_positions_is_an_error(models):
    _, model = models  # n_positions = 64
    prompt = torch.randint(6, 97, (1, 60))
    with pytest.raises(ValueError, match="exceeds the model's 64 positions"):
        model.generate(prompt, max_new_tokens=5)
    with pytest.raises(ValueError, match="n_positions"):
        model(torch.randint(6, 97, (1, 65)))


@pytest.mark.parametrize("n", [0, -3])
def test_max_new_tokens_must_be_positive(models, n):
    _, model = models
    with pytest.raises(ValueError, match="max_new_tokens must be a positive"):
        model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=n)


@pytest.mark.parametrize("top_p", [0.0, -0.1, 1.5])
def test_top_p_outside_unit_interval_is_an_error(models, top_p):
    _, model = models
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\]"):
        model.generate(torch.randint(6, 97, (1, 4)), do_sample=True, top_p=top_p, max_new_tokens=2)


def test_more_beams_than_vocabulary_is_an_error(models):
    _, model = models
    with pytest.raises(ValueError, match="larger than the vocabulary"):
        model.generate(torch.randint(6, 97, (1, 4)), num_beams=98, max_new_tokens=2)


def test_batched_prompts_without_pad_token_or_mask_is_an_error(models):
    _, model = models
    config = model.generation_config.copy()
    config.pad_token_id = None
    with pytest.raises(ValueError, match="needs an attention_mask"):
        model.generate(torch.randint(6, 97, (2, 4)), generation_config=config, max_new_tokens=2)


def test_other_bad_settings_are_errors(models):
    _, model = models
    prompt = torch.randint(6, 97, (1, 4))
    with pytest.raises(ValueError, match="temperature"):
        model.generate(prompt, do_sample=True, temperature=0.0, max_new_tokens=2)
    with pytest.raises(TypeError, match="unknown arguments"):
        model.generate(prompt, max_new_token=2)
    with pytest.raises(IndexError, match="embedding has 97 rows"):
        model.generate(torch.tensor([[5, 400]]), max_new_tokens=2)
    with pytest.raises(ValueError, match="max_length"):
        model.generate(prompt, max_length=3)


@pytest.mark.parametrize("name", ["eos_token_id", "pad_token_id"])
def test_special_token_id_outside_the_vocabulary_is_an_error(models, name):
    # e.g. a small GPT-2 config that kept the default eos 50256: min_new_tokens would index past
    # the logits; the reference only warns about it.
    _, model = models
    with pytest.raises(ValueError, match=f"{name} 500 is outside the model's vocabulary of 97"):
        model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=2, min_new_tokens=2, **{name: 500})
