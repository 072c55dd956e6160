"""W8A8 int8 layers: the C++ VNNI kernel, torch's _int_mm path and the arithmetic they both promise."""

from __future__ import annotations

import pytest
import torch

import clearformer
from clearformer.inference import optimize_for_inference
from clearformer.inference.int8_linear import Int8WeightOnlyLinear
from clearformer.inference.w8a8_linear import Int8DynamicLinear, quantize_rows, quantize_weight
from clearformer.inference.w8a8_model import Int8FusedQKV, weight_only_rows_default
from clearformer.nn import cpu_kernels

_REASON = cpu_kernels._w8a8_unavailable_reason()
needs_vnni_kernel = pytest.mark.skipif(_REASON is not None, reason=f"W8A8 CPU kernel unavailable: {_REASON}")


def _reference(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """The promised arithmetic in float64: s_x * s_w * (q_x . q_w) + b."""
    qx, sx = quantize_rows(x)
    qw, sw = quantize_weight(weight)
    out = (qx.double() @ qw.double().T) * sx.double() * sw.double()
    return out if bias is None else out + bias.double()


# Shapes that hit every edge of the kernel: k not a multiple of 4, n not a multiple of the 48-wide
# panel or of 16, row counts below, at and above the 8-row pass and the 256-row block.
SHAPES = [(1, 768, 2304), (3, 70, 50), (8, 64, 48), (9, 33, 97), (17, 5, 16), (300, 130, 200)]


@needs_vnni_kernel
@pytest.mark.parametrize("rows,k,n", SHAPES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_the_vnni_kernel_computes_the_promised_integers(rows, k, n, with_bias):
    torch.manual_seed(rows * 1000 + k + n)
    x, weight = torch.randn(rows, k), torch.randn(n, k)
    bias = torch.randn(n) if with_bias else None
    layer = Int8DynamicLinear(weight, bias, kernel="clearformer")
    expected = _reference(x, weight, bias)
    got = layer(x)
    # the integer sums are exact; only the fp32 rescaling rounds
    assert (got.double() - expected).abs().max() <= 1e-5 * max(1.0, expected.abs().max().item())


@pytest.mark.parametrize("rows,k,n", SHAPES)
def test_torch_int_mm_path_computes_the_same_integers(rows, k, n):
    torch.manual_seed(rows + k * n)
    x, weight, bias = torch.randn(rows, k), torch.randn(n, k), torch.randn(n)
    layer = Int8DynamicLinear(weight, bias, kernel="torch")
    assert layer.kernel == "torch"
    expected = _reference(x, weight, bias)
    assert (layer(x).double() - expected).abs().max() <= 1e-5 * max(1.0, expected.abs().max().item())


@needs_vnni_kernel
def test_pack_and_unpack_are_inverse_and_keep_the_int8_weight():
    q = torch.randint(-127, 128, (101, 70), dtype=torch.int8)
    packed = cpu_kernels.pack_w8a8(q)
    assert packed.dtype == torch.uint8 and packed.shape == (3, 18, 48, 4)
    assert torch.equal(cpu_kernels.unpack_w8a8(packed, 101, 70), q)
    layer = Int8DynamicLinear(torch.randn(101, 70), None, kernel="clearformer")
    assert torch.equal(layer.weight_int8_rows(), quantize_weight(layer.dequantized(torch.float32))[0])


def test_an_empty_batch_gives_an_empty_output():
    layer = Int8DynamicLinear(torch.randn(10, 12), torch.randn(10))
    assert layer(torch.randn(0, 12)).shape == (0, 10)
    assert layer(torch.randn(2, 0, 12)).shape == (2, 0, 10)


def test_a_zero_row_stays_zero_plus_bias():
    """absmax 0 must not divide by zero: the row quantizes to zeros and the output is the bias."""
    bias = torch.randn(7)
    layer = Int8DynamicLinear(torch.randn(7, 16), bias)
    assert torch.equal(layer(torch.zeros(3, 16)), bias.expand(3, 7))


def test_three_dimensional_input_keeps_its_shape_and_dtype():
    layer = Int8DynamicLinear(torch.randn(24, 40), torch.randn(24))
    x = torch.randn(2, 5, 40)
    out = layer(x)
    assert out.shape == (2, 5, 24) and out.dtype == torch.float32
    assert torch.allclose(out.view(10, 24), layer(x.view(10, 40)))
    assert layer(x.bfloat16()).dtype == torch.bfloat16


def test_weight_only_rows_take_the_weight_only_layer_and_longer_inputs_take_w8a8():
    weight, bias = torch.randn(32, 64), torch.randn(32)
    layer = Int8DynamicLinear(weight, bias, weight_only_max_rows=4)
    assert isinstance(layer.weight_only, Int8WeightOnlyLinear)
    assert "weight-only up to 4 rows" in repr(layer)
    few, many = torch.randn(4, 64), torch.randn(5, 64)
    assert torch.equal(layer(few), layer.weight_only(few))
    w8a8 = Int8DynamicLinear(weight, bias)
    assert torch.equal(layer(many), w8a8(many))


def _tiny_bert() -> clearformer.BertModel:
    cfg = clearformer.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    cfg.intermediate_size = 64
    return clearformer.BertModel(cfg)


def test_int8_picks_the_weight_only_row_count_for_this_machine():
    model = _tiny_bert().eval()
    optimize_for_inference(model, quantize="int8")
    layers = [m for m in model.modules() if isinstance(m, Int8DynamicLinear)]
    expected = weight_only_rows_default()
    assert all(m.weight_only_max_rows == expected for m in layers)
    assert expected == (0 if cpu_kernels.w8a8_available() else 8)


def test_bert_attention_quantizes_its_input_once_for_query_key_and_value():
    model = _tiny_bert().eval()
    optimize_for_inference(model, quantize="w8a8")
    attn = model.encoder.layer[0].attention.self
    assert isinstance(attn.qkv, Int8FusedQKV) and attn.query is None and attn.key is None
    assert attn.qkv.proj.out_features == 96


def test_a_training_forward_raises_and_gradients_flow_through_a_frozen_layer():
    layer = Int8DynamicLinear(torch.randn(8, 16), torch.randn(8))
    x = torch.randn(3, 16, requires_grad=True)
    out = layer(x)  # straight-through: the value is the W8A8 one, the gradient is x's
    assert torch.allclose(out, layer(x.detach()), atol=1e-5)
    out.sum().backward()
    assert torch.allclose(x.grad, layer.dequantized(torch.float32).sum(0).expand(3, 16), atol=1e-5)
    layer.train()
    with pytest.raises(RuntimeError, match="cannot be trained"):
        layer(x)


def test_asking_for_the_vnni_kernel_where_it_cannot_run_says_why(monkeypatch):
    monkeypatch.setattr(cpu_kernels, "w8a8_available", lambda: False)
    monkeypatch.setattr(cpu_kernels, "w8a8_unavailable_reason", lambda: "the CPU lacks AVX-512 VNNI")
    with pytest.raises(RuntimeError, match="VNNI"):
        Int8DynamicLinear(torch.randn(4, 8), None, kernel="clearformer")
    assert Int8DynamicLinear(torch.randn(4, 8), None).kernel == "torch"
    with pytest.raises(ValueError, match="kernel"):
        Int8DynamicLinear(torch.randn(4, 8), None, kernel="fast")


def test_unknown_quantize_mode_names_the_choices():
    model = _tiny_bert()
    with pytest.raises(ValueError, match="w8a8"):
        optimize_for_inference(model, quantize="int4")


@pytest.mark.parametrize("kernel", ["auto", "torch"])
def test_gelu_in_the_epilogue_matches_torch_gelu_after_the_product(kernel):
    torch.manual_seed(3)
    weight, bias = torch.randn(200, 40), torch.randn(200) * 3
    plain = Int8DynamicLinear(weight, bias, kernel)
    fused = Int8DynamicLinear(weight, bias, kernel, activation="gelu")
    x = torch.randn(37, 40) * 2
    expected = torch.nn.functional.gelu(plain(x).double())
    # the kernel's erf is within 1.5e-7 (Abramowitz & Stegun 7.1.26); torch's fp32 GELU within ~8e-7
    assert ((fused(x).double() - expected).abs() / (1 + expected.abs())).max() < 1e-6
    assert "then gelu" in repr(fused)


def test_bert_ffn_gelu_is_folded_into_the_int8_product_and_the_output_does_not_change():
    torch.manual_seed(4)
    model = _tiny_bert().eval()
    ids = torch.randint(0, 50, (2, 7))
    optimize_for_inference(model, quantize="w8a8")
    ffn = model.encoder.layer[0].intermediate
    assert ffn.dense.activation == "gelu" and "GELU applied inside dense" in repr(ffn.intermediate_act_fn)
    folded = model(ids).last_hidden_state
    ffn.dense.activation = "none"
    ffn.intermediate_act_fn = torch.nn.GELU()
    separate = model(ids).last_hidden_state
    assert (folded - separate).abs().max() < 1e-5
