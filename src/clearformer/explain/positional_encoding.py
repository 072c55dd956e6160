"""HB-29 Q4: the course's sinusoidal positional-encoding lines, run one by one with shapes.

``P[:, :, 0::2] = sin(X_)`` fills the even columns, ``P[:, :, 1::2] = cos(X_)`` the odd ones, and
``X + P[:, :X.shape[1], :]`` cuts the table to the sentence length and broadcasts it over the
batch. The result equals clearformer's ``sinusoidal_table`` (interleaved); the half-split layout
(Marian) holds the same columns in another order.
"""

from __future__ import annotations

import torch

from ..nn.positional import sinusoidal_table


def course_style_encoding(X: torch.Tensor, num_features: int, max_len: int = 512) -> tuple[torch.Tensor, dict]:
    """The lines the handbook asks about, written out; returns X + P and the shapes on the way."""
    P = torch.zeros((1, max_len, num_features))
    X_ = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
        10000, torch.arange(0, num_features, 2, dtype=torch.float32) / num_features
    )  # (max_len, num_features/2): position / 10000^(2i/d)
    P[:, :, 0::2] = torch.sin(X_)
    P[:, :, 1::2] = torch.cos(X_)
    shapes = {
        "P": list(P.shape),
        "X_ (angles)": list(X_.shape),
        "P[:, :, 0::2]": list(P[:, :, 0::2].shape),
        "P[:, :, 1::2]": list(P[:, :, 1::2].shape),
        "X": list(X.shape),
        "P[:, :X.shape[1], :]": list(P[:, : X.shape[1], :].shape),
        "X + P[:, :X.shape[1], :]": list((X + P[:, : X.shape[1], :]).shape),
    }
    return X + P[:, : X.shape[1], :], shapes


def run(batch: int = 2, seq: int = 4, num_features: int = 10, seed: int = 0) -> dict:
    X = torch.randn(batch, seq, num_features, generator=torch.Generator().manual_seed(seed))
    Y, shapes = course_style_encoding(X, num_features)
    P = (Y - X)[0]  # what was added to the first sentence = rows 0..seq-1 of the table
    table = sinusoidal_table(512, num_features, "interleaved")
    half = sinusoidal_table(512, num_features, "half")
    n = (num_features + 1) // 2
    order = list(range(0, num_features, 2)) + list(range(1, num_features, 2))  # evens (sin) then odds (cos)
    big = sinusoidal_table(200, 64)
    dots = big @ big.T  # P[p] . P[p+k] depends on k only: the encoding carries relative offsets
    offsets = {k: torch.diagonal(dots, k)[:100] for k in (1, 5, 20)}
    return {
        "shapes": shapes,
        "same_added_to_every_sentence": bool(torch.allclose(Y[1] - X[1], P, atol=1e-6)),
        "max_abs_diff_vs_clearformer_sinusoidal_table": float((P - table[:seq]).abs().max()),
        "column_0_is_sin_of_position": [round(v, 4) for v in P[:, 0].tolist()],
        "column_1_is_cos_of_position": [round(v, 4) for v in P[:, 1].tolist()],
        "half_layout_is_a_column_permutation": bool(torch.allclose(table[:, order], half, atol=1e-6)),
        "half_layout": f"sin in columns 0..{n - 1}, cos in {n}..{num_features - 1}",
        "dot_product_spread_for_fixed_offset": {f"k={k}": float(v.max() - v.min()) for k, v in offsets.items()},
        "takeaway": (
            "0::2 / 1::2 are strided slices: even columns get sin, odd columns cos, each pair with its own "
            "wavelength; P[:, :X.shape[1], :] keeps the first L rows and broadcasting adds them to every "
            "sentence of the batch. The half layout is the same numbers with the columns reordered"
        ),
        "_interleaved": sinusoidal_table(100, 64).tolist(),
        "_half": sinusoidal_table(100, 64, "half").tolist(),
    }


def plot(result: dict, out) -> list:
    from .plotting import heatmap, pyplot, save

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    heatmap(
        axes[0],
        result["_interleaved"],
        "interleaved: P[:, 0::2] = sin, P[:, 1::2] = cos",
        xlabel="dimension",
        ylabel="position",
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        colorbar_label="value",
    )
    heatmap(
        axes[1],
        result["_half"],
        "half split (Marian): sin | cos",
        xlabel="dimension",
        ylabel="position",
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        colorbar_label="value",
    )
    fig.suptitle("Sinusoidal positional encoding, 100 positions x 64 dims")
    return [save(fig, out, "positional-encoding.png")]
