"""HB-28 Q9: ``view`` + ``permute(0, 2, 1, 3)`` split [B, L, H*D] into heads, and the merge back.

``view`` reinterprets the last dimension as (heads, head_dim) without moving data; ``permute``
puts heads before positions so one matmul handles every head; merging needs ``contiguous()``
(or ``reshape``) because the permuted tensor is no longer laid out row by row.
"""

from __future__ import annotations

import torch


def run(batch: int = 2, seq: int = 5, heads: int = 12, head_dim: int = 64) -> dict:
    from ..nn.attention import merge_heads, split_heads

    x = torch.randn(batch, seq, heads * head_dim, generator=torch.Generator().manual_seed(0))
    viewed = x.view(batch, seq, heads, head_dim)
    split = viewed.permute(0, 2, 1, 3)
    context = (split * 1.0).contiguous()  # what weights @ v returns: (B, H, L, D), laid out head by head
    back = context.permute(0, 2, 1, 3)
    try:
        back.view(batch, seq, heads * head_dim)
        view_error = None
    except RuntimeError as err:
        view_error = str(err).split(".")[0]
    merged = back.contiguous().view(batch, seq, heads * head_dim)
    h, t = 3, 2  # head 3 of token 2 is a slice of token 2's vector
    return {
        "steps": [
            {"step": "x", "shape": list(x.shape), "contiguous": x.is_contiguous()},
            {
                "step": f"x.view({batch}, {seq}, {heads}, {head_dim})",
                "shape": list(viewed.shape),
                "contiguous": viewed.is_contiguous(),
            },
            {"step": ".permute(0, 2, 1, 3)", "shape": list(split.shape), "contiguous": split.is_contiguous()},
            {"step": "scores = q @ k.transpose(-1, -2)", "shape": [batch, heads, seq, seq], "contiguous": True},
            {
                "step": "context = softmax(scores) @ v",
                "shape": list(context.shape),
                "contiguous": context.is_contiguous(),
            },
            {"step": "merge: .permute(0, 2, 1, 3)", "shape": list(back.shape), "contiguous": back.is_contiguous()},
            {
                "step": f".contiguous().view({batch}, {seq}, {heads * head_dim})",
                "shape": list(merged.shape),
                "contiguous": merged.is_contiguous(),
            },
        ],
        "head_slice_equal": bool(torch.equal(split[:, h, t], x[:, t, h * head_dim : (h + 1) * head_dim])),
        "head_slice": f"split[:, {h}, {t}] == x[:, {t}, {h * head_dim}:{(h + 1) * head_dim}]",
        "round_trip_exact": bool(torch.equal(merged, x)),
        "matches_clearformer_split_heads": bool(torch.equal(split_heads(x, heads), split)),
        "matches_clearformer_merge_heads": bool(torch.equal(merge_heads(split), x)),
        "view_without_contiguous_error": view_error,
        "takeaway": (
            "view cuts each token's vector into heads (no copy), permute(0, 2, 1, 3) moves the head axis "
            "in front of the positions so every head attends independently, and the merge undoes both "
            "exactly (contiguous() first, because permute only changes strides)"
        ),
    }
