"""clearformer's compiled int8 matrix-vector kernel (nn/cpu_kernels.py, nn/csrc/int8_gemv.cpp)."""

from __future__ import annotations

import pytest
import torch

from clearformer.inference import Int8WeightOnlyLinear
from clearformer.nn import cpu_kernels

_REASON = cpu_kernels._unavailable_reason()
# Skipped only where the machine cannot have the kernel; where it can, a failed build fails here.
needs_kernel = pytest.mark.skipif(_REASON is not None, reason=f"int8 CPU kernel unavailable: {_REASON}")


@needs_kernel
def test_kernel_builds_where_the_machine_allows_it():
    assert cpu_kernels.available(), "AVX-512 and a compiler are here, so the build must succeed"


@needs_kernel
@pytest.mark.parametrize("n,k", [(768, 768), (5, 100), (2305, 770), (33, 64)])
def test_pack_and_unpack_are_inverse(n, k):
    q = torch.randint(-127, 128, (n, k), dtype=torch.int8)
    packed = cpu_kernels.pack_int8(q)
    assert packed.shape == ((n + 3) // 4, (k + 63) // 64, 4, 64)
    assert torch.equal(cpu_kernels.unpack_int8(packed, n, k), q)


def _pad(v: torch.Tensor, rows: int) -> torch.Tensor:
    return torch.cat([v, v.new_zeros(rows - v.shape[0])])


@needs_kernel
@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5, 9])
@pytest.mark.parametrize("n,k", [(768, 768), (7, 130), (2305, 64)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_int8_linear_equals_the_dequantized_product(rows, n, k, with_bias):
    torch.manual_seed(rows * 1000 + n + k)
    q = torch.randint(-127, 128, (n, k), dtype=torch.int8)
    scales = torch.rand(n) * 0.02 + 1e-3
    bias = None
    if with_bias:  # fp32, or bf16 as after a model.to(torch.bfloat16): the kernel takes either
        bias = torch.randn(n, dtype=torch.bfloat16 if rows % 2 else torch.float32)
    x = torch.randn(rows, k, dtype=torch.float64)
    expected = x @ (q.double() * scales.double()[:, None]).T
    if bias is not None:
        expected += bias.double()
    packed = cpu_kernels.pack_int8(q)
    got = cpu_kernels.int8_linear(x.float(), packed, _pad(scales, packed.shape[0] * 4), bias, n)
    assert got.shape == (rows, n) and got.dtype == torch.float32 and got.is_contiguous()
    # fp32 accumulation over k products of size <= |x| * 127 * scale
    tol = 1e-5 * (x.abs() @ (q.double().abs() * scales.double()[:, None]).T).max().item()
    assert (got.double() - expected).abs().max().item() <= tol


@needs_kernel
def test_int8_linear_keeps_the_activation_dtype():
    q = torch.randint(-127, 128, (64, 128), dtype=torch.int8)
    packed = cpu_kernels.pack_int8(q)
    x = torch.randn(1, 128, dtype=torch.bfloat16)
    got = cpu_kernels.int8_linear(x, packed, torch.full((64,), 0.01), None, 64)
    expected = (x.float() @ q.float().T) * 0.01
    assert got.dtype == torch.bfloat16
    assert torch.allclose(got.float(), expected, rtol=1e-2, atol=1e-2)


@needs_kernel
@pytest.mark.parametrize("rows", [1, 17, 40, Int8WeightOnlyLinear.KERNEL_MAX_ROWS, 300])
def test_layer_in_grouped_layout_matches_torchs_int8_kernel(rows, monkeypatch):
    """Both layouts quantize the same way; the kernel path (up to KERNEL_MAX_ROWS rows, in passes of
    4) and the dequantized matmul (longer inputs) give torch's ``_weight_int8pack_mm`` numbers up to
    bf16 rounding."""
    torch.manual_seed(rows)
    w, b = torch.randn(300, 192), torch.randn(300)
    grouped = Int8WeightOnlyLinear(w, b)
    monkeypatch.setattr(cpu_kernels, "available", lambda: False)
    plain = Int8WeightOnlyLinear(w, b)
    assert (grouped.layout, plain.layout) == ("grouped", "rows")
    assert torch.equal(cpu_kernels.unpack_int8(grouped.weight_int8, 300, 192), plain.weight_int8)
    assert torch.equal(grouped.scales[:300].bfloat16(), plain.scales)  # torch's kernel takes bf16 scales
    x = torch.randn(rows, 192, dtype=torch.bfloat16)
    a, c = grouped(x).float(), plain(x).float()
    assert a.shape == c.shape == (rows, 300)
    # bf16 outputs of two kernels summing in different orders (and bf16 vs fp32 scales)
    assert (a - c).abs().max() <= 0.02 * c.abs().max()


@needs_kernel
def test_layer_survives_a_dtype_cast_of_the_model():
    layer = Int8WeightOnlyLinear(torch.randn(64, 64), torch.randn(64))
    x = torch.randn(2, 64)
    before = layer(x)
    layer.to(torch.bfloat16)  # model.to(dtype) after quantizing turns the fp32 scales into bf16
    after = layer(x)
    assert torch.allclose(before, after, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("in_features", [200, 40, 768])
def test_layer_without_the_kernel_is_right_for_any_width(in_features, monkeypatch):
    """torch's _weight_int8pack_mm reads past the row end unless in_features % 16 == 0."""
    monkeypatch.setattr(cpu_kernels, "available", lambda: False)
    layer = Int8WeightOnlyLinear(torch.randn(50, in_features), torch.randn(50))
    x = torch.randn(3, in_features, dtype=torch.bfloat16)
    expected = x.float() @ layer.dequantized(torch.float32).T + layer.bias.float()
    assert (layer(x).float() - expected).abs().max() <= 0.01 * expected.abs().max()


@needs_kernel
def test_first_build_detection_reads_the_extension_cache(tmp_path, monkeypatch):
    assert cpu_kernels.available() and cpu_kernels._built_before()  # this machine's build exists now
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))  # a machine that never built it
    assert not cpu_kernels._built_before()


@pytest.mark.parametrize("layout", ["grouped", "rows"])
def test_gradients_flow_through_a_quantized_layer(layout, monkeypatch):
    """The int8 kernels have no backward; a recording forward must still give the input's gradient."""
    if layout == "grouped" and _REASON is not None:
        pytest.skip(f"int8 CPU kernel unavailable: {_REASON}")
    if layout == "rows":
        monkeypatch.setattr(cpu_kernels, "available", lambda: False)
    layer = Int8WeightOnlyLinear(torch.randn(48, 64), torch.randn(48))
    assert layer.layout == layout
    x = torch.randn(2, 64, requires_grad=True)
    layer(x).square().sum().backward()
    x_ref = x.detach().clone().requires_grad_(True)
    weight = layer.dequantized(torch.float32)
    torch.nn.functional.linear(x_ref, weight, layer.bias.float()[:48]).square().sum().backward()
    assert torch.allclose(x.grad, x_ref.grad, rtol=1e-4, atol=1e-4)


def test_kernels_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("CLEARFORMER_CPU_KERNELS", "0")
    assert "CLEARFORMER_CPU_KERNELS=0" in cpu_kernels._unavailable_reason()
    cpu_kernels._module.cache_clear()  # the decision is made once per process; make it again here
    try:
        assert not cpu_kernels.available()
        assert Int8WeightOnlyLinear(torch.randn(8, 32), None).layout == "rows"  # torch's kernel
    finally:
        monkeypatch.undo()
        cpu_kernels._module.cache_clear()


@needs_kernel
def test_the_kernel_refuses_a_tensor_off_the_cpu():
    packed = cpu_kernels.pack_int8(torch.zeros(4, 64, dtype=torch.int8))
    x = torch.zeros(1, 64, device="meta")
    with pytest.raises(RuntimeError, match="CPU kernel"):
        cpu_kernels.int8_linear(x, packed, torch.ones(4), None, 4)


@needs_kernel
def test_a_missing_build_tool_is_named(monkeypatch):
    import torch.utils.cpp_extension

    monkeypatch.setattr(torch.utils.cpp_extension, "is_ninja_available", lambda: False)
    assert "pip install ninja" in cpu_kernels._unavailable_reason()
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    assert "no C++ compiler" in cpu_kernels._unavailable_reason()
