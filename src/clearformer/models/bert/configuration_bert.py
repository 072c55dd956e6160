"""BertConfig: the fields of a BERT config.json, with bert-base-uncased's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ...configuration_utils import PretrainedConfig


@dataclass(eq=False)
class BertConfig(PretrainedConfig):
    model_type = "bert"

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072  # 4 x hidden, as in the paper's FFN
    hidden_act: str = "gelu"  # exact erf GELU; the original TF code used the tanh form (gelu_new)
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512  # learned positions: the table's length is a hard limit
    type_vocab_size: int = 2  # segment A / segment B
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int | None = 0
    position_embedding_type: str = "absolute"  # or relative_key / relative_key_query (Shaw; Huang)
    classifier_dropout: float | None = None  # None: use hidden_dropout_prob
