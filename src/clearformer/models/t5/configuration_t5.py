"""T5Config: the fields of a T5 config.json, with t5-small's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ...configuration_utils import PretrainedConfig


@dataclass(eq=False, init=False)
class T5Config(PretrainedConfig):
    model_type = "t5"
    attribute_map = {
        "hidden_size": "d_model",
        "num_attention_heads": "num_heads",
        "num_hidden_layers": "num_layers",
        "head_dim": "d_kv",
    }
    # Layers may be 0 (an embeddings-only stack); every width and table needs at least one row.
    size_fields = {
        "vocab_size": 1,
        "d_model": 1,
        "d_kv": 1,
        "d_ff": 1,
        "num_layers": 0,
        "num_decoder_layers": 0,
        "num_heads": 1,
        "relative_attention_num_buckets": 4,  # halved for the encoder, then half of those exact
        "relative_attention_max_distance": 1,
    }
    layer_fields = ("num_layers", "num_decoder_layers")
    probability_fields = ("dropout_rate", "classifier_dropout")
    nonnegative_fields = ("layer_norm_epsilon", "initializer_factor")

    vocab_size: int = 32128  # 32000 SentencePiece pieces + 100 sentinels <extra_id_*> (+ padding)
    d_model: int = 512
    d_kv: int = 64  # per-head width; need not equal d_model / num_heads
    d_ff: int = 2048
    num_layers: int = 6
    num_decoder_layers: int | None = None  # None: as many as the encoder
    num_heads: int = 8
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    initializer_factor: float = 1.0
    feed_forward_proj: str = "relu"  # T5 v1.1 and flan-t5: "gated-gelu"
    is_encoder_decoder: bool = True
    pad_token_id: int | None = 0
    eos_token_id: int | list[int] | None = 1
    decoder_start_token_id: int | None = 0  # T5 starts decoding from the pad token
    classifier_dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        self._check_feed_forward_proj()

    def _check_feed_forward_proj(self) -> None:
        # a single-value check: run at construction too (a bare constructor checks each value alone)
        if not isinstance(self.feed_forward_proj, str):
            return  # the type check names it
        parts = self.feed_forward_proj.split("-")
        if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
            raise ValueError(
                f"T5Config: feed_forward_proj={self.feed_forward_proj!r} is not 'ACT' or 'gated-ACT' "
                "(e.g. 'relu', 'gated-gelu')"
            )
        from ...activations import get_activation

        try:
            get_activation(self.dense_act_fn)
        except ValueError as err:
            raise ValueError(f"T5Config: feed_forward_proj={self.feed_forward_proj!r}: {err}") from None

    def _check_family(self) -> None:
        self._check_feed_forward_proj()
        buckets, distance = self.relative_attention_num_buckets, self.relative_attention_max_distance
        if distance <= buckets // 2:
            # Half the buckets are exact offsets; the rest share log-spaced distances up to max_distance,
            # which must lie beyond the exact ones (else the log spacing divides by zero).
            raise ValueError(
                f"T5Config: relative_attention_max_distance={distance} must be more than half of "
                f"relative_attention_num_buckets={buckets}, e.g. 32 buckets with max_distance 128"
            )

    def parameter_terms(self) -> list[tuple[str, int, tuple[str, ...]]]:
        d, ff, inner = self.d_model, self.d_ff, self.num_heads * self.d_kv
        ffn = (3 if self.is_gated_act else 2) * d * ff
        sizes = ("d_model", "num_heads", "d_kv", "d_ff")
        return [
            ("the token embeddings", self.vocab_size * d, ("vocab_size", "d_model")),
            ("the output layer", 0 if self.tie_word_embeddings else self.vocab_size * d, ("vocab_size", "d_model")),
            ("the encoder layers", self.num_layers * (4 * d * inner + ffn + 2 * d), ("num_layers", *sizes)),
            (
                "the decoder layers",
                self.num_decoder_layers * (8 * d * inner + ffn + 3 * d),
                ("num_decoder_layers", *sizes),
            ),
            (
                "the relative position buckets",
                2 * self.relative_attention_num_buckets * self.num_heads,
                ("relative_attention_num_buckets", "num_heads"),
            ),
        ]

    @property
    def is_gated_act(self) -> bool:
        return self.feed_forward_proj.startswith("gated-")

    @property
    def dense_act_fn(self) -> str:
        # "gated-gelu" means the tanh GELU for backward compatibility with the original checkpoints.
        return "gelu_new" if self.feed_forward_proj == "gated-gelu" else self.feed_forward_proj.split("-")[-1]
