"""HB-28 Q2 / chapter 3.1: every Dropout and LayerNorm in BERT, in order, and post- vs pre-norm.

BertModel of bert-base shape has 1 + 3 x 12 = 37 Dropout and 1 + 2 x 12 = 25 LayerNorm modules
(embeddings, then per layer: attention probabilities, attention output, FFN output); heads add
their own. Counted, and their order recorded by hooks, on a narrow model with bert-base's 12
layers and 12 heads.
"""

from __future__ import annotations

import torch
from torch import nn


def _counts(model: nn.Module) -> tuple[int, int]:
    mods = list(model.modules())
    return sum(isinstance(m, nn.Dropout) for m in mods), sum(isinstance(m, nn.LayerNorm) for m in mods)


def _forward_order() -> list[str]:
    """Names of the Dropout / LayerNorm modules of embeddings + layer 0, in the order they run."""
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertModel

    model = BertModel(BertConfig(hidden_size=48, intermediate_size=192, vocab_size=1000)).train()
    calls: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Dropout, nn.LayerNorm)) and (name.startswith("embeddings") or ".layer.0." in name):
            module.register_forward_hook(lambda m, i, o, name=name: calls.append(f"{name} ({type(m).__name__})"))
    # The attention-probability dropout is applied inside the attention function (dropout_p), not by
    # calling the module, so its place is written into the list where that function runs.
    model(torch.zeros(1, 4, dtype=torch.long))
    first_layer = next(i for i, c in enumerate(calls) if ".layer.0." in c)
    calls.insert(first_layer, "encoder.layer.0.attention.self.dropout (Dropout, on softmax weights)")
    return calls


def _norm_growth(layers: int = 12, width: int = 64, seed: int = 0) -> dict:
    """Residual-stream std after each layer: post-norm LN(x + f(x)) vs pre-norm x + f(LN(x))."""
    torch.manual_seed(seed)
    blocks = [nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width)) for _ in range(layers)]
    norms = [nn.LayerNorm(width) for _ in range(layers)]
    x = torch.randn(16, width)
    post, pre = x, x
    post_std, pre_std = [], []
    with torch.no_grad():
        for f, ln in zip(blocks, norms):
            post = ln(post + f(post))
            pre = pre + f(ln(pre))
            post_std.append(round(float(post.std()), 3))
            pre_std.append(round(float(pre.std()), 3))
    return {"post_norm_std_per_layer": post_std, "pre_norm_std_per_layer": pre_std}


def run() -> dict:
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertForMaskedLM, BertForSequenceClassification, BertModel

    # bert-base's 12 layers and 12 heads at width 48: the module counts do not depend on the width,
    # and building this takes milliseconds (the 768-wide model takes seconds, even on the meta device).
    config = BertConfig(hidden_size=48, intermediate_size=192, vocab_size=1000)
    base = _counts(BertModel(config))
    seq_cls = _counts(BertForSequenceClassification(config))
    mlm = _counts(BertForMaskedLM(config))
    return {
        "config": "bert-base shape (12 layers, 12 heads) at width 48: the counts do not depend on the width",
        "BertModel": {"Dropout": base[0], "LayerNorm": base[1]},
        "formula": "Dropout 1 + (1 + 1 + 1) x 12 = 37; LayerNorm 1 + (1 + 1) x 12 = 25",
        "BertForSequenceClassification": {
            "Dropout": seq_cls[0],
            "LayerNorm": seq_cls[1],
            "extra": "dropout before the classifier",
        },
        "BertForMaskedLM": {
            "Dropout": mlm[0],
            "LayerNorm": mlm[1],
            "extra": "LayerNorm in the MLM head transform; no pooler",
        },
        "forward_order_embeddings_and_layer_0": _forward_order(),
        "post_norm_vs_pre_norm": _norm_growth(),
        "takeaway": (
            "BERT is post-norm: each sublayer is LayerNorm(x + Dropout(sublayer(x))), plus one dropout on "
            "the attention probabilities and one LayerNorm+Dropout after the embeddings: 37 and 25 for "
            "bert-base. Post-norm keeps the residual stream at unit scale; pre-norm (GPT-2) lets it grow "
            "and normalises only the sublayer inputs"
        ),
    }
