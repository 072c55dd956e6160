// int8 weight-only matrix-vector products for CPU decoding (AVX-512), built by nn/cpu_kernels.py.
//
// y[m, n] = scale[n] * sum_k x[m, k] * w[n, k] + bias[n] for the few rows m of a decoding step.
// Reading the weights is the whole cost at batch 1, so the layout serves the memory system:
// rows are taken four at a time and each group is stored as one contiguous stream
// (group, k / 64, row in group, 64 bytes), which the hardware prefetcher follows far better than
// four separate row streams; a software prefetch runs PREFETCH_BYTES ahead of the loads on top.
// Weights are widened int8 -> fp32 in registers and multiplied by fp32 activations: the product is
// exact for the dequantized weights, no activation is quantized. (The same kernel with fp32 weights
// was slower than MKL's matrix-vector product, and with bf16 weights showed no gain in generate()
// over oneDNN's packed kernel that the benchmark could tell from noise: torch's kernels serve those.)
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <vector>

namespace {

constexpr int64_t ROWS = 4;              // rows of W per group
constexpr int64_t CHUNK = 64;            // bytes of one row per step: one cache line
constexpr int64_t PREFETCH_BYTES = 2048; // measured best of 512/2048/4096 on GPT-2-small shapes
constexpr int64_t MAX_M = 4;             // rows of x per pass: 4 x M accumulators stay in registers

inline __m512 widen16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

inline void store(float v, float* p) { *p = v; }
inline void store(float v, at::BFloat16* p) { *p = at::BFloat16(v); }  // round to nearest even
inline void store(float v, at::Half* p) { *p = at::Half(v); }

// Groups [g0, g1) of the packed weight against M rows of x (fp32, each row kp wide, zero padded);
// rows n >= n_out are padding and are not written.
template <int M, typename T>
void groups(const float* x, int64_t kp, const int8_t* w, const float* scale, const float* bias,
            T* y, int64_t n_out, int64_t g0, int64_t g1) {
  for (int64_t g = g0; g < g1; ++g) {
    __m512 acc[ROWS][M];
    for (int r = 0; r < ROWS; ++r)
      for (int m = 0; m < M; ++m) acc[r][m] = _mm512_setzero_ps();
    const int8_t* p = w + g * ROWS * kp;
    for (int64_t k = 0; k < kp; k += CHUNK, p += ROWS * CHUNK) {
      const char* ahead = reinterpret_cast<const char*>(p) + PREFETCH_BYTES;
      for (int64_t line = 0; line < ROWS * CHUNK; line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
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
      if (n >= n_out) break;
      const float b = bias ? bias[n] : 0.f;
      for (int m = 0; m < M; ++m) store(_mm512_reduce_add_ps(acc[r][m]) * scale[n] + b, y + m * n_out + n);
    }
  }
}

template <int M, typename T>
void pass(const float* x, int64_t kp, const int8_t* w, const float* scale, const float* bias, T* y,
          int64_t n_out, int64_t num_groups) {
  // Grain 16 groups: a 768-row matrix still splits over both cores, no thread gets a sliver.
  at::parallel_for(0, num_groups, 16, [&](int64_t g0, int64_t g1) {
    groups<M>(x, kp, w, scale, bias, y, n_out, g0, g1);
  });
}

// The rows of x as fp32, zero padded to kp, in a buffer reused across calls: a decoding step makes
// ~50 of these calls, and tensor allocations and copies cost as much as a small matrix's product.
template <typename T>
const float* widen_rows(const T* x, int64_t m_rows, int64_t k, int64_t kp) {
  thread_local std::vector<float> buffer;
  buffer.assign(m_rows * kp, 0.f);
  for (int64_t m = 0; m < m_rows; ++m)
    for (int64_t i = 0; i < k; ++i) buffer[m * kp + i] = static_cast<float>(x[m * k + i]);
  return buffer.data();
}

// The bias as fp32 without a tensor operation (a bf16 model keeps a bf16 bias).
const float* bias_as_fp32(const torch::Tensor& bias, int64_t n) {
  if (bias.scalar_type() == at::kFloat) return bias.data_ptr<float>();
  thread_local std::vector<float> buffer;
  buffer.resize(n);
  AT_DISPATCH_SWITCH(bias.scalar_type(), "clearformer gemv bias",
    AT_DISPATCH_CASE(at::kBFloat16, [&] { for (int64_t i = 0; i < n; ++i) buffer[i] = bias.data_ptr<scalar_t>()[i]; })
    AT_DISPATCH_CASE(at::kHalf, [&] { for (int64_t i = 0; i < n; ++i) buffer[i] = bias.data_ptr<scalar_t>()[i]; }));
  return buffer.data();
}

template <typename T>
void run(const torch::Tensor& x, const int8_t* w, int64_t num_groups, int64_t kp, const float* scale,
         const float* bias, torch::Tensor& out) {
  const int64_t m_rows = x.size(0), k = x.size(1), n_out = out.size(1);
  const float* xf = widen_rows(x.data_ptr<T>(), m_rows, k, kp);
  T* y = out.data_ptr<T>();
  for (int64_t m0 = 0; m0 < m_rows; m0 += MAX_M) {
    const float* xp = xf + m0 * kp;
    T* yp = y + m0 * n_out;
    switch (std::min(MAX_M, m_rows - m0)) {
      case 1: pass<1>(xp, kp, w, scale, bias, yp, n_out, num_groups); break;
      case 2: pass<2>(xp, kp, w, scale, bias, yp, n_out, num_groups); break;
      case 3: pass<3>(xp, kp, w, scale, bias, yp, n_out, num_groups); break;
      default: pass<4>(xp, kp, w, scale, bias, yp, n_out, num_groups); break;
    }
  }
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

// x (M, K) fp32/bf16/fp16; packed from pack_int8; scale fp32 of the padded row count; bias of any
// float dtype, at least n long. Returns (M, n) in x's dtype.
torch::Tensor int8_linear(const torch::Tensor& x_in, const torch::Tensor& packed, const torch::Tensor& scale,
                          const c10::optional<torch::Tensor>& bias, int64_t n) {
  TORCH_CHECK(x_in.dim() == 2 && packed.dim() == 4 && packed.scalar_type() == at::kChar && packed.is_contiguous(),
              "x must be 2-D and the weight from pack_int8");
  TORCH_CHECK(x_in.device().is_cpu() && packed.device().is_cpu(), "int8_linear is a CPU kernel, got x on ",
              x_in.device(), " and the weight on ", packed.device());
  const int64_t num_groups = packed.size(0), kp = packed.size(1) * CHUNK, np = num_groups * ROWS;
  const auto x = x_in.contiguous();
  const int64_t k = x.size(1);
  TORCH_CHECK(k <= kp && kp - k < CHUNK, "x has ", k, " features, the packed weight ", kp, " (padded)");
  TORCH_CHECK(n <= np && np - n < ROWS, "n = ", n, " does not fit the packed weight's ", np, " rows");
  TORCH_CHECK(scale.scalar_type() == at::kFloat && scale.numel() == np && scale.is_contiguous(), "bad scale");
  const float* b = nullptr;
  if (bias.has_value()) {
    TORCH_CHECK(bias->dim() == 1 && bias->numel() >= n && bias->is_contiguous(), "bias must be 1-D, >= n long");
    b = bias_as_fp32(*bias, n);
  }
  auto out = torch::empty({x.size(0), n}, x.options());
  const int8_t* w = packed.data_ptr<int8_t>();
  const float* sc = scale.data_ptr<float>();
  AT_DISPATCH_SWITCH(x.scalar_type(), "clearformer int8_linear",
    AT_DISPATCH_CASE(at::kFloat, [&] { run<scalar_t>(x, w, num_groups, kp, sc, b, out); })
    AT_DISPATCH_CASE(at::kBFloat16, [&] { run<scalar_t>(x, w, num_groups, kp, sc, b, out); })
    AT_DISPATCH_CASE(at::kHalf, [&] { run<scalar_t>(x, w, num_groups, kp, sc, b, out); }));
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("pack_int8", &pack_int8, "int8 (N, K) -> the kernel's grouped layout");
  m.def("int8_linear", &int8_linear, "x @ (scale * W).T + bias for a few rows of x");
}
