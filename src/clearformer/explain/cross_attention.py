"""HB-28 Q11 / chapter 2.2: cross-attention with queries of length 12 and keys/values of length 10.

The course's example: Q [64, 12, 300], K = V [64, 10, 300], 6 heads of 50. Every step is run with
clearformer's own split_heads / attention / merge_heads and its shape recorded; the output has
the query's length. K and V must have the same length because weight j multiplies value j.
"""

from __future__ import annotations

import torch
from torch import nn


def run(batch: int = 64, q_len: int = 12, kv_len: int = 10, hidden: int = 300, heads: int = 6, seed: int = 0) -> dict:
    from ..nn.attention import attention, merge_heads, split_heads

    torch.manual_seed(seed)
    w_q, w_k, w_v, fc = (nn.Linear(hidden, hidden) for _ in range(4))
    query = torch.randn(batch, q_len, hidden)  # e.g. the decoder's 12 target tokens
    memory = torch.randn(batch, kv_len, hidden)  # e.g. the encoder's 10 source tokens
    steps = [("query", query), ("key = value source", memory)]
    with torch.no_grad():
        q, k, v = w_q(query), w_k(memory), w_v(memory)
        steps += [("Q = w_q(query)", q), ("K = w_k(memory)", k), ("V = w_v(memory)", v)]
        qh, kh, vh = split_heads(q, heads), split_heads(k, heads), split_heads(v, heads)
        steps += [("Q split into heads", qh), ("K split into heads", kh), ("V split into heads", vh)]
        steps.append(("scores = Q K^T / sqrt(d)", qh @ kh.transpose(-1, -2)))
        context, weights = attention(qh, kh, vh, need_weights=True)
        fast, _ = attention(qh, kh, vh)  # SDPA path
        steps += [("weights = softmax(scores)", weights), ("weights @ V", context)]
        merged = merge_heads(context)
        output = fc(merged)
        steps += [("merge heads", merged), ("output = fc(merged)", output)]
    try:
        attention(qh, kh, vh[:, :, : kv_len - 1])
        mismatch_error = None
    except ValueError as err:
        mismatch_error = str(err)
    return {
        "course_example": f"Q [{batch},{q_len},{hidden}], K/V [{batch},{kv_len},{hidden}], {heads} heads",
        "steps": [{"step": name, "shape": list(t.shape)} for name, t in steps],
        "output_shape": list(output.shape),
        "weights_rows_sum_to_1": float((weights.sum(-1) - 1).abs().max()),
        "eager_vs_sdpa_max_abs_diff": float((context - fast).abs().max()),
        "key_value_length_mismatch_error": mismatch_error,
        "takeaway": (
            f"each of the {q_len} queries gets a softmax over the {kv_len} keys and a weighted sum of the "
            f"{kv_len} values, so the output keeps the query length ({q_len}); the query length may differ "
            "from the key length, but keys and values must pair up one to one"
        ),
    }
