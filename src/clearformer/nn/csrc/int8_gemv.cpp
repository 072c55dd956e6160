// int8 weight-only matrix-vector products for CPU decoding (AVX-512), built by nn/cpu_kernels.py.
//
// y[m, n] = scale[n] * sum_k x[m, k] * w[n, k] + bias[n] for the few rows m of a decoding step.
// Reading the weights is the whole cost at batch 1, so the layout serves the memory system:
// rows are taken four at a time and each group is stored as one contiguous stream
// (group, k / 64, row in group, 64 bytes), which the hardware prefetcher follows far better than
// four separate row streams; a software prefetch runs PREFETCH_BYTES ahead of the loads on top.
// Weights are widened int8 -> fp32 in registers and multiplied in fp32: the product is exact
// for the dequantized weights, no activation is quantized.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

namespace {

constexpr int64_t ROWS = 4;              // rows of W per group
constexpr int64_t CHUNK = 64;            // bytes of one row per step: one cache line
constexpr int64_t PREFETCH_BYTES = 2048; // measured best of 512/2048/4096 on GPT-2-small shapes
constexpr int64_t MAX_M = 4;             // rows of x per pass: 4 x M accumulators stay in registers

inline __m512 widen16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// Groups [g0, g1) of the packed weight against M rows of x (fp32, each row kp wide, zero padded).
template <int M>
void groups(const float* x, int64_t kp, const int8_t* w, const float* scale, const float* bias,
            float* y, int64_t ldy, int64_t g0, int64_t g1) {
  for (int64_t g = g0; g < g1; ++g) {
    __m512 acc[ROWS][M];
    for (int r = 0; r < ROWS; ++r)
      for (int m = 0; m < M; ++m) acc[r][m] = _mm512_setzero_ps();
    const int8_t* p = w + g * ROWS * kp;
    for (int64_t k = 0; k < kp; k += CHUNK, p += ROWS * CHUNK) {
      for (int64_t line = 0; line < ROWS * CHUNK; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p + PREFETCH_BYTES + line), _MM_HINT_T0);
      for (int c = 0; c < CHUNK; c += 16) {
        __m512 xv[M];
        for (int m = 0; m < M; ++m) xv[m] = _mm512_loadu_ps(x + m * kp + k + c);
        for (int r = 0; r < ROWS; ++r) {
          const __m512 wv = widen16(p + r * CHUNK + c);
          for (int m = 0; m < M; ++m) acc[r][m] = _mm512_fmadd_ps(wv, xv[m], acc[r][m]);
        }
      }
    }
    for (int r = 0; r < ROWS; ++r) {
      const int64_t n = g * ROWS + r;
      const float b = bias ? bias[n] : 0.f;
      for (int m = 0; m < M; ++m) y[m * ldy + n] = _mm512_reduce_add_ps(acc[r][m]) * scale[n] + b;
    }
  }
}

template <int M>
void pass(const float* x, int64_t kp, const int8_t* w, const float* scale, const float* bias, float* y,
          int64_t ldy, int64_t num_groups) {
  // Grain 16 groups: a 768-row matrix still splits over both cores, no thread gets a sliver.
  at::parallel_for(0, num_groups, 16, [&](int64_t g0, int64_t g1) {
    groups<M>(x, kp, w, scale, bias, y, ldy, g0, g1);
  });
}

}  // namespace

// (N, K) int8 -> (ceil(N/4), ceil(K/64), 4, 64), zero padded.
torch::Tensor pack_int8(const torch::Tensor& w) {
  TORCH_CHECK(w.dim() == 2 && w.scalar_type() == at::kChar, "pack_int8 wants a 2-D int8 weight, got ",
              w.sizes(), " ", w.scalar_type());
  const int64_t n = w.size(0), k = w.size(1);
  const int64_t np = (n + ROWS - 1) / ROWS * ROWS, kp = (k + CHUNK - 1) / CHUNK * CHUNK;
  auto padded = torch::zeros({np, kp}, w.options());
  padded.narrow(0, 0, n).narrow(1, 0, k).copy_(w);
  return padded.view({np / ROWS, ROWS, kp / CHUNK, CHUNK}).permute({0, 2, 1, 3}).contiguous();
}

// x (M, K) float/bf16/half; packed from pack_int8; scale, bias fp32 of the padded row count.
torch::Tensor int8_linear(const torch::Tensor& x, const torch::Tensor& packed, const torch::Tensor& scale,
                          const c10::optional<torch::Tensor>& bias, int64_t n) {
  TORCH_CHECK(x.dim() == 2 && packed.dim() == 4 && packed.scalar_type() == at::kChar, "bad operands");
  const int64_t num_groups = packed.size(0), kp = packed.size(1) * CHUNK, np = num_groups * ROWS;
  const int64_t m_rows = x.size(0), k = x.size(1);
  TORCH_CHECK(k <= kp && kp - k < CHUNK, "x has ", k, " features, the packed weight ", kp, " (padded)");
  TORCH_CHECK(scale.scalar_type() == at::kFloat && scale.numel() == np && scale.is_contiguous(), "bad scale");
  const float* b = nullptr;
  if (bias.has_value()) {
    TORCH_CHECK(bias->scalar_type() == at::kFloat && bias->numel() == np && bias->is_contiguous(), "bad bias");
    b = bias->data_ptr<float>();
  }
  auto xf = torch::zeros({m_rows, kp}, x.options().dtype(at::kFloat));
  xf.narrow(1, 0, k).copy_(x);
  auto y = torch::empty({m_rows, np}, xf.options());
  const int8_t* w = packed.data_ptr<int8_t>();
  for (int64_t m0 = 0; m0 < m_rows; m0 += MAX_M) {
    const float* xp = xf.data_ptr<float>() + m0 * kp;
    float* yp = y.data_ptr<float>() + m0 * np;
    switch (std::min(MAX_M, m_rows - m0)) {
      case 1: pass<1>(xp, kp, w, scale.data_ptr<float>(), b, yp, np, num_groups); break;
      case 2: pass<2>(xp, kp, w, scale.data_ptr<float>(), b, yp, np, num_groups); break;
      case 3: pass<3>(xp, kp, w, scale.data_ptr<float>(), b, yp, np, num_groups); break;
      default: pass<4>(xp, kp, w, scale.data_ptr<float>(), b, yp, np, num_groups); break;
    }
  }
  auto out = np == n ? y : y.narrow(1, 0, n);
  return out.to(x.scalar_type()).contiguous();
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("pack_int8", &pack_int8, "int8 (N, K) -> the kernel's grouped layout");
  m.def("int8_linear", &int8_linear, "int8 weight-only linear for a few rows of x");
}
