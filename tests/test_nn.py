"""Building blocks: attention paths, masks, positions, caches."""

from __future__ import annotations

import math

import pytest
import torch

from clearformer.nn import (
    DynamicCache,
    attention,
    causal_mask,
    eager_attention,
    merge_heads,
    padding_mask,
    sinusoidal_table,
    split_heads,
)


def test_eager_and_sdpa_agree_with_masks_and_different_lengths():
    g = torch.Generator().manual_seed(0)
    q, k, v = (
        torch.randn(2, 4, 12, 8, generator=g),
        torch.randn(2, 4, 10, 8, generator=g),
        torch.randn(2, 4, 10, 8, generator=g),
    )
    mask = padding_mask(torch.tensor([[1] * 10, [1] * 7 + [0] * 3]), torch.float32)
    a, w = attention(q, k, v, mask, need_weights=True)
    b, none = attention(q, k, v, mask)
    assert none is None and w.shape == (2, 4, 12, 10)
    assert (a - b).abs().max() < 1e-5
    assert w[1, :, :, 7:].abs().max() == 0  # padded keys get no weight


def test_eager_attention_is_the_textbook_formula():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 1, 5, 16, generator=g) for _ in range(3))
    out, w = eager_attention(q, k, v)
    want = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(16), -1)
    assert torch.allclose(w, want) and torch.allclose(out, want @ v)


def test_key_and_value_lengths_must_match():
    with pytest.raises(ValueError, match="same length"):
        attention(torch.zeros(1, 1, 3, 4), torch.zeros(1, 1, 5, 4), torch.zeros(1, 1, 6, 4))


def test_split_and_merge_heads_are_inverse():
    x = torch.randn(2, 7, 12)
    h = split_heads(x, 3)
    assert h.shape == (2, 3, 7, 4)
    assert torch.equal(h[:, 1], x[:, :, 4:8])
    assert torch.equal(merge_heads(h), x)


def test_causal_mask_with_past_and_padding():
    m = causal_mask(2, 5, torch.float32, torch.tensor([[0, 1, 1, 1, 1]]))
    allowed = m[0, 0] == 0
    assert allowed.tolist() == [[False, True, True, True, False], [False, True, True, True, True]]


@pytest.mark.parametrize("dim", [6, 7])
def test_sinusoidal_layouts(dim):
    inter = sinusoidal_table(20, dim, "interleaved")
    half = sinusoidal_table(20, dim, "half")
    pos, i = 13, 1
    angle = pos / 10000 ** (2 * i / dim)
    assert inter[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
    assert inter[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)
    n_sin = (dim + 1) // 2
    assert half[pos, i] == pytest.approx(math.sin(angle), abs=1e-6)
    assert half[pos, n_sin + i] == pytest.approx(math.cos(angle), abs=1e-6)
    assert inter.shape == half.shape == (20, dim)


def test_dynamic_cache_update_crop_reorder_and_legacy():
    cache = DynamicCache()
    k = torch.arange(2 * 1 * 3 * 2, dtype=torch.float).view(2, 1, 3, 2)
    cache.update(k, k + 100, 0)
    full_k, full_v = cache.update(k[:, :, :1], k[:, :, :1] + 100, 0)
    assert cache.get_seq_length() == 4 and full_k.shape == (2, 1, 4, 2)
    cache.reorder_cache(torch.tensor([1, 1]))
    assert torch.equal(cache[0][0][0], cache[0][0][1])
    cache.crop(2)
    assert cache.get_seq_length() == 2
    again = DynamicCache.from_legacy_cache(cache.to_legacy_cache())
    assert torch.equal(again[0][1], cache[0][1])


def test_an_all_ones_attention_mask_is_dropped_and_changes_nothing():
    """No padding -> no additive mask (SDPA's faster unmasked kernel); outputs equal bit for bit."""
    import clearformer
    from clearformer.nn.masks import padding_mask_or_none

    assert padding_mask_or_none(torch.ones(2, 5, dtype=torch.long), torch.float32) is None
    assert padding_mask_or_none(None, torch.float32) is None
    padded = padding_mask_or_none(torch.tensor([[1, 1, 0]]), torch.float32)
    assert padded.shape == (1, 1, 1, 3) and padded[0, 0, 0, 2] == torch.finfo(torch.float32).min

    torch.manual_seed(0)
    config = clearformer.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
    model = clearformer.BertModel(config).eval()
    ids = torch.randint(0, 50, (2, 6))
    with torch.no_grad():
        with_ones = model(ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        without = model(ids).last_hidden_state
        explicit = model.encoder(model.embeddings(ids), torch.zeros(2, 1, 1, 6))[0]
    assert torch.equal(with_ones, without)
    assert (explicit - without).abs().max() < 1e-6
