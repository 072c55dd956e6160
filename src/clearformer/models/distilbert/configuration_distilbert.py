"""DistilBertConfig: DistilBERT's own key names (dim, n_layers, n_heads, hidden_dim)."""

from __future__ import annotations

from dataclasses import dataclass

from ...configuration_utils import PretrainedConfig


@dataclass(eq=False, init=False)
class DistilBertConfig(PretrainedConfig):
    model_type = "distilbert"
    attribute_map = {
        "hidden_size": "dim",
        "num_attention_heads": "n_heads",
        "num_hidden_layers": "n_layers",
        "intermediate_size": "hidden_dim",
    }
    # Layers may be 0 (an embeddings-only model); every width and table needs at least one row.
    size_fields = {
        "vocab_size": 1,
        "max_position_embeddings": 1,
        "n_layers": 0,
        "n_heads": 1,
        "dim": 1,
        "hidden_dim": 1,
    }
    layer_fields = ("n_layers",)
    probability_fields = ("dropout", "attention_dropout", "qa_dropout", "seq_classif_dropout")
    nonnegative_fields = ("initializer_range",)
    activation_fields = ("activation",)
    head_splits = (("dim", "n_heads"),)
    padding_tables = ("vocab_size",)

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

    def parameter_terms(self) -> list[tuple[str, int, tuple[str, ...]]]:
        d, inner = self.dim, self.hidden_dim
        layer = 4 * d * d + 4 * d + 2 * d * inner + inner + 5 * d  # attention, FFN, two LayerNorms
        return [
            ("the token embeddings", self.vocab_size * d, ("vocab_size", "dim")),
            ("the position embeddings", self.max_position_embeddings * (d + 1), ("max_position_embeddings", "dim")),
            ("the layers", self.n_layers * layer, ("n_layers", "dim", "hidden_dim")),
            ("a task head", d * d + (self.num_labels + 1) * d, ("dim",)),
        ]
