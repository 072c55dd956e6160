"""GPT2Config: the fields of a GPT-2 config.json (OpenAI's short names), gpt2 (small) as defaults.

GPT-2 checkpoints use ``n_embd``/``n_layer``/``n_head``/``n_positions``; ``attribute_map`` lets
code written for BERT read ``hidden_size`` etc. ``GPT2_PRESETS`` holds the published shapes as
data, so ``GPT2Config.from_preset("distilgpt2")`` builds a random model of that size offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...configuration_utils import PretrainedConfig

# Shapes of the published checkpoints (vocab 50257 and 1024 positions for all of them).
GPT2_PRESETS: dict[str, dict[str, int]] = {
    "gpt2": {"n_embd": 768, "n_layer": 12, "n_head": 12},
    "gpt2-medium": {"n_embd": 1024, "n_layer": 24, "n_head": 16},
    "gpt2-large": {"n_embd": 1280, "n_layer": 36, "n_head": 20},
    "gpt2-xl": {"n_embd": 1600, "n_layer": 48, "n_head": 25},
    "distilgpt2": {"n_embd": 768, "n_layer": 6, "n_head": 12},
}


@dataclass(eq=False, init=False)
class GPT2Config(PretrainedConfig):
    model_type = "gpt2"
    attribute_map: ClassVar[dict[str, str]] = {
        "hidden_size": "n_embd",
        "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer",
    }
    # Layers may be 0 (an embeddings-only model); every width and table needs at least one row.
    size_fields = {"vocab_size": 1, "n_positions": 1, "n_embd": 1, "n_layer": 0, "n_head": 1, "n_inner": 1}
    layer_fields = ("n_layer",)
    probability_fields = ("resid_pdrop", "embd_pdrop", "attn_pdrop", "summary_first_dropout")
    nonnegative_fields = ("layer_norm_epsilon", "initializer_range")
    activation_fields = ("activation_function", "summary_activation")
    head_splits = (("n_embd", "n_head"),)

    vocab_size: int = 50257  # 50,000 BPE merges + 256 bytes + <|endoftext|>
    n_positions: int = 1024  # learned positions: prompt + generated tokens may not exceed it
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    n_inner: int | None = None  # None: 4 * n_embd
    activation_function: str = "gelu_new"  # the tanh GELU GPT-2 was trained with
    resid_pdrop: float = 0.1
    embd_pdrop: float = 0.1
    attn_pdrop: float = 0.1
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02
    summary_type: str = "cls_index"  # GPT2DoubleHeadsModel's multiple-choice summary
    summary_use_proj: bool = True
    summary_activation: str | None = None
    summary_proj_to_labels: bool = True
    summary_first_dropout: float = 0.1
    scale_attn_weights: bool = True  # divide scores by sqrt(head_dim)
    scale_attn_by_inverse_layer_idx: bool = False  # and by (layer_idx + 1) (Mistral's stability trick)
    reorder_and_upcast_attn: bool = False  # scores in fp32 even under half precision
    bos_token_id: int | None = 50256
    eos_token_id: int | list[int] | None = 50256
    tie_word_embeddings: bool = True

    def parameter_terms(self) -> list[tuple[str, int, tuple[str, ...]]]:
        e = self.n_embd
        inner = self.n_inner if self.n_inner is not None else 4 * e
        layer = 4 * e * e + 4 * e + 2 * e * inner + inner + 5 * e  # attention, MLP, two LayerNorms
        return [
            ("the token embeddings", self.vocab_size * e, ("vocab_size", "n_embd")),
            ("the position embeddings", self.n_positions * e, ("n_positions", "n_embd")),
            ("the layers", self.n_layer * layer, ("n_layer", "n_embd", "n_inner")),
            ("a task head", (self.num_labels + 2) * e, ("n_embd",)),
        ]

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> GPT2Config:
        """A config with a published model's shape (``gpt2``, ``gpt2-medium``, ``distilgpt2``, ...)."""
        if name not in GPT2_PRESETS:
            raise ValueError(f"unknown GPT-2 preset {name!r}; known: {', '.join(GPT2_PRESETS)}")
        return cls.from_dict({**GPT2_PRESETS[name], **overrides})
