"""BertConfig: the fields of a BERT config.json, with bert-base-uncased's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ...configuration_utils import PretrainedConfig

POSITION_EMBEDDING_TYPES = ("absolute", "relative_key", "relative_key_query")


@dataclass(eq=False, init=False)
class BertConfig(PretrainedConfig):
    model_type = "bert"
    # Layers may be 0 (an embeddings-only model); every width and table needs at least one row.
    size_fields = {
        "vocab_size": 1,
        "hidden_size": 1,
        "num_hidden_layers": 0,
        "num_attention_heads": 1,
        "intermediate_size": 1,
        "max_position_embeddings": 1,
        "type_vocab_size": 1,
    }
    layer_fields = ("num_hidden_layers",)
    probability_fields = ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")
    nonnegative_fields = ("initializer_range", "layer_norm_eps")
    choice_fields = {"position_embedding_type": POSITION_EMBEDDING_TYPES}
    activation_fields = ("hidden_act",)
    head_splits = (("hidden_size", "num_attention_heads"),)
    padding_tables = ("vocab_size",)

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

    def parameter_terms(self) -> list[tuple[str, int, tuple[str, ...]]]:
        h, n, inner = self.hidden_size, self.num_hidden_layers, self.intermediate_size
        attention = 4 * h * h + 4 * h + 2 * h  # Q, K, V, output (+ biases) and its LayerNorm
        layer = attention * (2 if self.add_cross_attention else 1) + 2 * h * inner + inner + 3 * h
        terms = [
            ("the token embeddings", self.vocab_size * h, ("vocab_size", "hidden_size")),
            (
                "the position embeddings",
                self.max_position_embeddings * (h + 1),
                ("max_position_embeddings", "hidden_size"),
            ),
            ("the segment embeddings", self.type_vocab_size * h, ("type_vocab_size", "hidden_size")),
            ("the layers", n * layer, ("num_hidden_layers", "hidden_size", "intermediate_size")),
            ("the pooler and a task head", h * h + (self.num_labels + 1) * h, ("hidden_size",)),
        ]
        if self.position_embedding_type != "absolute":  # Shaw's distance table, one per layer
            head_size = h // self.num_attention_heads
            rows = 2 * self.max_position_embeddings - 1
            fields = ("num_hidden_layers", "max_position_embeddings", "hidden_size", "num_attention_heads")
            terms.append(("the relative-distance tables", n * rows * head_size, fields))
        return terms
