"""DistilBertConfig: DistilBERT's own key names (dim, n_layers, n_heads, hidden_dim)."""

from __future__ import annotations

from dataclasses import dataclass

from ...configuration_utils import PretrainedConfig


@dataclass(eq=False)
class DistilBertConfig(PretrainedConfig):
    model_type = "distilbert"
    attribute_map = {
        "hidden_size": "dim",
        "num_attention_heads": "n_heads",
        "num_hidden_layers": "n_layers",
        "intermediate_size": "hidden_dim",
    }

    vocab_size: int = 30522
    max_position_embeddings: int = 512
    sinusoidal_pos_embds: bool = False  # fixed sinusoid (interleaved layout) instead of learned rows
    n_layers: int = 6  # half of bert-base: the distillation keeps every other layer
    n_heads: int = 12
    dim: int = 768
    hidden_dim: int = 3072
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation: str = "gelu"
    initializer_range: float = 0.02
    qa_dropout: float = 0.1
    seq_classif_dropout: float = 0.2
    pad_token_id: int | None = 0
