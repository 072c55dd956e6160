"""Shared picture helpers over matplotlib (the ``[viz]`` extra), imported lazily, Agg backend.

Every picture gets a title, axis labels and, for heatmaps, a colour bar; files are PNGs at a
resolution that stays readable when shrunk into the ``--all`` index page.
"""

from __future__ import annotations

from pathlib import Path

from .resources import MissingResource


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend, or a clear error naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise MissingResource(
            "pictures need matplotlib: pip install clearformer[viz] (or pip install matplotlib); "
            "the numbers above were computed without it"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def heatmap(
    ax,
    matrix,
    title: str,
    xlabels=None,
    ylabels=None,
    xlabel: str = "",
    ylabel: str = "",
    cmap: str = "viridis",
    vmin=None,
    vmax=None,
    colorbar_label: str = "",
    annotate: bool = False,
):
    """Draw ``matrix`` on ``ax`` with labels, a title and a colour bar; returns the image."""
    import numpy as np

    values = np.asarray(matrix, dtype=float)
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)))
        ax.set_xticklabels(xlabels, rotation=90, fontsize=8)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)))
        ax.set_yticklabels(ylabels, fontsize=8)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if colorbar_label:
        bar.set_label(colorbar_label)
    if annotate:
        from matplotlib import patheffects

        halo = [patheffects.withStroke(linewidth=1.5, foreground="white")]  # readable on dark and light cells
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                ax.text(j, i, f"{values[i, j]:.2g}", ha="center", va="center", fontsize=6, path_effects=halo)
    return image


def save(fig, out: str | Path, name: str) -> Path:
    """Write ``fig`` as ``out/name`` and close it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
