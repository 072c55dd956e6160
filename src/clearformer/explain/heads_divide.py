"""HB-28 Q4: why num_attention_heads must divide hidden_size, and the error clearformer raises.

Each head gets hidden_size / num_heads dimensions of the same projected vector; the split is a
``view`` that only works when the division is exact (768 = 12 x 64, 512 = 8 x 64).
"""

from __future__ import annotations

import torch


def run(hidden: int = 768, bad_heads: int = 10) -> dict:
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertSelfAttention

    divisors = [h for h in range(1, 33) if hidden % h == 0]
    with torch.device("meta"):  # building the layer is all we need: no memory, no init cost
        ok = BertSelfAttention(BertConfig(hidden_size=hidden, num_attention_heads=12))
        try:
            BertSelfAttention(BertConfig(hidden_size=hidden, num_attention_heads=bad_heads))
            clearformer_error = None
        except ValueError as err:
            clearformer_error = str(err)
    x = torch.zeros(1, 5, hidden)
    try:
        x.view(1, 5, bad_heads, hidden // bad_heads)
        view_error = None
    except RuntimeError as err:
        view_error = str(err)
    return {
        "hidden_size": hidden,
        "ok_example": f"{hidden} / 12 = {ok.attention_head_size} dims per head",
        "head_counts_that_divide_up_to_32": divisors,
        "bad_example": f"{hidden} / {bad_heads} = {hidden / bad_heads} (not an integer)",
        "clearformer_error": clearformer_error,
        "what_view_would_say": view_error,
        "takeaway": (
            f"the heads share the {hidden} projected dimensions equally, so num_heads must divide "
            f"hidden_size; clearformer refuses at construction with a message naming both numbers "
            f"instead of the opaque view error you would hit at the first forward pass"
        ),
    }
