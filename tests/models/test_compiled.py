"""The opt-in compiled inference path gives the eager model's numbers."""

from __future__ import annotations

import torch

import clearformer


def test_compiled_for_inference_matches_eager():
    torch.manual_seed(0)
    config = clearformer.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    model = clearformer.BertModel(config).eval()
    ids = torch.randint(0, 99, (2, 7))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0  # padding inside the batch
    compiled = model.compiled_for_inference()
    with torch.no_grad():
        eager = model(input_ids=ids, attention_mask=mask).last_hidden_state
        fast = compiled(input_ids=ids, attention_mask=mask).last_hidden_state
    assert (eager - fast).abs().max() < 1e-5
    assert model.training is False and compiled is not model  # the model itself stays eager
