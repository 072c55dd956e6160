"""The opt-in compiled inference path gives the eager model's numbers."""

from __future__ import annotations

import pytest
import torch

import clearformer


def test_compile_for_inference_matches_eager():
    torch.manual_seed(0)
    config = clearformer.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    model = clearformer.BertModel(config).eval()
    ids = torch.randint(0, 99, (2, 7))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0  # padding inside the batch
    compiled = clearformer.compile_for_inference(model)
    with torch.no_grad():
        eager = model(input_ids=ids, attention_mask=mask).last_hidden_state
        fast = compiled(input_ids=ids, attention_mask=mask).last_hidden_state
    assert (eager - fast).abs().max() < 1e-5
    assert model.training is False and compiled is not model  # the model itself stays eager


def test_the_deprecated_model_method_warns_and_delegates_to_compile_for_inference():
    model = clearformer.BertModel(
        clearformer.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    )
    with pytest.warns(DeprecationWarning, match=r"clearformer\.compile_for_inference\(model"):
        compiled = model.compiled_for_inference()
    assert compiled is not model and model.training is False  # compiles lazily: nothing runs here
