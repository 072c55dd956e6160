"""MarianConfig: the fields of a Marian (opus-mt) config.json, with opus-mt-en-de's shape as defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ...configuration_utils import PretrainedConfig


@dataclass(eq=False, init=False)
class MarianConfig(PretrainedConfig):
    model_type = "marian"
    attribute_map = {
        "num_attention_heads": "encoder_attention_heads",
        "hidden_size": "d_model",
        "num_hidden_layers": "encoder_layers",
    }
    # Layers may be 0 (an embeddings-only stack); every width and table needs at least one row.
    size_fields = {
        "vocab_size": 1,
        "decoder_vocab_size": 1,
        "max_position_embeddings": 1,
        "encoder_layers": 0,
        "decoder_layers": 0,
        "encoder_ffn_dim": 1,
        "decoder_ffn_dim": 1,
        "encoder_attention_heads": 1,
        "decoder_attention_heads": 1,
        "d_model": 1,
    }
    layer_fields = ("encoder_layers", "decoder_layers")
    probability_fields = (
        "encoder_layerdrop",
        "decoder_layerdrop",
        "dropout",
        "attention_dropout",
        "activation_dropout",
    )
    nonnegative_fields = ("init_std",)
    activation_fields = ("activation_function",)
    head_splits = (("d_model", "encoder_attention_heads"), ("d_model", "decoder_attention_heads"))
    padding_tables = ("vocab_size", "decoder_vocab_size")

    vocab_size: int = 58101
    decoder_vocab_size: int | None = None  # None: same as vocab_size (one shared vocabulary)
    max_position_embeddings: int = 1024  # sinusoidal, but the table is built this long: a hard limit
    encoder_layers: int = 12
    encoder_ffn_dim: int = 4096
    encoder_attention_heads: int = 16
    decoder_layers: int = 12
    decoder_ffn_dim: int = 4096
    decoder_attention_heads: int = 16
    encoder_layerdrop: float = 0.0
    decoder_layerdrop: float = 0.0
    activation_function: str = "gelu"  # the opus-mt checkpoints say "swish"
    d_model: int = 1024
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation_dropout: float = 0.0
    init_std: float = 0.02
    scale_embedding: bool = False  # opus-mt: True (token embeddings x sqrt(d_model))
    share_encoder_decoder_embeddings: bool = True
    is_encoder_decoder: bool = True
    decoder_start_token_id: int | None = 58100  # Marian starts decoding from the pad token
    pad_token_id: int | None = 58100
    eos_token_id: int | list[int] | None = 0
    forced_eos_token_id: int | None = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.decoder_vocab_size is None:
            self.decoder_vocab_size = self.vocab_size

    def _check_family(self) -> None:
        if self.share_encoder_decoder_embeddings and self.decoder_vocab_size != self.vocab_size:
            raise ValueError(
                f"MarianConfig: share_encoder_decoder_embeddings=True needs one vocabulary, but vocab_size="
                f"{self.vocab_size} and decoder_vocab_size={self.decoder_vocab_size}; make them equal or set "
                "share_encoder_decoder_embeddings to false"
            )

    def parameter_terms(self) -> list[tuple[str, int, tuple[str, ...]]]:
        d, target = self.d_model, self.decoder_vocab_size
        attention = 4 * d * d + 6 * d  # Q, K, V, output (+ biases) and its LayerNorm
        encoder_layer = attention + 2 * d * self.encoder_ffn_dim + self.encoder_ffn_dim + 3 * d
        decoder_layer = 2 * attention + 2 * d * self.decoder_ffn_dim + self.decoder_ffn_dim + 3 * d
        shared = self.share_encoder_decoder_embeddings
        untied_head = 0 if self.tie_word_embeddings else target * d
        return [
            ("the source embeddings", self.vocab_size * d, ("vocab_size", "d_model")),
            ("the target embeddings", 0 if shared else target * d, ("decoder_vocab_size", "d_model")),
            # Sinusoidal, but built as a table per stack (positions x d_model).
            ("the position tables", 2 * self.max_position_embeddings * d, ("max_position_embeddings", "d_model")),
            (
                "the encoder layers",
                self.encoder_layers * encoder_layer,
                ("encoder_layers", "d_model", "encoder_ffn_dim"),
            ),
            (
                "the decoder layers",
                self.decoder_layers * decoder_layer,
                ("decoder_layers", "d_model", "decoder_ffn_dim"),
            ),
            ("the output layer", untied_head + target, ("decoder_vocab_size", "d_model")),
        ]
