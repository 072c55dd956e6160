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


def test_fused_qkv_follows_weight_changes():
    """The fused inference weight is rebuilt after loading, optimizer steps and dtype changes."""
    import clearformer

    torch.manual_seed(0)
    config = clearformer.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
    model = clearformer.BertModel(config).eval()
    ids = torch.tensor([[5, 6, 7, 8]])

    def both():
        with torch.no_grad():
            fused = model(ids).last_hidden_state  # no grad: fused path
        separate = model(ids).last_hidden_state.detach()  # grad enabled: separate layers
        return fused, separate

    fused, separate = both()
    assert (fused - separate).abs().max() < 1e-5
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model(ids).last_hidden_state.sum().backward()
    opt.step()  # in-place update: the cached fused weight must notice
    fused2, separate2 = both()
    assert (fused2 - separate2).abs().max() < 1e-5 and (fused2 - fused).abs().max() > 1e-3
    model.load_state_dict({k: v + 0.1 for k, v in model.state_dict().items()})
    fused3, separate3 = both()
    assert (fused3 - separate3).abs().max() < 1e-5 and (fused3 - fused2).abs().max() > 1e-3
    assert "_fused_projection" not in str(list(model.state_dict()))


def test_fused_qkv_works_for_a_model_built_under_inference_mode():
    import clearformer

    config = clearformer.BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=8)
    with torch.inference_mode():
        model = clearformer.BertModel(config).eval()
        out = model(torch.tensor([[1, 2, 3]])).last_hidden_state
    assert out.shape == (1, 3, 32)


def test_fused_qkv_cache_follows_a_fused_adamw_step():
    # The fused AdamW kernel updates parameters without bumping their version counter; the
    # cached Q/K/V weight must still follow (a training step's forward drops it).
    import clearformer

    torch.manual_seed(0)
    config = clearformer.BertConfig(
        vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=64
    )
    model = clearformer.BertForSequenceClassification(config)
    ids = torch.randint(0, 50, (2, 6))
    model.eval()
    with torch.no_grad():
        model(ids)  # builds the cache
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, fused=True)
    model.train()
    model(ids, labels=torch.tensor([0, 1])).loss.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        fast = model(ids).logits
    with torch.enable_grad():
        reference = model(ids).logits.detach()  # the unfused path, straight from the weights
    assert (fast - reference).abs().max() < 1e-5


packed_available = pytest.mark.skipif(
    not __import__("clearformer.nn.packed", fromlist=["_bf16_available"])._bf16_available(),
    reason="this CPU build has no oneDNN bf16 support (the packed bf16 path is off)",
)


@packed_available
def test_packed_bf16_conv1d_and_lm_head_match_the_plain_path():
    """GPT-2 in bf16 on CPU: the packed oneDNN path gives the plain matmul's numbers (bf16 rounding)."""
    from clearformer.models.gpt2.configuration_gpt2 import GPT2Config
    from clearformer.models.gpt2.modeling_gpt2 import GPT2LMHeadModel
    from clearformer.nn import packed
    from clearformer.nn.conv1d import Conv1D

    torch.manual_seed(0)
    layer = Conv1D(48, 32).to(torch.bfloat16)
    x = torch.randn(3, 5, 32, dtype=torch.bfloat16)
    with torch.no_grad():
        fast = layer(x)
        plain = (x.float() @ layer.weight.float() + layer.bias.float()).to(torch.bfloat16)
    assert packed.is_packed(layer)  # the packed path was taken
    assert fast.shape == (3, 5, 48) and (fast.float() - plain.float()).abs().max() < 0.05
    assert list(layer.state_dict()) == ["weight", "bias"]

    config = GPT2Config(vocab_size=99, n_positions=32, n_embd=32, n_layer=2, n_head=4, bos_token_id=98, eos_token_id=98)
    model = GPT2LMHeadModel(config).eval().to(torch.bfloat16)
    ids = torch.randint(0, 99, (2, 7))
    with torch.no_grad():
        fast = model(ids).logits.float()
    assert packed.is_packed(model.lm_head)
    with torch.enable_grad():  # a recording forward takes the plain path and drops the packed copies
        plain = model(ids).logits.detach().float()
    assert not packed.is_packed(model.lm_head)
    assert (fast - plain).abs().max() < 0.05 * plain.abs().max()
    with torch.no_grad():
        greedy_fast = model.generate(ids[:1], max_new_tokens=5, do_sample=False)
    assert greedy_fast.shape == (1, 12)


