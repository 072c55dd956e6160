"""Chapters 2.3 / 3.1: the attention weights of a real model for one sentence, as pictures.

The real MiniLM runs with ``output_attentions=True`` (the eager path, which returns the weights);
every layer x head map goes into one grid PNG, the most focused head gets a labelled close-up, and
``attention-viewer.html`` lets you pick any layer and head in a browser.
"""

from __future__ import annotations

import torch

from .resources import load_model

SENTENCE = "The cat sat on the mat because it was tired."


@torch.no_grad()
def run(model=None, sentence: str = SENTENCE) -> dict:
    bert, tokenizer = load_model(model)
    batch = tokenizer(sentence, return_tensors="pt")
    attentions = torch.stack(bert(**batch, output_attentions=True).attentions)[:, 0]  # (layers, heads, L, L)
    tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist())
    entropy = -(attentions * attentions.clamp(min=1e-12).log()).sum(-1).mean(-1)  # (layers, heads)
    layer, head = divmod(int(entropy.argmin()), entropy.shape[1])
    it, cat = tokens.index("it"), tokens.index("cat")
    towards_cat = attentions[:, :, it, cat]
    best = divmod(int(towards_cat.argmax()), towards_cat.shape[1])
    return {
        "model": str(bert.config.name_or_path),
        "sentence": sentence,
        "tokens": tokens,
        "attentions_shape": list(attentions.shape),
        "max_row_sum_error": float((attentions.sum(-1) - 1).abs().max()),
        "most_focused_head": {"layer": layer, "head": head, "entropy": float(entropy[layer, head])},
        "most_diffuse_head_entropy": float(entropy.max()),
        "head_where_it_looks_most_at_cat": {
            "layer": best[0],
            "head": best[1],
            "weight": float(towards_cat[best[0], best[1]]),
        },
        "takeaway": (
            "each layer has one map per head, every row a softmax over the sentence; heads differ (some "
            "look at the next or previous token, some at [CLS]/[SEP], some spread out). Open "
            "attention-viewer.html to switch layers and heads"
        ),
        "_weights": attentions,
    }


def plot(result: dict, out) -> list:
    from .plotting import heatmap, pyplot, save
    from .viewer import write_attention_viewer

    plt = pyplot()
    weights = result["_weights"]
    layers, heads = weights.shape[:2]
    tokens = result["tokens"]
    fig, axes = plt.subplots(layers, heads, figsize=(1.6 * heads, 1.6 * layers + 0.8), squeeze=False)
    for l in range(layers):
        for h in range(heads):
            ax = axes[l][h]
            image = ax.imshow(weights[l, h].numpy(), cmap="Blues", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if l == 0:
                ax.set_title(f"head {h}", fontsize=9)
            if h == 0:
                ax.set_ylabel(f"layer {l}", fontsize=9)
    fig.colorbar(image, ax=axes, fraction=0.015, pad=0.01, label="attention weight")
    fig.suptitle(f"MiniLM attention, every layer x head: {result['sentence']!r} (rows = queries, cols = keys)")
    grid = out / "attention-map-grid.png"
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(grid, dpi=90)
    plt.close(fig)
    focus = result["most_focused_head"]
    fig, ax = plt.subplots(figsize=(7, 6))
    heatmap(
        ax,
        weights[focus["layer"], focus["head"]].numpy(),
        f"layer {focus['layer']}, head {focus['head']} (lowest entropy)",
        tokens,
        tokens,
        "key",
        "query",
        cmap="Blues",
        vmin=0,
        vmax=1,
        colorbar_label="attention weight",
    )
    close_up = save(fig, out, "attention-map-head.png")
    rounded = [[[[round(float(w), 4) for w in row] for row in m] for m in layer] for layer in weights]
    best = result["head_where_it_looks_most_at_cat"]
    viewer = write_attention_viewer(
        out / "attention-viewer.html",
        tokens,
        rounded,
        f"Attention: {result['sentence']}",
        result["model"],
        initial=(best["layer"], best["head"]),  # open on the head that links 'it' to 'cat'
    )
    return [grid, close_up, viewer]
