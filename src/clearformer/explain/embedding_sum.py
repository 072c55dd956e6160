"""HB-29 Q1: token + position + segment embeddings, summed, are one linear layer.

With 4 tokens, 3 positions and 2 segments, looking up three tables and adding equals multiplying
the concatenated one-hot vector (4+3+2 = 9 entries, three of them 1) by the stacked [9, H] table,
and equals a [24, H] table over the joint one-hot space (4*3*2 entries, one of them 1) whose rows
are constrained to be sums (rank 4+3+2-2 = 7). Then what LayerNorm does to the summed variances.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn


def run(vocab: int = 4, positions: int = 3, segments: int = 2, hidden: int = 768, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    std = 0.02  # BERT's initializer_range
    tok = torch.randn(vocab, hidden, generator=g) * std
    pos = torch.randn(positions, hidden, generator=g) * std
    seg = torch.randn(segments, hidden, generator=g) * std
    combos = list(itertools.product(range(vocab), range(positions), range(segments)))
    t, p, s = (torch.tensor(c) for c in zip(*combos))

    summed = tok[t] + pos[p] + seg[s]  # (24, H): three lookups, added
    onehot = torch.cat(
        [nn.functional.one_hot(t, vocab), nn.functional.one_hot(p, positions), nn.functional.one_hot(s, segments)],
        dim=1,
    ).float()  # (24, 9)
    stacked = torch.cat([tok, pos, seg])  # (9, H): the weight of one bias-free Linear(9, H)
    linear = nn.Linear(vocab + positions + segments, hidden, bias=False)
    with torch.no_grad():
        linear.weight.copy_(stacked.T)
        via_linear = linear(onehot)

    joint_ids = (t * positions + p) * segments + s  # one id per (token, position, segment)
    joint_table = torch.zeros(vocab * positions * segments, hidden)
    joint_table[joint_ids] = summed  # a [24, H] table that happens to hold the sums
    via_joint = nn.functional.one_hot(joint_ids, len(combos)).float() @ joint_table

    layer_norm = nn.LayerNorm(hidden, eps=1e-12)
    normed = layer_norm(summed).detach()
    return {
        "example": {
            "token": 1,
            "position": 2,
            "segment": 1,
            "concatenated_one_hot": onehot[combos.index((1, 2, 1))].int().tolist(),
        },
        "shapes": {
            "token_table": list(tok.shape),
            "position_table": list(pos.shape),
            "segment_table": list(seg.shape),
            "stacked_linear_weight": list(stacked.shape),
            "joint_table": list(joint_table.shape),
        },
        "max_abs_diff_sum_vs_linear": float((summed - via_linear).abs().max()),
        "max_abs_diff_sum_vs_joint_table": float((summed - via_joint).abs().max()),
        "parameters_sum": stacked.numel(),
        "parameters_joint_table": joint_table.numel(),
        # in float64, so float32 rounding of the sums does not count as extra rank
        "joint_table_rank": int(torch.linalg.matrix_rank(tok.double()[t] + pos.double()[p] + seg.double()[s])),
        "expected_rank": vocab + positions + segments - 2,
        "variance": {
            "token": float(tok.var()),
            "position": float(pos.var()),
            "segment": float(seg.var()),
            "sum": float(summed.var()),
            "sum_of_three": float(tok.var() + pos.var() + seg.var()),
            "after_layernorm_per_token_mean": float(normed.var(dim=-1, unbiased=False).mean()),
            "after_layernorm_mean_abs_mean": float(normed.mean(dim=-1).abs().mean()),
        },
        "takeaway": (
            "adding the three lookups is exactly one linear layer over the concatenated one-hots "
            f"({vocab}+{positions}+{segments} rows), and a {len(combos)}-row joint table restricted to rank "
            f"{vocab + positions + segments - 2}; the variances add (three N(0, 0.02^2) tables give ~3x), "
            "and LayerNorm rescales every token vector to mean 0, variance 1 before the encoder sees it"
        ),
    }
