"""generate() against transformers 5.24 on the same tiny model: token for token."""

from __future__ import annotations

import pytest
import torch
from conftest import EOS


def _both(models, ids, mask, **kwargs):
    ref, ours = models
    expected = ref.generate(ids, attention_mask=mask, **kwargs)
    got = ours.generate(ids, attention_mask=mask, **kwargs)
    return expected, got


@pytest.mark.parametrize("cache", ["static", "dynamic"])
def test_greedy_matches_reference_on_left_padded_batch(models, padded_batch, cache):
    ids, mask = padded_batch
    ref, ours = models
    expected = ref.generate(ids, attention_mask=mask, max_new_tokens=20, do_sample=False)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=20, cache_implementation=cache)
    assert torch.equal(expected, got)


def test_greedy_with_several_eos_ids_stops_and_pads_like_reference(models, padded_batch):
    ids, mask = padded_batch
    expected, got = _both(models, ids, mask, max_new_tokens=30, eos_token_id=EOS + [40, 41, 60], do_sample=False)
    assert torch.equal(expected, got)


def test_greedy_with_processors_matches_reference(models, padded_batch):
    ids, mask = padded_batch
    expected, got = _both(
        models,
        ids,
        mask,
        max_new_tokens=15,
        do_sample=False,
        repetition_penalty=1.3,
        no_repeat_ngram_size=2,
        min_new_tokens=5,
    )
    assert torch.equal(expected, got)


def test_greedy_without_cache_matches_reference(models, padded_batch):
    ids, mask = padded_batch
    expected, got = _both(models, ids, mask, max_new_tokens=8, do_sample=False, use_cache=False)
    assert torch.equal(expected, got)


@pytest.mark.parametrize(
    "settings",
    [
        dict(num_beams=4),
        dict(num_beams=3, length_penalty=0.5, num_return_sequences=2),
        dict(num_beams=4, early_stopping=True, eos_token_id=EOS + [40, 41, 60]),
        dict(num_beams=2, early_stopping="never", length_penalty=2.0, eos_token_id=[40, 41, 60, 70]),
    ],
)
def test_beam_search_matches_reference(models, padded_batch, settings):
    ids, mask = padded_batch
    expected, got = _both(models, ids, mask, max_new_tokens=12, do_sample=False, **settings)
    assert torch.equal(expected, got)


@pytest.mark.parametrize(
    "settings",
    [
        dict(top_k=0),
        dict(temperature=0.7, top_k=20),
        dict(top_p=0.8, top_k=0),
        dict(min_p=0.1, temperature=1.5, top_k=0),
        dict(repetition_penalty=1.2, top_k=10, top_p=0.9, num_return_sequences=2),
    ],
)
def test_seeded_sampling_matches_reference(models, padded_batch, settings):
    ids, mask = padded_batch
    ref, ours = models
    torch.manual_seed(1234)
    expected = ref.generate(ids, attention_mask=mask, max_new_tokens=12, do_sample=True, **settings)
    torch.manual_seed(1234)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=12, do_sample=True, **settings)
    assert torch.equal(expected, got)


def test_generator_argument_gives_reproducible_samples(models, padded_batch):
    ids, mask = padded_batch
    _, ours = models
    runs = [
        ours.generate(
            ids, attention_mask=mask, max_new_tokens=10, do_sample=True, generator=torch.Generator().manual_seed(7)
        )
        for _ in range(2)
    ]
    other = ours.generate(
        ids, attention_mask=mask, max_new_tokens=10, do_sample=True, generator=torch.Generator().manual_seed(8)
    )
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], other)


def test_beam_sampling_matches_reference(models, padded_batch):
    ids, mask = padded_batch
    ref, ours = models
    torch.manual_seed(5)
    expected = ref.generate(ids, attention_mask=mask, max_new_tokens=8, do_sample=True, num_beams=3)
    torch.manual_seed(5)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=8, do_sample=True, num_beams=3)
    assert torch.equal(expected, got)


def test_greedy_takes_the_first_of_tied_maxima_as_the_reference_argmax_does():
    import clearformer

    cfg = clearformer.GPT2Config(vocab_size=50, n_positions=16, n_embd=16, n_layer=1, n_head=2, bos_token_id=49,
                                 eos_token_id=49)  # fmt: skip
    model = clearformer.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        model.transformer.wte.weight.zero_()  # tied to the LM head: every logit is 0, all tied
        model.transformer.wte.weight[[7, 30], 0] = 1.0  # two tokens tie above the rest wherever h[0] > 0
        model.transformer.ln_f.bias.fill_(0.0)
        model.transformer.ln_f.bias[0] = 5.0  # h[0] > 0 after the last norm, whatever came before
    ids = torch.tensor([[1, 2, 3]])
    out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False)
    assert out[0, 3:].tolist() == [7, 7, 7, 7]
