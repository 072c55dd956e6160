"""Tiny random oracle models (transformers 5.24) and output comparison, shared by parity tests."""

from __future__ import annotations

import torch

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=99)
TINY_DISTIL = dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37, vocab_size=99)


def oracle_config(family: str, **extra):
    import transformers

    if family == "bert":
        return transformers.BertConfig(**TINY, attn_implementation="eager", **extra)
    if family == "roberta":
        return transformers.RobertaConfig(**TINY, attn_implementation="eager", **extra)
    if family == "distilbert":
        return transformers.DistilBertConfig(**TINY_DISTIL, attn_implementation="eager", **extra)
    raise ValueError(family)


def max_diff(a, b) -> float:
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{len(a)} vs {len(b)} items"
        return max((max_diff(x, y) for x, y in zip(a, b)), default=0.0)
    return (a.float() - b.float()).abs().max().item()


def compare_outputs(ref, ours, atol: float = 1e-5) -> dict[str, float]:
    """Every tensor field the oracle returned must be in ours and equal within atol."""
    diffs = {}
    for key in ref:
        value = ref[key]
        if not isinstance(value, (torch.Tensor, tuple)) or (isinstance(value, tuple) and not value):
            continue
        mine = getattr(ours, key, None)
        assert mine is not None, f"clearformer output lacks {key}"
        diffs[key] = max_diff(value, mine)
    assert diffs, "nothing was compared"
    bad = {k: v for k, v in diffs.items() if not v <= atol}
    assert not bad, f"outputs differ beyond {atol}: {bad}"
    return diffs
