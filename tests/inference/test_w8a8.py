"""W8A8 int8 layers: the C++ VNNI kernel, torch's _int_mm path and the arithmetic they both promise."""

from __future__ import annotations

import math

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


def _reference(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, group: int = 0) -> torch.Tensor:
    """The promised arithmetic in float64: sum over activation groups of s_x,g * (q_x,g . q_w,g), times s_w, + b."""
    qx, sx = quantize_rows(x, group)
    qw, sw = quantize_weight(weight)
    size = group or x.shape[1]
    out = torch.zeros(x.shape[0], weight.shape[0], dtype=torch.float64)
    for i in range(x.shape[1] // size):
        part = slice(i * size, (i + 1) * size)
        out += (qx[:, part].double() @ qw[:, part].double().T) * sx[:, i : i + 1].double()
    out = out * sw.double()
    return out if bias is None else out + bias.double()


# Shapes that hit every edge of the kernel: k not a multiple of 4, n not a multiple of the 48-wide
# panel or of 16, row counts below, at and above the 4-row pass and the 256-row block.
SHAPES = [(1, 768, 2304), (3, 70, 50), (8, 64, 48), (9, 33, 97), (17, 5, 16), (300, 130, 200), (37, 256, 500)]


# (rows, k, n, group): groups below, at and above the kernel's 4-row pass, a channel 50x the others
GROUPED = [(1, 768, 2304, 128), (5, 256, 50, 64), (9, 128, 97, 32), (300, 384, 200, 128), (3, 64, 48, 4)]


@pytest.mark.parametrize("rows,k,n,group", GROUPED)
@pytest.mark.parametrize("kernel", ["auto", "torch"])
def test_activation_groups_compute_the_promised_integers(rows, k, n, group, kernel):
    torch.manual_seed(rows + k + n + group)
    x, weight, bias = torch.randn(rows, k), torch.randn(n, k), torch.randn(n)
    x[:, 3] *= 50  # an outlier channel: only its own group's scale may grow
    layer = Int8DynamicLinear(weight, bias, kernel, group_size=group)
    expected = _reference(x, weight, bias, group)
    assert (layer(x).double() - expected).abs().max() <= 1e-5 * max(1.0, expected.abs().max().item())
    assert f"per {group} channels" in repr(layer)


def test_groups_confine_an_outlier_channel():
    """With one scale per row a 50x channel coarsens every channel; per group, only its own."""
    torch.manual_seed(1)
    x, weight = torch.randn(16, 512), torch.randn(64, 512)
    x[:, 7] *= 50
    weight[:, :128] = 0  # the outlier's own group does not count: the error left is the other channels'
    errors = {}
    for group in (0, 128):
        layer = Int8DynamicLinear(weight, None, group_size=group)
        exact = x.double() @ layer.dequantized(torch.float32).double().T  # the activations' error alone
        errors[group] = (layer(x).double() - exact).abs().mean()
    assert errors[128] < 0.2 * errors[0]  # seen: 0.06


def test_a_group_that_does_not_divide_the_inputs_is_refused():
    with pytest.raises(ValueError, match="multiple of 4 dividing the 100 input features"):
        Int8DynamicLinear(torch.randn(8, 100), None, group_size=64)


def test_w8a8_models_use_groups_of_128_where_they_divide():
    model = optimize_for_inference(_tiny_bert().eval(), quantize="w8a8")  # hidden 32, FFN 64: no groups
    assert all(m.group_size == 0 for m in model.modules() if isinstance(m, Int8DynamicLinear))
    cfg = clearformer.BertConfig(vocab_size=50, hidden_size=128, num_hidden_layers=1, num_attention_heads=4)
    cfg.intermediate_size = 256
    model = optimize_for_inference(clearformer.BertModel(cfg).eval(), quantize="w8a8")
    assert {m.group_size for m in model.modules() if isinstance(m, Int8DynamicLinear)} == {128}


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


@pytest.mark.parametrize("kernel", ["auto", "torch"])
@pytest.mark.parametrize("group", [0, 4])
def test_an_empty_batch_gives_an_empty_output(kernel, group):
    layer = Int8DynamicLinear(torch.randn(10, 12), torch.randn(10), kernel, group_size=group)
    assert layer(torch.randn(0, 12)).shape == (0, 10)
    assert layer(torch.randn(2, 0, 12)).shape == (2, 0, 10)


def test_a_zero_row_stays_zero_plus_bias():
    """absmax 0 must not divide by zero: the row quantizes to zeros and the output is the bias."""
    bias = torch.randn(7)
    layer = Int8DynamicLinear(torch.randn(7, 16), bias)
    assert torch.equal(layer(torch.zeros(3, 16)), bias.expand(3, 7))


@pytest.mark.parametrize("kernel", ["auto", "torch"])
@pytest.mark.parametrize("group", [0, 32])
def test_a_nan_or_inf_input_gives_nan_outputs_for_its_row_only(kernel, group):
    """A float product spreads NaN/inf; a scale computed from them must not turn them into numbers."""
    torch.manual_seed(5)
    x, weight, bias = torch.randn(4, 64), torch.randn(40, 64), torch.randn(40)
    layer = Int8DynamicLinear(weight, bias, kernel, group_size=group)
    clean = layer(x)
    x[1, 10], x[2, 63] = float("nan"), float("inf")
    out = layer(x)
    assert out[1].isnan().all() and out[2].isnan().all()
    assert torch.equal(out[[0, 3]], clean[[0, 3]])


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


def _tanh_gelu_float64(t: torch.Tensor) -> torch.Tensor:
    return 0.5 * t * (1 + torch.tanh(math.sqrt(2 / math.pi) * (t + 0.044715 * t**3)))


@pytest.mark.parametrize("kernel", ["auto", "torch"])
@pytest.mark.parametrize("activation,exact", [("gelu", torch.nn.functional.gelu), ("gelu_tanh", _tanh_gelu_float64)])
def test_gelu_in_the_epilogue_matches_the_formula_after_the_product(kernel, activation, exact):
    torch.manual_seed(3)
    weight, bias = torch.randn(200, 40), torch.randn(200) * 3
    plain = Int8DynamicLinear(weight, bias, kernel)
    fused = Int8DynamicLinear(weight, bias, kernel, activation=activation)
    x = torch.randn(37, 40) * 2
    before = plain(x).double()
    assert before.min() < -15 and before.max() > 15  # both tails, where the formulas flatten
    expected = exact(before)
    # the kernel's erf is within 1.5e-7 (Abramowitz & Stegun 7.1.26), its exp within 2e-8; torch's
    # fp32 GELUs within ~8e-7
    assert ((fused(x).double() - expected).abs() / (1 + expected.abs())).max() < 1e-6
    assert f"then {activation}" in repr(fused)


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


def test_gpt2_gelu_new_is_folded_into_the_int8_product_and_the_logits_do_not_change():
    torch.manual_seed(4)
    config = clearformer.GPT2Config(vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=4)
    model = clearformer.GPT2LMHeadModel(config).eval()
    ids = torch.randint(0, 50, (2, 7))
    optimize_for_inference(model, quantize="w8a8")
    mlp = model.transformer.h[0].mlp
    assert mlp.c_fc.activation == "gelu_tanh" and "NewGELU applied inside c_fc" in repr(mlp.act)
    folded = model(ids).logits
    for block in model.transformer.h:
        block.mlp.c_fc.activation = "none"
        block.mlp.act = block.mlp.act.replaced
    separate = model(ids).logits
    assert (folded - separate).abs().max() < 1e-5


@needs_vnni_kernel
def test_the_vnni_kernel_is_a_torch_operator_that_torch_compile_traces():
    layer = Int8DynamicLinear(torch.randn(100, 64), torch.randn(100), activation="gelu")
    x = torch.randn(5, 64)
    compiled = torch.compile(layer, fullgraph=True)  # fullgraph: a graph break would raise
    assert torch.equal(compiled(x), layer(x))


@needs_vnni_kernel
@pytest.mark.slow
def test_a_w8a8_gpt2_decodes_the_same_tokens_through_the_compiled_step():
    """The W8A8 operator inside compile_decoding's graph: the same tokens as eager W8A8 (~20 s compile)."""
    from clearformer.inference import compile_decoding

    torch.manual_seed(0)
    cfg = clearformer.GPT2Config(n_embd=64, n_head=4, n_layer=2, vocab_size=100, n_positions=64)
    cfg.eos_token_id = cfg.bos_token_id = None
    model = optimize_for_inference(clearformer.GPT2LMHeadModel(cfg).eval(), quantize="w8a8")
    ids = torch.randint(0, 100, (1, 5))
    eager = model.generate(ids, max_new_tokens=10, do_sample=False)
    compile_decoding(model, max_length=16, batch_size=1)
    assert torch.equal(model.generate(ids, max_new_tokens=10, do_sample=False), eager)
