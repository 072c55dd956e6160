// W8A8 int8 matrix products for CPU inference (AVX-512 VNNI), built by nn/cpu_kernels.py.
//
// y[m, n] = sx[m] * sw[n] * sum_k qx[m, k] * qw[n, k] + bias[n], where qw is the weight quantized
// once per output row and qx the activation row quantized here, per call (symmetric absmax,
// round half to even). The product runs on VPDPBUSD: 4 byte products summed into each int32 lane.
//
// VPDPBUSD multiplies *unsigned* by *signed* bytes, and only its signed operand can be a broadcast
// from memory. Broadcasting 4 activation bytes against 16 output columns of weights is what the
// inner loop wants, so the weights are the unsigned side: stored as qw + 128. The extra
// 128 * sum_k qx[m, k] this adds is one number per activation row, subtracted in the epilogue.
// Exact: |products| sum to < 2^31 for k up to 16,000 (255 * 127 * k).
//
// Weight layout (pack_w8a8): panels of NR = 48 output rows; a panel is (k / 4, 48, 4) bytes,
// contiguous, so the kernel streams it once per block of MR activation rows and a decoding step
// (one to eight rows) reads every weight byte exactly once, in order.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int64_t NR = 48;  // output columns per panel: three 16-lane int32 vectors
constexpr int64_t MR = 8;   // activation rows per pass: 8 x 3 accumulators + 3 weight vectors in 32 zmm

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// exp(x) for x <= 0 (all GELU needs): 2^n * 2^f with f in [-0.5, 0.5], 2^f by its Taylor series to
// degree 7 (relative error < 2e-8), 2^n by VSCALEFPS, which also flushes large -n to 0.
inline __m512 exp_nonpositive(__m512 x) {
  const __m512 y = _mm512_mul_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.f)), _mm512_set1_ps(1.4426950408889634f));
  const __m512 n = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_mul_ps(_mm512_sub_ps(y, n), _mm512_set1_ps(0.6931471805599453f));  // f * ln 2
  __m512 p = _mm512_set1_ps(1.f / 5040.f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f / 720.f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

// GELU(x) = x/2 (1 + erf(x / sqrt 2)), erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7):
// the exact (erf) GELU of BERT to within ~1e-7 * |x|, computed while the product is in registers
// instead of in a second pass over the whole (rows, 4 * hidden) output.
inline __m512 gelu_erf(__m512 x) {
  const __m512 z = _mm512_abs_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.7071067811865476f)));
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_fmadd_ps(z, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.f)));
  __m512 poly = _mm512_set1_ps(1.061405429f);
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-1.453152027f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.421413741f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.284496736f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.254829592f));
  poly = _mm512_mul_ps(poly, t);
  const __m512 erf_abs = _mm512_fnmadd_ps(poly, exp_nonpositive(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z)),
                                          _mm512_set1_ps(1.f));
  // erf is odd: take the sign of x
  const __m512 erf = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(erf_abs), _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x80000000))));
  return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), _mm512_add_ps(erf, _mm512_set1_ps(1.f)));
}

// MR_ activation rows (int8, each kp wide) against one weight panel; writes columns [n0, n0 + cols).
template <int MR_>
void micro(const int8_t* qx, int64_t kp, const uint8_t* panel, const int32_t* row_sums, const float* sx,
           const float* sw, const float* bias, bool gelu, float* y, int64_t ldy, int64_t cols) {
  __m512i acc[MR_][3];
  for (int m = 0; m < MR_; ++m)
    for (int j = 0; j < 3; ++j) acc[m][j] = _mm512_setzero_si512();
  const uint8_t* p = panel;
  for (int64_t k = 0; k < kp; k += 4, p += NR * 4) {
    const __m512i b0 = _mm512_loadu_si512(p), b1 = _mm512_loadu_si512(p + 64), b2 = _mm512_loadu_si512(p + 128);
    for (int m = 0; m < MR_; ++m) {
      int32_t four;
      std::memcpy(&four, qx + m * kp + k, 4);
      const __m512i a = _mm512_set1_epi32(four);
      acc[m][0] = _mm512_dpbusd_epi32(acc[m][0], b0, a);
      acc[m][1] = _mm512_dpbusd_epi32(acc[m][1], b1, a);
      acc[m][2] = _mm512_dpbusd_epi32(acc[m][2], b2, a);
    }
  }
  for (int m = 0; m < MR_; ++m) {
    const __m512i shift = _mm512_set1_epi32(128 * row_sums[m]);
    const __m512 s = _mm512_set1_ps(sx[m]);
    for (int j = 0; j < 3; ++j) {
      const int64_t c = j * 16;
      if (c >= cols) break;
      const __mmask16 mask = cols - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (cols - c)) - 1);
      const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[m][j], shift));
      __m512 out = _mm512_mul_ps(_mm512_mul_ps(dot, s), _mm512_maskz_loadu_ps(mask, sw + c));
      if (bias) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask, bias + c));
      if (gelu) out = gelu_erf(out);
      _mm512_mask_storeu_ps(y + m * ldy + c, mask, out);
    }
  }
}

