"""HB-29 Q6: why attention projects X into Q, K and V instead of using X itself.

With Q = K = V = X every token's best match is itself: x_i . x_i = |x_i|^2 beats x_i . x_j, so the
diagonal dominates and attention mostly copies the token back. Separate learned W_q and W_k let a
token ask for something other than itself (a verb looks for its subject). Shown on random vectors
and on the real MiniLM's first layer.
"""

from __future__ import annotations

import math

import torch

from .resources import MissingResource, load_model

SENTENCE = "the animal did not cross the street because it was too tired"


def _diag_stats(weights: torch.Tensor) -> dict:
    """weights (..., L, L): mean weight on the diagonal, share of rows whose largest weight is on it."""
    n = weights.shape[-1]
    diag = torch.diagonal(weights, dim1=-2, dim2=-1)
    argmax_self = (weights.argmax(-1) == torch.arange(n)).float()
    return {
        "mean_self_weight": float(diag.mean()),
        "rows_attending_most_to_self": float(argmax_self.mean()),
        "uniform_weight": 1.0 / n,
    }


def _synthetic(length: int = 10, dim: int = 64, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(length, dim, generator=g)
    w_q, w_k = (torch.randn(dim, dim, generator=g) / math.sqrt(dim) for _ in range(2))
    plain = torch.softmax(x @ x.T / math.sqrt(dim), -1)
    projected = torch.softmax((x @ w_q) @ (x @ w_k).T / math.sqrt(dim), -1)
    return {"Q=K=V=X": _diag_stats(plain), "random W_q, W_k": _diag_stats(projected)}


@torch.no_grad()
def _real(model) -> dict:
    bert, tokenizer = load_model(model)
    batch = tokenizer(SENTENCE, return_tensors="pt")
    x = bert.embeddings(batch["input_ids"], batch["token_type_ids"])[0]  # what layer 0 receives
    d = x.shape[-1]
    plain = torch.softmax(x @ x.T / math.sqrt(d), -1)
    learned = bert(**batch, output_attentions=True).attentions[0][0]  # (heads, L, L)
    return {
        "model": bert.config.name_or_path,
        "tokens": tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist()),
        "Q=K=V=X (embeddings)": _diag_stats(plain),
        "learned W_q, W_k (layer 0, all heads)": _diag_stats(learned),
        "_plain": plain.tolist(),
        "_learned_mean": learned.mean(0).tolist(),
    }


def run(model=None) -> dict:
    result = {"synthetic (10 random tokens, d=64)": _synthetic()}
    try:
        real = _real(model)
        result["real_minilm"] = {k: v for k, v in real.items() if not k.startswith("_")}
        result["_real"] = real
    except MissingResource as err:
        result["real_minilm"] = f"skipped: {err}"
    result["takeaway"] = (
        "without projections each token's largest score is with itself, so attention mostly copies the token; "
        "learned W_q and W_k spread the weight to other tokens (and W_v chooses what is passed on)"
    )
    return result


def plot(result: dict, out) -> list:
    if "_real" not in result:
        return []
    from .plotting import heatmap, pyplot, save

    plt = pyplot()
    real = result["_real"]
    toks = real["tokens"]
    fig, axes = plt.subplots(1, 2, figsize=(14, 6))
    heatmap(
        axes[0],
        real["_plain"],
        "Q = K = V = X: softmax(X X^T / sqrt(d))",
        toks,
        toks,
        "key",
        "query",
        vmin=0,
        vmax=1,
        colorbar_label="attention weight",
    )
    heatmap(
        axes[1],
        real["_learned_mean"],
        "learned projections: MiniLM layer 0, mean of 12 heads",
        toks,
        toks,
        "key",
        "query",
        vmin=0,
        vmax=1,
        colorbar_label="attention weight",
    )
    fig.suptitle("Why project X into Q/K/V")
    return [save(fig, out, "qkv-projections.png")]
