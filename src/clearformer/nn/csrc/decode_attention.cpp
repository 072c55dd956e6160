// Attention of one query over L keys, per (batch, head): the attention of a decoding step, built by
// nn/cpu_kernels.py and called from nn/attention.py for fp32 CPU inputs with one query position.
//
// out = softmax(scale * q . k_l + mask_l) weighted sum of v_l, in fp32, in one pass per (b, h):
// dot products into a score row, exp after subtracting the row's maximum, then the weighted sum of
// the value rows divided by the sum of the weights. torch's CPU SDPA kernels are built for blocks of
// queries: for a single query they spend ~25 us (eager) to ~100 us (inside a compiled graph) per call
// on set-up around ~1 us of arithmetic, twelve times a GPT-2 step (BENCHMARKS.md, "Eighth session").
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <cmath>
#include <limits>
#include <vector>

#include "avx512_exp.h"

namespace {

// the first n of 16 lanes (none for n <= 0)
inline __mmask16 lanes(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? 0 : __mmask16((1u << n) - 1); }

inline float dot(const float* q, const float* k, int64_t d) {
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; i += 16) {
    const __mmask16 m = lanes(d - i);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), _mm512_maskz_loadu_ps(m, k + i), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

struct Row {
  const float* q;
  const float* k;
  int64_t k_step;  // elements from one key row to the next
  const float* v;
  int64_t v_step;
  const float* mask;  // additive, or nullptr
  int64_t mask_step;
  float* out;
};

void attend(const Row& r, int64_t keys, int64_t d, float scale, float* scores) {
  constexpr float NEG_INF = -std::numeric_limits<float>::infinity();
  float top = NEG_INF;
  bool nan = false;
  for (int64_t l = 0; l < keys; ++l) {
    // a masked key is not read: a decoding cache is read whole every step (memory-bound at batch 8),
    // and a fixed-size cache is mostly slots not written yet
    const float bias = r.mask ? r.mask[l * r.mask_step] : 0.f;
    const float s = bias == NEG_INF ? NEG_INF : dot(r.q, r.k + l * r.k_step, d) * scale + bias;
    scores[l] = s;
    if (s > top) top = s;
    nan |= std::isnan(s);
  }
  if (nan || top == NEG_INF) {
    // a NaN score makes the row NaN (as SDPA's does); a row whose every key is masked gives zeros,
    // as torch's CPU SDPA does (GPT-2 also zeroes such rows itself)
    const float fill = nan ? std::numeric_limits<float>::quiet_NaN() : 0.f;
    for (int64_t i = 0; i < d; ++i) r.out[i] = fill;
    return;
  }
  const __m512 top_v = _mm512_set1_ps(top), neg_inf = _mm512_set1_ps(NEG_INF);
  __m512 total = _mm512_setzero_ps();
  for (int64_t l = 0; l < keys; l += 16) {
    const __mmask16 m = lanes(keys - l);
    const __m512 s = _mm512_maskz_loadu_ps(m, scores + l);
    // masked keys (-inf) get exactly 0, not exp's smallest denormal
    const __mmask16 live = m & _mm512_cmp_ps_mask(s, neg_inf, _CMP_NEQ_OQ);
    const __m512 e = _mm512_maskz_mov_ps(live, exp_nonpositive(_mm512_sub_ps(s, top_v)));
    _mm512_mask_storeu_ps(scores + l, m, e);
    total = _mm512_add_ps(total, e);
  }
  const __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(total));
  // 64 output channels at a time: four independent accumulator chains over the keys
  for (int64_t d0 = 0; d0 < d; d0 += 64) {
    const __mmask16 m0 = lanes(d - d0), m1 = lanes(d - d0 - 16), m2 = lanes(d - d0 - 32), m3 = lanes(d - d0 - 48);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t l = 0; l < keys; ++l) {
      if (scores[l] == 0.f) continue;  // masked (or underflowed): its value row is not read either
      const __m512 p = _mm512_set1_ps(scores[l]);
      const float* v = r.v + l * r.v_step + d0;
      a0 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m0, v), a0);
      a1 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m1, v + 16), a1);
      a2 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m2, v + 32), a2);
      a3 = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m3, v + 48), a3);
    }
    _mm512_mask_storeu_ps(r.out + d0, m0, _mm512_mul_ps(a0, inv));
    _mm512_mask_storeu_ps(r.out + d0 + 16, m1, _mm512_mul_ps(a1, inv));
    _mm512_mask_storeu_ps(r.out + d0 + 32, m2, _mm512_mul_ps(a2, inv));
    _mm512_mask_storeu_ps(r.out + d0 + 48, m3, _mm512_mul_ps(a3, inv));
  }
}

void check(bool ok, const std::string& what) { TORCH_CHECK(ok, "decode_attention: ", what); }

}  // namespace

// query (B, H, 1, D), key and value (B, H, L, D), mask additive and broadcastable to (B, H, 1, L).
torch::Tensor decode_attention(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                               const c10::optional<torch::Tensor>& mask, double scale) {
  check(query.dim() == 4 && key.dim() == 4 && value.dim() == 4, "query, key and value must be 4-D (B, H, L, D)");
  check(query.scalar_type() == at::kFloat && key.scalar_type() == at::kFloat && value.scalar_type() == at::kFloat,
        "query, key and value must be float32");
  const int64_t b = query.size(0), h = query.size(1), d = query.size(3), keys = key.size(2);
  check(query.size(2) == 1, "one query position per row (query length 1)");
  check(key.size(0) == b && key.size(1) == h && key.size(3) == d && value.sizes() == key.sizes(),
        "key and value must be (B, H, L, D) with the query's B, H and D");
  // the rows are read with unit stride in D; other strides are taken as they are (cache views)
  const auto q = query.stride(3) == 1 ? query : query.contiguous();
  const auto k = key.stride(3) == 1 ? key : key.contiguous();
  const auto v = value.stride(3) == 1 ? value : value.contiguous();
  torch::Tensor m;
  if (mask.has_value()) {
    check(mask->scalar_type() == at::kFloat, "the mask must be additive float32");
    m = mask->expand({b, h, 1, keys});  // a view: broadcast dimensions get stride 0
  }
  auto out = torch::empty({b, h, 1, d}, query.options());
  const float* qp = q.data_ptr<float>();
  const float* kp = k.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  const float* mp = m.defined() ? m.data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  at::parallel_for(0, b * h, 1, [&](int64_t first, int64_t last) {
    std::vector<float> scores(keys);
    for (int64_t i = first; i < last; ++i) {
      const int64_t bi = i / h, hi = i % h;
      const Row r{qp + bi * q.stride(0) + hi * q.stride(1),
                  kp + bi * k.stride(0) + hi * k.stride(1),
                  k.stride(2),
                  vp + bi * v.stride(0) + hi * v.stride(1),
                  v.stride(2),
                  mp ? mp + bi * m.stride(0) + hi * m.stride(1) : nullptr,
                  mp ? m.stride(3) : 0,
                  op + i * d};
      attend(r, keys, d, static_cast<float>(scale), scores.data());
    }
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {}  // the operator below is the whole interface

// A torch operator: dispatched without Python in between and traceable by torch.compile (its shape
// function is registered in nn/cpu_kernels.py).
TORCH_LIBRARY_FRAGMENT(clearformer, m) {
  m.def("decode_attention(Tensor query, Tensor key, Tensor value, Tensor? mask, float scale) -> Tensor");
}

TORCH_LIBRARY_IMPL(clearformer, CPU, m) { m.impl("decode_attention", &decode_attention); }