void rows_against_panel(int64_t rows, const int8_t* qx, int64_t kp, const uint8_t* panel,
                        const int32_t* row_sums, const float* sx, const float* sw, const float* bias,
                        bool gelu, float* y, int64_t ldy, int64_t cols) {
  for (int64_t m0 = 0; m0 < rows; m0 += MR) {
    const int64_t r = std::min(MR, rows - m0);
    const int8_t* q = qx + m0 * kp;
    float* out = y + m0 * ldy;
    switch (r) {
#define CASE(R) case R: micro<R>(q, kp, panel, row_sums + m0, sx + m0, sw, bias, gelu, out, ldy, cols); break;
      CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7)
      default: micro<8>(q, kp, panel, row_sums + m0, sx + m0, sw, bias, gelu, out, ldy, cols);
#undef CASE
    }
  }
}

// Activation groups: each row is quantized per group of gs input channels (one scale and one sum
// per group), so an outlier channel coarsens only its own group. The int32 sums of a group are
// folded into fp32 accumulators with that group's scale before the next group starts; four rows per
// pass so that 12 int32 + 12 fp32 accumulators and the three weight vectors fit the 32 registers.
constexpr int64_t MR_GROUPED = 4;

template <int MR_>
void micro_grouped(const int8_t* qx, int64_t kp, int64_t gs, const uint8_t* panel, const int32_t* sums,
                   const float* sx, const float* sw, const float* bias, bool gelu, float* y, int64_t ldy,
                   int64_t cols) {
  const int64_t groups = kp / gs;
  __m512 facc[MR_][3];
  for (int m = 0; m < MR_; ++m)
    for (int j = 0; j < 3; ++j) facc[m][j] = _mm512_setzero_ps();
  const uint8_t* p = panel;
  for (int64_t g = 0; g < groups; ++g) {
    __m512i acc[MR_][3];
    for (int m = 0; m < MR_; ++m)
      for (int j = 0; j < 3; ++j) acc[m][j] = _mm512_setzero_si512();
    for (int64_t k = g * gs; k < (g + 1) * gs; k += 4, p += NR * 4) {
      const __m512i b0 = _mm512_loadu_si512(p), b1 = _mm512_loadu_si512(p + 64), b2 = _mm512_loadu_si512(p + 128);
      for (int m = 0; m < MR_; ++m) {
        int32_t four;
        std::memcpy(&four, qx + m * kp + k, 4);
        const __m512i a = _mm512_set1_epi32(four);
        acc[m][0] = _mm512_dpbusd_epi32(acc[m][0], b0, a);
        acc[m][1] = _mm512_dpbusd_epi32(acc[m][1], b1, a);
        acc[m][2] = _mm512_dpbusd_epi32(acc[m][2], b2, a);
      }
    }
    for (int m = 0; m < MR_; ++m) {
      const __m512i shift = _mm512_set1_epi32(128 * sums[m * groups + g]);
      const __m512 s = _mm512_set1_ps(sx[m * groups + g]);
      for (int j = 0; j < 3; ++j)
        facc[m][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[m][j], shift)), s, facc[m][j]);
    }
  }
  for (int m = 0; m < MR_; ++m) {
    for (int j = 0; j < 3; ++j) {
      const int64_t c = j * 16;
      if (c >= cols) break;
      const __mmask16 mask = cols - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (cols - c)) - 1);
      __m512 out = _mm512_mul_ps(facc[m][j], _mm512_maskz_loadu_ps(mask, sw + c));
      if (bias) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask, bias + c));
      if (gelu) out = gelu_erf(out);
      _mm512_mask_storeu_ps(y + m * ldy + c, mask, out);
    }
  }
}

