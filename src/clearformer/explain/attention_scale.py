"""HB-29 Q3: why divide the logits by sqrt(d), and T5's alternative (shrink the q/k init by d).

For q, k with unit-variance entries, q.k has variance d: at d = 512 the logits spread over about
+-3 sqrt(d) = +-68, the softmax is nearly one-hot and its gradient nearly zero. Dividing by sqrt(d)
brings the variance back to 1. T5 divides nothing but initialises W_q with a variance d times
smaller, which gives the same unit-variance logits at the start of training.
"""

from __future__ import annotations

import math

import torch

DIMS = (16, 32, 64, 128, 256, 512, 1024)


def _softmax_stats(logits: torch.Tensor) -> dict:
    """Saturation (max weight, entropy) and the gradient size ||d softmax / d logits||_F per row."""
    p = torch.softmax(logits, dim=-1)  # (N, L)
    # Jacobian of softmax is diag(p) - p p^T; its Frobenius norm^2 = sum p^2 - 2 sum p^3 + (sum p^2)^2
    s2, s3 = (p**2).sum(-1), (p**3).sum(-1)
    jac = (s2 - 2 * s3 + s2**2).clamp(min=0).sqrt()
    entropy = -(p * p.clamp(min=1e-30).log()).sum(-1)
    return {
        "max_weight": float(p.max(-1).values.mean()),
        "entropy": float(entropy.mean()),
        "grad_norm": float(jac.mean()),
    }


def run(dims: tuple[int, ...] = DIMS, queries: int = 256, keys: int = 32, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    rows = []
    for d in dims:
        # Inputs after LayerNorm have unit variance; standard init W ~ N(0, 1/d) keeps q, k at unit variance.
        x_q = torch.randn(queries, d, generator=g)
        x_k = torch.randn(keys, d, generator=g)
        w_q = torch.randn(d, d, generator=g) / math.sqrt(d)
        w_k = torch.randn(d, d, generator=g) / math.sqrt(d)
        q, k = x_q @ w_q, x_k @ w_k
        raw = q @ k.T  # (queries, keys)
        scaled = raw / math.sqrt(d)
        t5 = (x_q @ (w_q / math.sqrt(d))) @ k.T  # T5: W_q drawn with variance 1/d^2, no division
        unscaled_stats, scaled_stats = _softmax_stats(raw), _softmax_stats(scaled)
        rows.append(
            {
                "d": d,
                "var_unscaled": float(raw.var()),
                "var_scaled": float(scaled.var()),
                "var_t5_init": float(t5.var()),
                "max_weight_unscaled": unscaled_stats["max_weight"],
                "max_weight_scaled": scaled_stats["max_weight"],
                "grad_norm_unscaled": unscaled_stats["grad_norm"],
                "grad_norm_scaled": scaled_stats["grad_norm"],
                "entropy_unscaled": unscaled_stats["entropy"],
                "entropy_scaled": scaled_stats["entropy"],
            }
        )
    return {
        "setup": f"{queries} queries x {keys} keys, q = x W_q, k = x W_k, x ~ N(0, 1), W ~ N(0, 1/d)",
        "uniform_entropy": math.log(keys),
        "rows": rows,
        "takeaway": (
            "without 1/sqrt(d) the logit variance grows like d, the softmax saturates (max weight -> 1) "
            "and its gradient collapses; with it the variance stays ~1 for every d. T5 gets the same "
            "unit variance by initialising W_q with variance 1/d times smaller instead of dividing"
        ),
    }


def plot(result: dict, out) -> list:
    from .plotting import pyplot, save

    plt = pyplot()
    rows = result["rows"]
    d = [r["d"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    axes[0].plot(d, [r["var_unscaled"] for r in rows], "o-", label="q.k (no scaling)")
    axes[0].plot(d, [r["var_scaled"] for r in rows], "s-", label="q.k / sqrt(d)")
    axes[0].plot(d, [r["var_t5_init"] for r in rows], "^--", label="T5: W_q init / sqrt(d)")
    axes[0].set(
        xscale="log", yscale="log", xlabel="head dimension d", ylabel="variance of logits", title="Logit variance"
    )
    axes[1].plot(d, [r["max_weight_unscaled"] for r in rows], "o-", label="no scaling")
    axes[1].plot(d, [r["max_weight_scaled"] for r in rows], "s-", label="/ sqrt(d)")
    axes[1].set(
        xscale="log",
        ylim=(0, 1.05),
        xlabel="head dimension d",
        ylabel="mean largest softmax weight",
        title="Softmax saturation",
    )
    axes[2].plot(d, [r["grad_norm_unscaled"] for r in rows], "o-", label="no scaling")
    axes[2].plot(d, [r["grad_norm_scaled"] for r in rows], "s-", label="/ sqrt(d)")
    axes[2].set(
        xscale="log",
        yscale="log",
        xlabel="head dimension d",
        ylabel="||d softmax / d logits||",
        title="Gradient through the softmax",
    )
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Why attention divides by sqrt(d)")
    return [save(fig, out, "attention-scale.png")]
