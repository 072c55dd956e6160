"""HB-29 Q7 / HB-28 Q5: what ``nn.Linear(in, out)`` computes: y = x W^T + b on the last dimension.

The weight is stored (out_features, in_features), so the forward pass multiplies by its transpose;
every leading dimension (batch, sequence) is carried along unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


def run(in_features: int = 4, out_features: int = 3, batch: int = 2, seq: int = 5, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    layer = nn.Linear(in_features, out_features)
    x = torch.randn(batch, seq, in_features)
    with torch.no_grad():
        y = layer(x)
        by_hand = x @ layer.weight.T + layer.bias
        by_einsum = torch.einsum("bsi,oi->bso", x, layer.weight) + layer.bias
        one_token = layer.weight @ x[0, 0] + layer.bias  # the same for one vector: W x + b
    return {
        "layer": f"nn.Linear(in_features={in_features}, out_features={out_features})",
        "shapes": {
            "x": list(x.shape),
            "weight": list(layer.weight.shape),
            "bias": list(layer.bias.shape),
            "y": list(y.shape),
        },
        "parameters": sum(p.numel() for p in layer.parameters()),
        "parameters_formula": f"{in_features}*{out_features} + {out_features}",
        "max_abs_diff_vs_x_WT_plus_b": float((y - by_hand).abs().max()),
        "max_abs_diff_vs_einsum": float((y - by_einsum).abs().max()),
        "max_abs_diff_single_token_W_x_plus_b": float((y[0, 0] - one_token).abs().max()),
        "course_usage": "w_q = nn.Linear(hid_dim, hid_dim): [batch, seq, hid_dim] -> [batch, seq, hid_dim]",
        "takeaway": (
            "nn.Linear acts on the last dimension only: y = x @ W.T + b with W stored as "
            "(out_features, in_features); batch and sequence dimensions pass through untouched"
        ),
    }