void rows_against_panel_grouped(int64_t rows, const int8_t* qx, int64_t kp, int64_t gs, const uint8_t* panel,
                                const int32_t* sums, const float* sx, const float* sw, const float* bias,
                                bool gelu, float* y, int64_t ldy, int64_t cols) {
  const int64_t groups = kp / gs;
  for (int64_t m0 = 0; m0 < rows; m0 += MR_GROUPED) {
    const int64_t r = std::min(MR_GROUPED, rows - m0);
    const int8_t* q = qx + m0 * kp;
    const int32_t* su = sums + m0 * groups;
    const float* sc = sx + m0 * groups;
    float* out = y + m0 * ldy;
    switch (r) {
      case 1: micro_grouped<1>(q, kp, gs, panel, su, sc, sw, bias, gelu, out, ldy, cols); break;
      case 2: micro_grouped<2>(q, kp, gs, panel, su, sc, sw, bias, gelu, out, ldy, cols); break;
      case 3: micro_grouped<3>(q, kp, gs, panel, su, sc, sw, bias, gelu, out, ldy, cols); break;
      default: micro_grouped<4>(q, kp, gs, panel, su, sc, sw, bias, gelu, out, ldy, cols);
    }
  }
}

// One fp32 row -> int8 (zero padded to kp), its scale and the sum of its int8 values.
void quantize_row(const float* x, int64_t k, int64_t kp, int8_t* q, float* scale, int32_t* sum) {
  __m512 vmax = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  float amax = _mm512_reduce_max_ps(vmax);
  for (; i < k; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float s = std::max(amax, 1e-12f) / 127.f;
  // x / s, not x * (1 / s): the same division as the Python reference, so ties round alike.
  const __m512 vs = _mm512_set1_ps(s);
  __m512i vsum = _mm512_setzero_si512();
  i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512i v = _mm512_cvtps_epi32(_mm512_div_ps(_mm512_loadu_ps(x + i), vs));  // nearest, ties to even
    v = _mm512_max_epi32(_mm512_min_epi32(v, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127));
    vsum = _mm512_add_epi32(vsum, v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(v));
  }
  int32_t total = _mm512_reduce_add_epi32(vsum);
  for (; i < k; ++i) {
    const int32_t v = std::max(-127, std::min(127, static_cast<int32_t>(std::nearbyint(x[i] / s))));
    q[i] = static_cast<int8_t>(v);
    total += v;
  }
  for (; i < kp; ++i) q[i] = 0;
  *scale = s;
  *sum = total;
}

}  // namespace

// (N, K) int8 in [-127, 127] -> (ceil(N/48), ceil(K/4), 48, 4) uint8 holding qw + 128 (padding 128,
// i.e. a zero weight).
torch::Tensor pack_w8a8(const torch::Tensor& w) {
  TORCH_CHECK(w.dim() == 2 && w.scalar_type() == at::kChar, "pack_w8a8 wants a 2-D int8 weight, got ",
              w.sizes(), " ", w.scalar_type());
  const int64_t n = w.size(0), k = w.size(1), np = round_up(n, NR), kp = round_up(k, 4);
  auto padded = torch::zeros({np, kp}, w.options().dtype(at::kShort));
  padded.narrow(0, 0, n).narrow(1, 0, k).copy_(w);
  auto shifted = padded.add_(128).to(at::kByte);  // (np, kp) in [1, 255]; 128 = zero
  return shifted.view({np / NR, NR, kp / 4, 4}).permute({0, 2, 1, 3}).contiguous();
}

