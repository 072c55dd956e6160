"""MarianConfig: the fields of a Marian (opus-mt) config.json, with opus-mt-en-de's shape as defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ...configuration_utils import PretrainedConfig


@dataclass(eq=False)
class MarianConfig(PretrainedConfig):
    model_type = "marian"
    attribute_map = {
        "num_attention_heads": "encoder_attention_heads",
        "hidden_size": "d_model",
        "num_hidden_layers": "encoder_layers",
    }

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
