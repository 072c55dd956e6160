"""The single-query attention kernel (nn/csrc/decode_attention.cpp) and the "sdpa_decode" dispatch.

The kernel is checked against float64 softmax attention (and torch's SDPA on the same inputs);
the dispatch against "sdpa" on whole models: same greedy tokens, logits within fp32 tolerance.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import clearformer
from clearformer.inference import optimize_for_inference
from clearformer.nn import cpu_kernels
from clearformer.nn.attention import attention

_REASON = cpu_kernels._unavailable_reason()
# Skipped only where the machine cannot have the kernel; where it can, a failed build fails here.
needs_kernel = pytest.mark.skipif(_REASON is not None, reason=f"decode-attention kernel unavailable: {_REASON}")


def _reference(q, k, v, mask, scale):
    scores = (q.double() @ k.double().transpose(-1, -2)) * scale
    if mask is not None:
        scores = scores + mask.double()
    return (scores.softmax(-1) @ v.double()).float()


def _op():
    assert cpu_kernels.decode_attention_available()
    return cpu_kernels.loaded_decode_attention()


@needs_kernel
@pytest.mark.parametrize(
    "b,h,keys,d",
    [(1, 12, 48, 64), (8, 12, 48, 64), (2, 3, 1, 7), (3, 2, 37, 100), (1, 1, 700, 128), (2, 4, 17, 80)],
)
@pytest.mark.parametrize("mask_shape", [None, "b11l", "bh1l", "111l"])
def test_kernel_matches_float64_attention_for_any_width_length_and_mask_broadcast(b, h, keys, d, mask_shape):
    g = torch.Generator().manual_seed(b * 1000 + keys + d)
    q, k, v = (torch.randn(b, h, n, d, generator=g) * 2 for n in (1, keys, keys))
    shapes = {"b11l": (b, 1, 1, keys), "bh1l": (b, h, 1, keys), "111l": (1, 1, 1, keys)}
    mask = None if mask_shape is None else torch.randn(shapes[mask_shape], generator=g)
    if mask is not None and keys > 1:
        mask[..., 0] = float("-inf")  # one masked key per row, never all of them
    scale = 1 / math.sqrt(d)
    out = _op()(q, k, v, mask, scale)
    assert out.shape == (b, h, 1, d)
    expected = _reference(q, k, v, mask, scale)
    assert (out - expected).abs().max() < 1e-5
    assert (out - F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)).abs().max() < 1e-5


@needs_kernel
def test_kernel_reads_strided_views_as_they_come_from_split_heads_and_a_cache():
    fused = torch.randn(2, 1, 3 * 96)  # one token's fused q|k|v, as a GPT-2 step makes it
    q = fused[..., :96].view(2, 1, 6, 16).permute(0, 2, 1, 3)  # (B, H, 1, D), not contiguous
    cache = torch.randn(2, 6, 40, 16)
    k, v = cache[:, :, :25], torch.randn(2, 6, 40, 16)[:, :, :25]  # the written part of a buffer
    assert not q.is_contiguous() and not k.is_contiguous()
    assert (_op()(q, k, v, None, 0.25) - _reference(q, k, v, None, 0.25)).abs().max() < 1e-5


@needs_kernel
def test_masked_keys_are_not_read_so_whatever_they_hold_weighs_nothing():
    q, k, v = torch.randn(1, 2, 1, 32), torch.randn(1, 2, 6, 32), torch.randn(1, 2, 6, 32)
    mask = torch.zeros(1, 1, 1, 6)
    mask[..., 3:] = float("-inf")  # like unwritten slots of a fixed-size cache
    out = _op()(q, k, v, mask, 0.2)
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 3:], v2[:, :, 3:] = float("nan"), float("inf")  # garbage in the masked slots: never read
    assert torch.equal(_op()(q, k2, v2, mask, 0.2), out)
    assert (out - _reference(q[..., :], k[:, :, :3], v[:, :, :3], None, 0.2)).abs().max() < 1e-6


@needs_kernel
def test_a_row_with_every_key_masked_gives_zeros_and_a_nan_gives_nan_as_sdpa_does():
    q, k, v = torch.randn(2, 2, 1, 16), torch.randn(2, 2, 5, 16), torch.randn(2, 2, 5, 16)
    mask = torch.zeros(2, 1, 1, 5)
    mask[0] = float("-inf")  # batch row 0 sees nothing
    q[1, 1, 0, 3] = float("nan")  # batch row 1, head 1: a NaN query
    out = _op()(q, k, v, mask, 0.25)
    sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.25)
    assert torch.equal(out[0], torch.zeros_like(out[0])) and torch.equal(sdpa[0], out[0])
    assert out[1, 1].isnan().all() and sdpa[1, 1].isnan().all()
    assert (out[1, 0] - _reference(q[1:, :1], k[1:, :1], v[1:, :1], mask[1:], 0.25)[0, 0]).abs().max() < 1e-5


@needs_kernel
def test_kernel_refuses_inputs_it_cannot_take_with_the_reason():
    q, k = torch.randn(1, 2, 1, 8), torch.randn(1, 2, 4, 8)
    with pytest.raises(RuntimeError, match="query length 1"):
        _op()(torch.randn(1, 2, 3, 8), k, k, None, 1.0)
    with pytest.raises(RuntimeError, match="float32"):
        _op()(q.double(), k.double(), k.double(), None, 1.0)
    with pytest.raises(RuntimeError, match="same B, H and D|query's B, H and D"):
        _op()(q, torch.randn(1, 2, 4, 9), torch.randn(1, 2, 4, 9), None, 1.0)


@needs_kernel
def test_dispatch_takes_the_kernel_for_one_query_and_sdpa_for_the_rest():
    q1, k, v = torch.randn(2, 3, 1, 16), torch.randn(2, 3, 9, 16), torch.randn(2, 3, 9, 16)
    _op()
    with torch.inference_mode():
        out, weights = attention(q1, k, v, None, implementation="sdpa_decode")
        assert weights is None and torch.equal(out, _op()(q1, k, v, None, 0.25))  # default scale 1/sqrt(D)
        q4 = torch.randn(2, 3, 4, 16)  # a prompt: several queries
        assert torch.equal(
            attention(q4, k, v, None, implementation="sdpa_decode")[0],
            attention(q4, k, v, None, implementation="sdpa")[0],
        )
        half = attention(q1.bfloat16(), k.bfloat16(), v.bfloat16(), None, implementation="sdpa_decode")[0]
        assert half.dtype == torch.bfloat16  # the kernel is fp32 only: SDPA takes other dtypes
    # a forward that records gradients takes SDPA, which has a backward
    leaf = q1.clone().requires_grad_(True)
    out, _ = attention(leaf, k, v, None, implementation="sdpa_decode")
    out.sum().backward()
    assert leaf.grad is not None and leaf.grad.abs().sum() > 0


def test_dispatch_without_the_loaded_kernel_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(cpu_kernels, "_DECODE_ATTENTION", None)
    with torch.inference_mode(), pytest.raises(RuntimeError, match="optimize_for_inference"):
        q, kv = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 3, 8)
        attention(q, kv, kv, implementation="sdpa_decode")


def _gpt2() -> clearformer.GPT2LMHeadModel:
    torch.manual_seed(0)
    cfg = clearformer.GPT2Config(vocab_size=120, n_positions=64, n_embd=48, n_layer=2, n_head=4,
                                 bos_token_id=119, eos_token_id=None, pad_token_id=0)  # fmt: skip
    return clearformer.GPT2LMHeadModel(cfg).eval()


@needs_kernel
def test_optimize_for_inference_switches_a_cpu_model_to_the_kernel_with_the_same_tokens():
    plain, optimized = _gpt2(), optimize_for_inference(_gpt2())
    assert plain.config._attn_implementation == "sdpa"
    assert optimized.config._attn_implementation == "sdpa_decode"
    ids = torch.randint(1, 119, (3, 7), generator=torch.Generator().manual_seed(3))
    mask = torch.ones_like(ids)
    ids[1, :3], mask[1, :3] = 0, 0  # left padding: masked keys in every decoding step
    greedy = dict(attention_mask=mask, max_new_tokens=12, do_sample=False)
    with torch.inference_mode():
        assert torch.equal(optimized.generate(ids, **greedy), plain.generate(ids, **greedy))
        # the per-step logits of the cached decoding path agree to fp32 tolerance
        out_p = plain(ids, attention_mask=mask, use_cache=True)
        out_o = optimized(ids, attention_mask=mask, use_cache=True)
        step = torch.randint(1, 119, (3, 1), generator=torch.Generator().manual_seed(4))
        longer = torch.cat([mask, torch.ones_like(step)], dim=1)
        a = plain(step, attention_mask=longer, cache=out_p.past_key_values, use_cache=True).logits
        b = optimized(step, attention_mask=longer, cache=out_o.past_key_values, use_cache=True).logits
    assert (a - b).abs().max() < 1e-5


@needs_kernel
def test_only_models_that_attend_in_fp32_on_cpu_are_switched():
    assert optimize_for_inference(_gpt2(), quantize="w8a8").config._attn_implementation == "sdpa_decode"
    # bf16 attention never takes the fp32 kernel: the config says so instead of promising it
    assert optimize_for_inference(_gpt2(), dtype=torch.bfloat16).config._attn_implementation == "sdpa"
    eager = _gpt2()
    eager.config._attn_implementation = "eager"  # an explicit choice is left alone
    assert optimize_for_inference(eager).config._attn_implementation == "eager"


@needs_kernel
def test_from_pretrained_accepts_sdpa_decode_and_names_the_choices_otherwise(tmp_path):
    _gpt2().save_pretrained(tmp_path)
    model = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path, attn_implementation="sdpa_decode")
    assert model.config._attn_implementation == "sdpa_decode"
    with pytest.raises(ValueError, match="sdpa_decode"):
        clearformer.GPT2LMHeadModel.from_pretrained(tmp_path, attn_implementation="flash")