// x (M, K) fp32; packed from pack_w8a8; sw fp32 (n,); bias fp32 (n,) or none; activation "none" or
// "gelu" (erf form) applied to the result; group 0 (one activation scale per row) or the channels per
// activation scale. Returns (M, n) fp32.
torch::Tensor w8a8_linear(const torch::Tensor& x_in, const torch::Tensor& packed, const torch::Tensor& sw,
                          const c10::optional<torch::Tensor>& bias, int64_t n, c10::string_view activation,
                          int64_t group) {
  TORCH_CHECK(activation == "none" || activation == "gelu", "activation must be 'none' or 'gelu', got ", activation);
  const bool gelu = activation == "gelu";
  TORCH_CHECK(x_in.dim() == 2 && x_in.scalar_type() == at::kFloat, "x must be 2-D fp32, got ", x_in.sizes(),
              " ", x_in.scalar_type());
  TORCH_CHECK(packed.dim() == 4 && packed.scalar_type() == at::kByte && packed.is_contiguous() &&
              packed.size(2) == NR && packed.size(3) == 4, "the weight must come from pack_w8a8");
  TORCH_CHECK(x_in.device().is_cpu() && packed.device().is_cpu(), "w8a8_linear is a CPU kernel");
  const auto x = x_in.contiguous();
  const int64_t rows = x.size(0), k = x.size(1), panels = packed.size(0), kp = packed.size(1) * 4;
  TORCH_CHECK(k <= kp && kp - k < 4, "x has ", k, " features, the packed weight ", kp, " (padded)");
  TORCH_CHECK(n <= panels * NR && panels * NR - n < NR, "n = ", n, " does not fit the packed weight");
  TORCH_CHECK(group == 0 || (group > 0 && group % 4 == 0 && k % group == 0 && kp == k), "group = ", group,
              " must be 0 (whole rows) or a multiple of 4 dividing the ", k, " input features");
  const int64_t gs = group == 0 ? kp : group, groups = kp / gs;
  TORCH_CHECK(sw.scalar_type() == at::kFloat && sw.numel() == n && sw.is_contiguous(), "bad weight scales");
  const float* b = nullptr;
  if (bias.has_value()) {
    TORCH_CHECK(bias->scalar_type() == at::kFloat && bias->numel() == n && bias->is_contiguous(), "bad bias");
    b = bias->data_ptr<float>();
  }
  // Per-call buffers: a tensor allocation costs about what quantizing a decoding step's row does.
  thread_local std::vector<int8_t> qbuf;
  thread_local std::vector<float> sbuf;
  thread_local std::vector<int32_t> rbuf;
  qbuf.resize(rows * kp);
  sbuf.resize(rows * groups);
  rbuf.resize(rows * groups);
  int8_t* qx = qbuf.data();
  float* sx = sbuf.data();
  int32_t* sums = rbuf.data();
  const float* xp = x.data_ptr<float>();
  at::parallel_for(0, rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      if (group == 0) {
        quantize_row(xp + r * k, k, kp, qx + r * kp, sx + r, sums + r);
      } else {
        for (int64_t g = 0; g < groups; ++g)
          quantize_row(xp + r * k + g * gs, gs, gs, qx + r * kp + g * gs, sx + r * groups + g, sums + r * groups + g);
      }
    }
  });
  auto out = torch::empty({rows, n}, x.options());
  float* y = out.data_ptr<float>();
  const uint8_t* w = packed.data_ptr<uint8_t>();
  const float* s = sw.data_ptr<float>();
  // Threads split the panels; with many rows each thread also walks the rows in blocks so that its
  // activation block stays in L2 while several panels pass over it.
  constexpr int64_t ROW_BLOCK = 256;
  at::parallel_for(0, panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t m0 = 0; m0 < rows; m0 += ROW_BLOCK) {
      const int64_t mr = std::min(ROW_BLOCK, rows - m0);
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t c0 = p * NR, cols = std::min(NR, n - c0);
        if (group == 0)
          rows_against_panel(mr, qx + m0 * kp, kp, w + p * kp * NR, sums + m0, sx + m0, s + c0,
                             b ? b + c0 : nullptr, gelu, y + m0 * n + c0, n, cols);
        else
          rows_against_panel_grouped(mr, qx + m0 * kp, kp, gs, w + p * kp * NR, sums + m0 * groups,
                                     sx + m0 * groups, s + c0, b ? b + c0 : nullptr, gelu, y + m0 * n + c0, n, cols);
      }
    }
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("pack_w8a8", &pack_w8a8, "int8 (N, K) -> the W8A8 kernel's panel layout (uint8, +128)");
}

// A torch operator, not only a Python function: dispatched without Python in between, and visible
// to torch.compile (its shape function is registered in nn/cpu_kernels.py).
TORCH_LIBRARY_FRAGMENT(clearformer, m) {
  m.def("w8a8_linear(Tensor x, Tensor packed, Tensor weight_scales, Tensor? bias, int n, str activation, int group=0) -> Tensor");
}

TORCH_LIBRARY_IMPL(clearformer, CPU, m) { m.impl("w8a8_linear", &w8a8_linear); }
