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
// contiguous, so a decoding step reads every weight byte exactly once, in order, and a longer input
// reads each panel from memory once and then from cache for every further block of 4 rows.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "avx512_exp.h"

namespace {

constexpr int64_t NR = 48;  // output columns per panel: three 16-lane int32 vectors

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

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

// GELU(x) = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3): GPT-2's gelu_new. With
// e = exp(-2|u|), 1 + tanh(u) is 2/(1 + e) for u >= 0 and 2e/(1 + e) for u < 0: no cancellation
// for large negative x, where the subtraction 1 - tanh would lose every digit.
inline __m512 gelu_tanh(__m512 x) {
  const __m512 u = _mm512_mul_ps(_mm512_fmadd_ps(_mm512_mul_ps(x, x), _mm512_mul_ps(x, _mm512_set1_ps(0.044715f)), x),
                                 _mm512_set1_ps(0.7978845608028654f));
  const __m512 e = exp_nonpositive(_mm512_mul_ps(_mm512_abs_ps(u), _mm512_set1_ps(-2.f)));
  const __mmask16 negative = _mm512_cmp_ps_mask(u, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 top = _mm512_mask_blend_ps(negative, _mm512_set1_ps(1.f), e);
  return _mm512_div_ps(_mm512_mul_ps(x, top), _mm512_add_ps(e, _mm512_set1_ps(1.f)));
}

// acc += u8 . s8 (VPDPBUSD), in place. The intrinsic returns a new value, and GCC then copies the
// accumulators between registers around every step; with the asm the register is updated where it
// is. 1.2-1.3x faster at 32 to 1024 rows in an interleaved A/B (BENCHMARKS.md, "Seventh session").
inline void dpbusd(__m512i& acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
}

enum class Activation { none, gelu, gelu_tanh };

// Activation groups: each row is quantized per group of gs input channels (one scale and one sum
// per group), so an outlier channel coarsens only its own group; whole rows are one group of kp.
// The int32 sums of a group are folded into fp32 accumulators with that group's scale before the
// next group starts; four rows per pass so that 12 int32 + 12 fp32 accumulators and the three weight
// vectors fit the 32 registers. (8 rows per pass were slower, without groups and again with the asm
// below and fp32 sums kept in memory: BENCHMARKS.md, "W8A8 activation groups", "Seventh session".)
constexpr int64_t MR = 4;

// MR_ activation rows against one weight panel, writing columns [0, cols) of y. Each k step also
// prefetches pf_lines cache lines of [pf, pf_end) into L2: the next panel, so that its read from
// memory overlaps this panel's arithmetic instead of stalling the first pass over it. With
// pf_lines < 0 (a panel passed over once: decoding) it prefetches instead the lines AHEAD bytes
// further on in the weight, into L1: panels are contiguous, so this runs on into the next panel and
// streams faster than fetching that panel in one burst (1 row on cold GPT-2 weights on huge pages:
// 10.5 vs 11.3 ms; at 32 rows, where each panel is read 8 times, the burst is the faster).
constexpr int64_t AHEAD = 2048;

template <int MR_>
void micro(const int8_t* qx, int64_t kp, int64_t gs, const uint8_t* panel, const int32_t* sums,
           const float* sx, const float* sw, const float* bias, Activation act, float* y, int64_t ldy,
           int64_t cols, const char* pf, const char* pf_end, int pf_lines) {
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
      if (pf_lines < 0) {  // past the weight's end a prefetch is dropped, not a fault
        const char* ahead = reinterpret_cast<const char*>(p) + AHEAD;
        _mm_prefetch(ahead, _MM_HINT_T0);
        _mm_prefetch(ahead + 64, _MM_HINT_T0);
        _mm_prefetch(ahead + 128, _MM_HINT_T0);
      }
      for (int i = 0; i < pf_lines; ++i)
        if (pf < pf_end) {
          _mm_prefetch(pf, _MM_HINT_T1);
          pf += 64;
        }
      const __m512i b0 = _mm512_loadu_si512(p), b1 = _mm512_loadu_si512(p + 64), b2 = _mm512_loadu_si512(p + 128);
      for (int m = 0; m < MR_; ++m) {
        int32_t four;
        std::memcpy(&four, qx + m * kp + k, 4);
        const __m512i a = _mm512_set1_epi32(four);
        dpbusd(acc[m][0], b0, a);
        dpbusd(acc[m][1], b1, a);
        dpbusd(acc[m][2], b2, a);
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
      if (act == Activation::gelu) out = gelu_erf(out);
      if (act == Activation::gelu_tanh) out = gelu_tanh(out);
      _mm512_mask_storeu_ps(y + m * ldy + c, mask, out);
    }
  }
}

// All rows of a block against one panel, MR at a time. next (or null) is the panel to prefetch,
// its bytes shared out over the passes: with 32 rows each pass fetches an eighth of it. A block of
// at most MR rows (one pass) prefetches a fixed distance ahead instead (micro, pf_lines < 0).
void rows_against_panel(int64_t rows, const int8_t* qx, int64_t kp, int64_t gs, const uint8_t* panel,
                        const int32_t* sums, const float* sx, const float* sw, const float* bias, Activation act,
                        float* y, int64_t ldy, int64_t cols, const uint8_t* next) {
  const int64_t groups = kp / gs;
  const int64_t passes = (rows + MR - 1) / MR, bytes = kp * NR, steps = kp / 4;
  const int64_t share = round_up((bytes + passes - 1) / passes, 64);
  const int pf_lines = passes == 1 ? -1 : next ? static_cast<int>((share / 64 + steps - 1) / steps) : 0;
  const char* pf_base = reinterpret_cast<const char*>(next);
  for (int64_t m0 = 0; m0 < rows; m0 += MR) {
    const int64_t r = std::min(MR, rows - m0), pass = m0 / MR;
    const int8_t* q = qx + m0 * kp;
    const int32_t* su = sums + m0 * groups;
    const float* sc = sx + m0 * groups;
    float* out = y + m0 * ldy;
    const char* pf = next ? pf_base + std::min(bytes, pass * share) : nullptr;
    const char* pf_end = next ? pf_base + std::min(bytes, (pass + 1) * share) : nullptr;
    switch (r) {
#define CASE(R) case R: micro<R>(q, kp, gs, panel, su, sc, sw, bias, act, out, ldy, cols, pf, pf_end, pf_lines); break;
      CASE(1) CASE(2) CASE(3)
      default: micro<4>(q, kp, gs, panel, su, sc, sw, bias, act, out, ldy, cols, pf, pf_end, pf_lines);
#undef CASE
    }
  }
}

// One fp32 row -> int8 (zero padded to kp), its scale and the sum of its int8 values.
void quantize_row(const float* x, int64_t k, int64_t kp, int8_t* q, float* scale, int32_t* sum) {
  __m512 vmax = _mm512_setzero_ps();
  __mmask16 nan = 0;  // max_ps drops NaN, so it is looked for separately
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    vmax = _mm512_max_ps(vmax, _mm512_abs_ps(v));
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  float amax = _mm512_reduce_max_ps(vmax);
  bool finite = nan == 0;
  for (; i < k; ++i) {
    finite = finite && std::isfinite(x[i]);
    amax = std::max(amax, std::fabs(x[i]));
  }
  // A NaN or infinite input makes the scale NaN, so the row's outputs are NaN as in a float
  // product, not finite numbers computed from a meaningless quantization.
  const float s = finite && std::isfinite(amax) ? std::max(amax, 1e-12f) / 127.f : std::nanf("");
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

// x (M, K) fp32; packed from pack_w8a8; sw fp32 (n,); bias fp32 (n,) or none; activation "none",
// "gelu" (erf form) or "gelu_tanh" applied to the result; group 0 (one activation scale per row) or
// the channels per activation scale. Returns (M, n) fp32.
torch::Tensor w8a8_linear(const torch::Tensor& x_in, const torch::Tensor& packed, const torch::Tensor& sw,
                          const c10::optional<torch::Tensor>& bias, int64_t n, c10::string_view activation,
                          int64_t group) {
  TORCH_CHECK(activation == "none" || activation == "gelu" || activation == "gelu_tanh",
              "activation must be 'none', 'gelu' or 'gelu_tanh', got ", activation);
  const Activation act = activation == "gelu" ? Activation::gelu
                         : activation == "gelu_tanh" ? Activation::gelu_tanh : Activation::none;
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
        const uint8_t* next = p + 1 < p1 ? w + (p + 1) * kp * NR : nullptr;
        rows_against_panel(mr, qx + m0 * kp, kp, gs, w + p * kp * NR, sums + m0 * groups, sx + m0 * groups,
                           s + c0, b ? b + c0 : nullptr, act, y + m0 * n + c0, n, cols, next);
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
