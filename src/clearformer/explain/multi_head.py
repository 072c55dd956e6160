"""HB-29 Q5 / HB-28 Q4, Q8: what several heads buy, and 12 heads of 64 vs one head of 768.

On the real MiniLM each head's attention is summarised by its entropy (how spread), the mean
distance |i - j| it looks across, and its weight on the previous token and on [CLS]/[SEP]: heads
of the same layer differ. Then two clearformer attention layers of width 768, 12 heads and 1 head,
with the very same weights: equal parameters and matmul FLOPs (counted by torch), 12 softmaxes
instead of 1, and different outputs.
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from .resources import load_model

SENTENCE = "the quick brown fox jumps over the lazy dog because it wanted to reach the river"


def head_statistics(weights: torch.Tensor) -> dict[str, torch.Tensor]:
    """weights (H, L, L) -> per-head entropy, mean |i-j|, previous-token and [CLS]/[SEP] weight."""
    n = weights.shape[-1]
    pos = torch.arange(n, dtype=weights.dtype)
    entropy = -(weights * weights.clamp(min=1e-12).log()).sum(-1).mean(-1)
    distance = (weights * (pos[:, None] - pos[None, :]).abs()).sum(-1).mean(-1)
    previous = torch.diagonal(weights, offset=-1, dim1=-2, dim2=-1).mean(-1)
    special = (weights[..., 0] + weights[..., -1]).mean(-1)
    return {"entropy": entropy, "distance": distance, "previous_token": previous, "cls_sep": special}


@torch.no_grad()
def _real(model) -> dict:
    bert, tokenizer = load_model(model)
    batch = tokenizer(SENTENCE, return_tensors="pt")
    attentions = bert(**batch, output_attentions=True).attentions  # layers x (1, H, L, L)
    stats = [head_statistics(a[0]) for a in attentions]
    per_layer = []
    for layer, s in enumerate(stats):
        per_layer.append(
            {
                "layer": layer,
                "entropy_min": float(s["entropy"].min()),
                "entropy_max": float(s["entropy"].max()),
                "distance_min": float(s["distance"].min()),
                "distance_max": float(s["distance"].max()),
                "best_previous_token_head": int(s["previous_token"].argmax()),
                "its_previous_token_weight": float(s["previous_token"].max()),
            }
        )
    return {
        "per_layer": per_layer,
        "tokens": len(batch["input_ids"][0]),
        "_entropy": torch.stack([s["entropy"] for s in stats]).tolist(),
        "_distance": torch.stack([s["distance"] for s in stats]).tolist(),
    }


def _one_vs_many(width: int = 768, heads: int = 12, length: int = 64) -> dict:
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertAttention

    torch.manual_seed(0)
    many = BertAttention(BertConfig(hidden_size=width, num_attention_heads=heads)).eval()
    one = BertAttention(BertConfig(hidden_size=width, num_attention_heads=1)).eval()
    one.load_state_dict(many.state_dict())  # the very same weights
    x = torch.randn(1, length, width)
    result = {}
    with torch.no_grad():
        for name, layer in ((f"{heads} heads x {width // heads}", many), (f"1 head x {width}", one)):
            counter = FlopCounterMode(display=False)
            with counter:
                out, weights = layer(x, output_attentions=True)
            result[name] = {
                "parameters": sum(p.numel() for p in layer.parameters()),
                "matmul_flops": int(counter.get_total_flops()),
                "softmax_rows": int(weights.shape[1] * weights.shape[2]),
                "attention_weights_shape": list(weights.shape),
                "_out": out,
            }
    a, b = (v.pop("_out") for v in result.values())
    result["max_abs_diff_between_outputs"] = float((a - b).abs().max())
    result["sequence_length"] = length
    return result


def run(model=None) -> dict:
    real = _real(model)
    return {
        "sentence": SENTENCE,
        "minilm_heads_per_layer": [
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()} for row in real["per_layer"]
        ],
        "width_768": _one_vs_many(),
        "takeaway": (
            "heads of one layer attend differently (some spread over the sentence, some lock onto the previous "
            "token or [CLS]/[SEP]); splitting 768 into 12 x 64 costs the same parameters and matmul FLOPs as one "
            "768 head but gives 12 independent softmaxes, i.e. 12 different weightings of the same tokens"
        ),
        "_entropy": real["_entropy"],
        "_distance": real["_distance"],
    }


def plot(result: dict, out) -> list:
    from .plotting import heatmap, pyplot, save

    plt = pyplot()
    layers = len(result["_entropy"])
    heads = len(result["_entropy"][0])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    heatmap(
        axes[0],
        result["_entropy"],
        "entropy of each head's attention (nats)",
        list(range(heads)),
        list(range(layers)),
        "head",
        "layer",
        cmap="magma",
        colorbar_label="mean entropy per query",
        annotate=True,
    )
    heatmap(
        axes[1],
        result["_distance"],
        "mean distance |i - j| each head looks across",
        list(range(heads)),
        list(range(layers)),
        "head",
        "layer",
        cmap="viridis",
        colorbar_label="tokens",
        annotate=True,
    )
    fig.suptitle("MiniLM: heads of the same layer attend differently")
    return [save(fig, out, "multi-head.png")]
