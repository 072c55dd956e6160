// exp(x) for x <= 0 in AVX-512, shared by the kernels of this folder (included, not compiled alone).
// nn/cpu_kernels.py hashes this file with each source that includes it, so a change rebuilds both.
#pragma once
#include <immintrin.h>

// exp(x) for x <= 0 (all that GELU, and a softmax after subtracting its maximum, need): 2^n * 2^f
// with f in [-0.5, 0.5], 2^f by its Taylor series to degree 7 (relative error < 2e-8), 2^n by
// VSCALEFPS, which also flushes large -n to 0.
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
