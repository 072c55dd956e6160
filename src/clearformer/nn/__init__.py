"""Building blocks shared by every model: attention, masks, caches, positions, Conv1D."""

from .attention import attention, eager_attention, merge_heads, split_heads
from .cache import Cache, DynamicCache, EncoderDecoderCache, StaticCache
from .conv1d import Conv1D
from .masks import causal_mask, cross_attention_mask, padding_mask, to_additive
from .positional import LearnedPositionalEmbedding, SinusoidalPositionalEmbedding, sinusoidal_table

__all__ = [
    "Cache",
    "Conv1D",
    "StaticCache",
    "DynamicCache",
    "EncoderDecoderCache",
    "LearnedPositionalEmbedding",
    "SinusoidalPositionalEmbedding",
    "attention",
    "causal_mask",
    "cross_attention_mask",
    "eager_attention",
    "merge_heads",
    "padding_mask",
    "sinusoidal_table",
    "split_heads",
    "to_additive",
]