@packed_available
def test_packed_bf16_weight_follows_training_and_loading():
    """Stale packed weights would silently decode with old numbers: they must follow every change."""
    from clearformer.nn.conv1d import Conv1D

    torch.manual_seed(0)
    layer = Conv1D(16, 8).to(torch.bfloat16)
    x = torch.randn(4, 8, dtype=torch.bfloat16)

    def fast_and_plain():
        with torch.no_grad():
            fast = layer(x).float()
        return fast, (x.float() @ layer.weight.float() + layer.bias.float())

    before, _ = fast_and_plain()
    optimizer = torch.optim.AdamW(layer.parameters(), lr=0.5, fused=True)  # does not bump versions
    layer(x).float().sum().backward()
    optimizer.step()
    after, plain = fast_and_plain()
    assert (after - plain).abs().max() < 0.05 and (after - before).abs().max() > 0.1
    layer.load_state_dict({"weight": layer.weight.detach() * -1, "bias": layer.bias.detach()})
    flipped, plain = fast_and_plain()
    assert (flipped - plain).abs().max() < 0.05 and (flipped - after).abs().max() > 0.1


@packed_available
def test_packed_bf16_bert_matches_the_plain_path():
    """BERT in bf16 on CPU: fused QKV, dense layers and GELU post-op vs the recording (plain) path."""
    import clearformer
    from clearformer.nn import packed

    torch.manual_seed(0)
    config = clearformer.BertConfig(
        vocab_size=60, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=96
    )
    model = clearformer.BertModel(config).eval().to(torch.bfloat16)
    ids = torch.randint(0, 60, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    with torch.no_grad():
        fast = model(ids, attention_mask=mask).last_hidden_state.float()
    layer = model.encoder.layer[0]
    assert packed.is_packed(layer.intermediate.dense) and packed.is_packed(layer.attention.self)
    with torch.enable_grad():
        plain = model(ids, attention_mask=mask).last_hidden_state.detach().float()
    assert not packed.is_packed(layer.intermediate.dense)
    # bf16 keeps 8 bits of mantissa: LayerNorm outputs of order 1 differ by a few units of 2^-7
    assert (fast - plain).abs().max() < 0.1
    assert torch.nn.functional.cosine_similarity(fast.flatten(), plain.flatten(), dim=0) > 0.999


@pytest.mark.skipif(
    not __import__("clearformer.nn.packed", fromlist=["_fp32_available"])._fp32_available(),
    reason="this torch build has no MKL (the packed fp32 path is off)",
)
def test_packed_fp32_only_for_a_repeated_shape_and_survives_deepcopy():
    """fp32 packs for one row count: only when it repeats, within float rounding of the plain GEMM."""
    from clearformer.nn import packed

    torch.manual_seed(0)
    layer = torch.nn.Linear(64, 96)
    plain = torch.nn.functional.linear
    with torch.no_grad():  # off by default: the same shape twice stays on the plain path
        x = torch.randn(16, 64)
        packed.linear(layer, x), packed.linear(layer, x)
        assert not packed.is_packed(layer)
    packed.allow_fp32_packing()
    try:
        _check_fp32_packing(layer, plain)
    finally:
        packed.allow_fp32_packing(False)


def _check_fp32_packing(layer, plain):
    import copy

    from clearformer.nn import packed

    with torch.no_grad():
        x16, x12 = torch.randn(2, 8, 64), torch.randn(3, 4, 64)
        first = packed.linear(layer, x16)
        assert not packed.is_packed(layer)  # a new shape: plain path
        second = packed.linear(layer, x16)
        assert packed.is_packed(layer)  # the same shape again: packed
        assert torch.equal(first, plain(x16, layer.weight, layer.bias))
        assert (second - first).abs().max() < 1e-5
        other = packed.linear(layer, x12)  # another shape runs on the plain path (the pack stays)
        assert torch.equal(other, plain(x12, layer.weight, layer.bias))
        assert torch.equal(packed.linear(layer, x16), second)  # back to 16 rows: the same pack
        packed.linear(layer, x16), packed.linear(layer, x16)
        twin = copy.deepcopy(layer)  # the packed buffer is not copied: the twin packs its own
        assert not packed.is_packed(twin)
        twin.weight.mul_(-1)
        assert (packed.linear(twin, x16) + packed.linear(layer, x16) - 2 * layer.bias).abs().max() < 1e-4
        assert (packed.linear(twin, x16) - plain(x16, twin.weight, twin.bias)).abs().max() < 1e-5
    assert (layer(x16) - second).abs().max() < 1e-5  # module call unaffected


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
