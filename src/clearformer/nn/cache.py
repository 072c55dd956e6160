"""KV caches for decoding: a dynamic per-layer cache and an encoder-decoder pair of them.

A decoder's keys/values for positions already seen never change (each depends only on its own
token and position), so decoding step t only computes position t's and appends them. Shapes are
HF's: per layer key/value (B, H, L, D). Models accept these objects under ``past_key_values`` or
``cache`` (transformers 5.x's name), and the legacy tuple-of-tuples form is converted on entry.
"""

from __future__ import annotations

from typing import Any

import torch


class Cache:
    """Interface every cache implements; models only call these methods."""

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def get_seq_length(self, layer_idx: int = 0) -> int:
        raise NotImplementedError

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        raise NotImplementedError


class DynamicCache(Cache):
    """Grows by concatenation; simple and exact. The static cache (preallocated) is the fast path."""

    def __init__(self) -> None:
        self.key_cache: list[torch.Tensor] = []
        self.value_cache: list[torch.Tensor] = []

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        if layer_idx == len(self.key_cache):
            self.key_cache.append(key)
            self.value_cache.append(value)
        elif layer_idx < len(self.key_cache):
            self.key_cache[layer_idx] = torch.cat([self.key_cache[layer_idx], key], dim=-2)
            self.value_cache[layer_idx] = torch.cat([self.value_cache[layer_idx], value], dim=-2)
        else:
            raise IndexError(f"cache has {len(self.key_cache)} layers; cannot update layer {layer_idx}")
        return self.key_cache[layer_idx], self.value_cache[layer_idx]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.key_cache[layer_idx].shape[-2] if layer_idx < len(self.key_cache) else 0

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Keep the rows of the beams that survived a beam-search step (index along batch)."""
        for i in range(len(self.key_cache)):
            idx = beam_idx.to(self.key_cache[i].device)
            self.key_cache[i] = self.key_cache[i].index_select(0, idx)
            self.value_cache[i] = self.value_cache[i].index_select(0, idx)

    def crop(self, max_length: int) -> None:
        """Forget every position from ``max_length`` on (negative: drop that many from the end)."""
        if max_length < 0:
            max_length = self.get_seq_length() + max_length
        self.key_cache = [k[..., :max_length, :] for k in self.key_cache]
        self.value_cache = [v[..., :max_length, :] for v in self.value_cache]

    def __len__(self) -> int:
        return len(self.key_cache)

    def __getitem__(self, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.key_cache[layer_idx], self.value_cache[layer_idx]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def to_legacy_cache(self) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
        return tuple(self)

    @classmethod
    def from_legacy_cache(cls, past: Any) -> DynamicCache:
        cache = cls()
        for layer_idx, (k, v) in enumerate(past or ()):
            cache.update(k, v, layer_idx)
        return cache


class EncoderDecoderCache(Cache):
    """Self-attention cache that grows per step + cross-attention cache filled once.

    Cross-attention keys/values come from the encoder output, which does not change while decoding,
    so they are computed at the first step and reused (``is_updated`` records which layers have them).
    """

    def __init__(
        self,
        self_attention_cache: DynamicCache | None = None,
        cross_attention_cache: DynamicCache | None = None,
    ) -> None:
        self.self_attention_cache = self_attention_cache or DynamicCache()
        self.cross_attention_cache = cross_attention_cache or DynamicCache()
        self.is_updated: dict[int, bool] = {i: True for i in range(len(self.cross_attention_cache))}

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.self_attention_cache.update(key, value, layer_idx)

    def update_cross(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.cross_attention_cache.update(key, value, layer_idx)
        self.is_updated[layer_idx] = True
        return out

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.self_attention_cache.get_seq_length(layer_idx)

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        self.self_attention_cache.reorder_cache(beam_idx)
        self.cross_attention_cache.reorder_cache(beam_idx)

    def crop(self, max_length: int) -> None:
        self.self_attention_cache.crop(max_length)

    def __len__(self) -> int:
        return len(self.self_attention_cache)

    def to_legacy_cache(self) -> tuple[tuple[torch.Tensor, ...], ...]:
        s, c = self.self_attention_cache, self.cross_attention_cache
        return tuple(s[i] + (c[i] if i < len(c) else ()) for i in range(len(s)))

    @classmethod
    def from_legacy_cache(cls, past: Any) -> EncoderDecoderCache:
        cache = cls()
        for i, layer in enumerate(past or ()):
            cache.self_attention_cache.update(layer[0], layer[1], i)
            if len(layer) > 2:
                cache.update_cross(layer[2], layer[3], i)
        return cache


def as_cache(past: Any, encoder_decoder: bool = False) -> Cache | None:
    """Accept a Cache, a legacy tuple cache or None (models call this once per forward)."""
    if past is None or isinstance(past, Cache):
        return past
    if isinstance(past, (tuple, list)):
        return (EncoderDecoderCache if encoder_decoder else DynamicCache).from_legacy_cache(past)
    raise TypeError(f"past_key_values must be a Cache or a tuple of (key, value) pairs, got {type(past)}")


class StaticCache(Cache):
    """Preallocated per-layer (B, H, max_length, D) buffers written in place: the fast decoding path.

    No tensor is reallocated while decoding (DynamicCache concatenates, copying the whole history
    every step). ``length`` is the in-place position index: each layer writes its new keys/values at
    ``[length, length + L)`` and gets back views of ``[0, length + L)``; the index advances when the
    last layer has written. Buffers are allocated on the first write, with that tensor's B, H, D,
    dtype and device, so any decoder can use it.
    """

    def __init__(self, max_length: int, num_layers: int) -> None:
        self.max_length = max_length
        self.num_layers = num_layers
        self.key_cache: list[torch.Tensor] = []
        self.value_cache: list[torch.Tensor] = []
        self.length = 0

    def _allocate(self, key: torch.Tensor) -> None:
        b, h, _, d = key.shape
        for _ in range(self.num_layers):
            self.key_cache.append(key.new_zeros(b, h, self.max_length, d))
            self.value_cache.append(key.new_zeros(b, h, self.max_length, d))

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.key_cache:
            self._allocate(key)
        start, end = self.length, self.length + key.shape[-2]
        if end > self.max_length:
            raise ValueError(
                f"StaticCache holds {self.max_length} positions but {end} are needed; build it "
                "with a larger max_length (prompt + new tokens)"
            )
        keys, values = self.key_cache[layer_idx], self.value_cache[layer_idx]
        # narrow + copy_ are direct calls; slice indexing goes through Python's indexing machinery,
        # which showed up as the largest Python cost of a decoding step.
        keys.narrow(2, start, end - start).copy_(key)
        values.narrow(2, start, end - start).copy_(value)
        if layer_idx == self.num_layers - 1:
            self.length = end
        return keys.narrow(2, 0, end), values.narrow(2, 0, end)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.length

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        for buffers in (self.key_cache, self.value_cache):
            for t in buffers:
                t[:, :, : self.length] = t[:, :, : self.length].index_select(0, beam_idx.to(t.device))

    def crop(self, max_length: int) -> None:
        """Forget every position from ``max_length`` on (negative: drop that many from the end)."""
        self.length = max_length if max_length >= 0 else self.length + max_length

    def reset(self) -> None:
        self.length = 0

    def __len__(self) -> int:
        return len(self.key_cache)

    def __getitem__(self, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        end = self.length
        return self.key_cache[layer_idx][:, :, :end], self.value_cache[layer_idx][:, :, :end]
