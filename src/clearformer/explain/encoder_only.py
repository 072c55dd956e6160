"""HB-29 Q8 / HB-28 Q1, Q13: BERT's bidirectional mask vs GPT's causal mask.

A masked-LM fills a blank from both sides ("the [MASK] sat on the mat" needs "sat on the mat"),
so every token must see every other: no causal mask, hence encoder-only. A causal model (GPT-2,
or BERT with is_decoder=True) lets position i see only 0..i. Shown with clearformer's own mask
builders and by measuring which inputs a tiny BERT's output at the blank depends on.
"""

from __future__ import annotations

import torch

TOKENS = ["[CLS]", "the", "[MASK]", "sat", "on", "the", "mat", "[SEP]"]


def _influence(is_decoder: bool, position: int, seed: int) -> list[float]:
    """||d output[position] / d input[j]|| for each j, in a tiny random BertModel."""
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        is_decoder=is_decoder,
    )
    model = BertModel(config, add_pooling_layer=False).eval()
    embeds = torch.randn(1, len(TOKENS), 32, requires_grad=True)
    out = model(inputs_embeds=embeds, use_cache=False).last_hidden_state
    # A random readout: a plain sum of a LayerNorm output is constant and would have zero gradient.
    readout = torch.randn(out.shape[-1], generator=torch.Generator().manual_seed(seed))
    (out[0, position] @ readout).backward()
    return embeds.grad[0].norm(dim=-1).tolist()


def run(seed: int = 0) -> dict:
    from ..nn.masks import causal_allowed

    n = len(TOKENS)
    blank = TOKENS.index("[MASK]")
    causal = causal_allowed(n, n).int()
    bidirectional = torch.ones(n, n, dtype=torch.int)
    enc = _influence(False, blank, seed)
    dec = _influence(True, blank, seed)
    return {
        "tokens": TOKENS,
        "blank_position": blank,
        "visible_keys_per_query_bidirectional": bidirectional.sum(1).tolist(),
        "visible_keys_per_query_causal": causal.sum(1).tolist(),
        "influence_on_blank_bidirectional": [round(v, 5) for v in enc],
        "influence_on_blank_causal": [round(v, 5) for v in dec],
        "right_context_influence_causal": float(sum(dec[blank + 1 :])),
        "right_context_influence_bidirectional": float(sum(enc[blank + 1 :])),
        "takeaway": (
            "with the bidirectional (encoder) mask the prediction at [MASK] depends on 'sat on the mat'; "
            "with the causal mask that right context has exactly zero influence, so a masked-LM objective "
            "needs the encoder. GPT-2 keeps the causal mask because it predicts the next token"
        ),
        "_masks": {"bidirectional": bidirectional.tolist(), "causal": causal.tolist()},
    }


def plot(result: dict, out) -> list:
    from .plotting import heatmap, pyplot, save

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    toks = result["tokens"]
    heatmap(
        axes[0],
        result["_masks"]["bidirectional"],
        "BERT (encoder): every query sees every key",
        toks,
        toks,
        "key",
        "query",
        cmap="Greens",
        vmin=0,
        vmax=1,
        colorbar_label="1 = may attend",
    )
    heatmap(
        axes[1],
        result["_masks"]["causal"],
        "GPT / is_decoder=True: causal mask",
        toks,
        toks,
        "key",
        "query",
        cmap="Greens",
        vmin=0,
        vmax=1,
        colorbar_label="1 = may attend",
    )
    blank = result["blank_position"]
    x = [i for i in range(len(toks)) if i != blank]  # the blank's own input dwarfs the others: left out
    axes[2].bar(
        [i - 0.2 for i in x], [result["influence_on_blank_bidirectional"][i] for i in x], 0.4, label="bidirectional"
    )
    axes[2].bar([i + 0.2 for i in x], [result["influence_on_blank_causal"][i] for i in x], 0.4, label="causal")
    axes[2].set_xticks(x)
    axes[2].set_xticklabels([toks[i] for i in x], rotation=90)
    axes[2].set(ylabel="||d out[MASK] / d input[j]||", title="Influence of the other tokens on [MASK]")
    axes[2].legend()
    fig.suptitle("Encoder-only BERT vs causal decoders")
    return [save(fig, out, "encoder-only.png")]
