"""Cached decoding equals full recomputation (1e-5), for the dynamic and the static cache."""

from __future__ import annotations

import pytest
import torch

from clearformer.nn.cache import DynamicCache, StaticCache

ATOL = 1e-5


def _cache(kind, model, max_length=40):
    return StaticCache(max_length, model.config.n_layer) if kind == "static" else DynamicCache()


@pytest.mark.parametrize("kind", ["dynamic", "static"])
@pytest.mark.parametrize("chunk", [1, 3])
def test_cached_decoding_matches_full_forward(models, padded_batch, kind, chunk):
    _, model = models
    ids, mask = padded_batch
    extra = torch.randint(6, 97, (3, 9), generator=torch.Generator().manual_seed(2))
    full_ids = torch.cat([ids, extra], dim=1)
    full_mask = torch.cat([mask, torch.ones_like(extra)], dim=1)
    positions = (full_mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        full = model(full_ids, attention_mask=full_mask, position_ids=positions).logits
        cache = _cache(kind, model)
        pieces = [model(ids, attention_mask=mask, position_ids=positions[:, :9], cache=cache).logits]
        for start in range(9, full_ids.shape[1], chunk):
            end = min(start + chunk, full_ids.shape[1])
            out = model(
                full_ids[:, start:end],
                attention_mask=full_mask[:, :end],
                position_ids=positions[:, start:end],
                past_key_values=cache,
            )
            assert out.past_key_values is cache and out.cache is cache
            pieces.append(out.logits)
    real = full_mask.bool()
    torch.testing.assert_close(torch.cat(pieces, dim=1)[real], full[real], atol=ATOL, rtol=0)


@pytest.mark.parametrize("kind", ["dynamic", "static"])
def test_changing_masked_prefix_tokens_does_not_change_outputs(models, padded_batch, kind):
    _, model = models
    ids, mask = padded_batch
    other = ids.masked_fill(mask == 0, 77)  # same text, different (masked) pad tokens
    outs = []
    for prompt in (ids, other):
        outs.append(model.generate(prompt, attention_mask=mask, max_new_tokens=10, cache_implementation=kind))
        with torch.no_grad():
            logits = model(prompt, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0)).logits
        outs.append(logits[mask.bool()])
    assert torch.equal(outs[0][:, 9:], outs[2][:, 9:])
    torch.testing.assert_close(outs[1], outs[3], atol=ATOL, rtol=0)


def test_legacy_tuple_cache_is_accepted(models):
    _, model = models
    ids = torch.randint(6, 97, (2, 7))
    with torch.no_grad():
        first = model(ids[:, :5])
        legacy = first.past_key_values.to_legacy_cache()
        step = model(ids[:, 5:], past_key_values=legacy).logits
        full = model(ids).logits
    torch.testing.assert_close(step, full[:, 5:], atol=ATOL, rtol=0)


def test_static_cache_reorder_and_crop_follow_dynamic_cache():
    g = torch.Generator().manual_seed(0)
    static, dynamic = StaticCache(10, 2), DynamicCache()
    for layer in range(2):
        k, v = torch.randn(3, 2, 4, 5, generator=g), torch.randn(3, 2, 4, 5, generator=g)
        static.update(k, v, layer)
        dynamic.update(k, v, layer)
    assert static.get_seq_length() == dynamic.get_seq_length() == 4
    order = torch.tensor([2, 2, 0])
    static.reorder_cache(order)
    dynamic.reorder_cache(order)
    static.crop(3)
    dynamic.crop(3)
    for layer in range(2):
        for a, b in zip(static[layer], dynamic[layer]):
            assert torch.equal(a, b)
    with pytest.raises(ValueError, match="max_length"):
        for layer in range(2):
            static.update(torch.zeros(3, 2, 8, 5), torch.zeros(3, 2, 8, 5), layer)


def test_use_cache_false_returns_no_cache(models):
    _, model = models
    with torch.no_grad():
        out = model(torch.randint(6, 97, (1, 4)), use_cache=False)
    assert out.past_key_values is None
