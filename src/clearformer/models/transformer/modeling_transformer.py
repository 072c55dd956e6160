"""The paper's Transformer (Vaswani et al. 2017), one small named module per idea, and ``make_model``.

Follows the course's annotated version (chapter 2.2.1) with its known bugs fixed (pain point 17):
positions are added once, at the embedding, not in every layer; each layer is its own deep copy,
not one instance reused N times; the final LayerNorm of a pre-norm stack is wired in; the
positional table works for odd widths. ``norm_first=False`` (default) is the paper's post-norm
``LayerNorm(x + nn.Dropout(Sublayer(x)))``; ``norm_first=True`` the course code's pre-norm
``x + nn.Dropout(Sublayer(LayerNorm(x)))``. Masks are boolean, True = may attend, as in the course.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from ...nn.attention import attention, merge_heads, split_heads
from ...nn.masks import to_additive
from ...nn.positional import sinusoidal_table
from ...utils.arguments import ChecksForwardKwargs


def clones(module: nn.Module, n: int) -> nn.ModuleList:
    """N independent deep copies (the course's optional code reused one instance: shared weights)."""
    return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])


def subsequent_mask(size: int) -> torch.Tensor:
    """(1, size, size) boolean: position i may attend to positions 0..i."""
    return torch.tril(torch.ones(1, size, size, dtype=torch.bool))


class MultiHeadedAttention(nn.Module):
    """h heads of scaled dot-product attention over d_model/h-wide projections; ``self.attn`` keeps weights."""

    def __init__(self, h: int, d_model: int, dropout: float = 0.1, keep_weights: bool = False) -> None:
        super().__init__()
        if d_model % h:
            raise ValueError(f"d_model={d_model} must be divisible by the number of heads h={h}")
        self.h = h
        self.linears = clones(nn.Linear(d_model, d_model), 4)  # q, k, v projections and the output
        self.dropout = dropout
        self.keep_weights = keep_weights
        self.attn: torch.Tensor | None = None

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        cache: dict | None = None,
        static_kv: bool = False,
    ) -> torch.Tensor:
        """With ``cache`` (incremental decoding), projected keys/values are kept in it: appended to for
        self-attention, computed once and reused for cross-attention (``static_kv``)."""
        q = split_heads(self.linears[0](query), self.h)
        if cache is not None and static_kv and "k" in cache:
            k, v = cache["k"], cache["v"]
        else:
            k, v = split_heads(self.linears[1](key), self.h), split_heads(self.linears[2](value), self.h)
            if cache is not None:
                if "k" in cache:
                    k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
                cache["k"], cache["v"] = k, v
        additive = to_additive(mask.unsqueeze(1), q.dtype) if mask is not None else None  # same for all heads
        context, self.attn = attention(
            q, k, v, additive, dropout_p=self.dropout if self.training else 0.0, need_weights=self.keep_weights
        )
        return self.linears[-1](merge_heads(context))


class PositionwiseFeedForward(nn.Module):
    """FFN(x) = W2 · dropout(relu(W1 x + b1)) + b2, applied to each position alike."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.w_1 = nn.Linear(d_model, d_ff)
        self.w_2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_2(self.dropout(F.relu(self.w_1(x))))


class Embeddings(nn.Module):
    """Token lookup scaled by sqrt(d_model), so embeddings and the (±1) positions have similar size."""

    def __init__(self, d_model: int, vocab: int) -> None:
        super().__init__()
        self.lut = nn.Embedding(vocab, d_model)
        self.d_model = d_model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() and int(x.max()) >= self.lut.num_embeddings:
            raise IndexError(
                f"token id {int(x.max())} is outside the vocabulary of {self.lut.num_embeddings}; did the "
                "tokenizer's vocabulary grow after make_model(src_vocab, tgt_vocab, ...) was built?"
            )
        return self.lut(x) * math.sqrt(self.d_model)


class PositionalEncoding(nn.Module):
    """Adds the fixed sin/cos table (interleaved: even columns sin, odd cos) once, then dropout."""

    def __init__(self, d_model: int, dropout: float, max_len: int = 5000) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoidal_table(max_len, d_model)[None], persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        if offset + x.shape[1] > self.pe.shape[1]:
            raise ValueError(
                f"sequence of {offset + x.shape[1]} positions exceeds the table's max_len={self.pe.shape[1]}; "
                "build the model with a larger max_len or truncate"
            )
        return self.dropout(x + self.pe[:, offset : offset + x.shape[1]])


class SublayerConnection(nn.Module):
    """Residual + LayerNorm around a sublayer: post-norm (paper) or pre-norm (``norm_first``)."""

    def __init__(self, size: int, dropout: float, norm_first: bool = False) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(size)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: torch.Tensor, sublayer) -> torch.Tensor:
        if self.norm_first:
            return x + self.dropout(sublayer(self.norm(x)))
        return self.norm(x + self.dropout(sublayer(x)))


class EncoderLayer(nn.Module):
    """Self-attention, then the FFN, each in a SublayerConnection."""

    def __init__(self, size: int, self_attn, feed_forward, dropout: float, norm_first: bool = False) -> None:
        super().__init__()
        self.self_attn = self_attn
        self.feed_forward = feed_forward
        self.sublayer = clones(SublayerConnection(size, dropout, norm_first), 2)
        self.size = size

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.sublayer[0](x, lambda y: self.self_attn(y, y, y, mask))
        return self.sublayer[1](x, self.feed_forward)


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention over the encoder output ("memory"), then the FFN."""

    def __init__(self, size: int, self_attn, src_attn, feed_forward, dropout: float, norm_first: bool = False):
        super().__init__()
        self.size = size
        self.self_attn = self_attn
        self.src_attn = src_attn
        self.feed_forward = feed_forward
        self.sublayer = clones(SublayerConnection(size, dropout, norm_first), 3)

    def forward(self, x, memory, src_mask, tgt_mask, cache: dict | None = None) -> torch.Tensor:
        """``cache`` (a dict, filled here): x holds only the new positions, earlier ones are cached."""
        self_cache = cache.setdefault("self", {}) if cache is not None else None
        src_cache = cache.setdefault("src", {}) if cache is not None else None
        x = self.sublayer[0](x, lambda y: self.self_attn(y, y, y, tgt_mask, self_cache))
        x = self.sublayer[1](x, lambda y: self.src_attn(y, memory, memory, src_mask, src_cache, static_kv=True))
        return self.sublayer[2](x, self.feed_forward)


class Encoder(nn.Module):
    """N cloned layers. A pre-norm stack ends with a LayerNorm (its last output is un-normalised)."""

    def __init__(self, layer: EncoderLayer, n: int, norm_first: bool = False) -> None:
        super().__init__()
        self.layers = clones(layer, n)
        self.norm = nn.LayerNorm(layer.size) if norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x)


class Decoder(nn.Module):
    def __init__(self, layer: DecoderLayer, n: int, norm_first: bool = False) -> None:
        super().__init__()
        self.layers = clones(layer, n)
        self.norm = nn.LayerNorm(layer.size) if norm_first else nn.Identity()

    def forward(self, x, memory, src_mask, tgt_mask, cache: list[dict] | None = None) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x, memory, src_mask, tgt_mask, cache[i] if cache is not None else None)
        return self.norm(x)


class Generator(nn.Module):
    """Linear projection to the target vocabulary + log_softmax (the "pre-softmax linear")."""

    def __init__(self, d_model: int, vocab: int) -> None:
        super().__init__()
        self.proj = nn.Linear(d_model, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.proj(x), dim=-1)


class EncoderDecoder(ChecksForwardKwargs, nn.Module):
    """The whole model: ``encode(src)`` once, ``decode(memory, ..., tgt)`` per step, ``generator`` on top."""

    def __init__(self, encoder, decoder, src_embed, tgt_embed, generator) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.src_embed = src_embed  # nn.Sequential(Embeddings, PositionalEncoding)
        self.tgt_embed = tgt_embed
        self.generator = generator

    def forward(self, src, tgt, src_mask, tgt_mask) -> torch.Tensor:
        """Decoder hidden states (B, T, d_model); apply ``self.generator`` for log-probabilities."""
        return self.decode(self.encode(src, src_mask), src_mask, tgt, tgt_mask)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None) -> torch.Tensor:
        return self.encoder(self.src_embed(src), src_mask)

    def decode(self, memory, src_mask, tgt, tgt_mask, cache: list[dict] | None = None) -> torch.Tensor:
        """Decoder states for ``tgt``. With ``cache`` (one dict per layer, from ``new_cache``), ``tgt``
        holds only the positions after those already cached (incremental decoding: each step feeds
        the newest token, keys/values of earlier ones are reused); ``tgt_mask`` then covers the new
        queries against all positions, and may be None when one position is fed."""
        if cache is None:
            return self.decoder(self.tgt_embed(tgt), memory, src_mask, tgt_mask)
        offset = cache[0]["self"]["k"].shape[2] if cache and "self" in cache[0] else 0
        embed, position = self.tgt_embed[0], self.tgt_embed[1]
        return self.decoder(position(embed(tgt), offset), memory, src_mask, tgt_mask, cache)

    def new_cache(self) -> list[dict]:
        """Empty per-layer key/value store for ``decode(..., cache=...)``."""
        return [{} for _ in self.decoder.layers]

    @staticmethod
    def reorder_cache(cache: list[dict], index: torch.Tensor) -> None:
        """Keep rows ``index`` of every cached tensor (beam search: follow the surviving beams)."""
        for layer in cache:
            for part in layer.values():
                for name in ("k", "v"):
                    if name in part:
                        part[name] = part[name].index_select(0, index)


def make_model(
    src_vocab: int,
    tgt_vocab: int,
    N: int = 6,  # noqa: N803 - the paper's and the course's name
    d_model: int = 512,
    d_ff: int = 2048,
    h: int = 8,
    dropout: float = 0.1,
    norm_first: bool = False,
    share_embeddings: bool = False,
    tie_generator: bool = True,
    max_len: int = 5000,
) -> EncoderDecoder:
    """Build the paper's model from hyperparameters (base model: N=6, d_model=512, d_ff=2048, h=8).

    ``tie_generator`` shares the target embedding with the pre-softmax linear (paper section 3.4);
    ``share_embeddings`` also shares it with the source embedding (needs one joint vocabulary).
    Matrices get Xavier-uniform initialisation, as in the course.
    """
    if share_embeddings and src_vocab != tgt_vocab:
        raise ValueError(f"share_embeddings needs one vocabulary, got src_vocab={src_vocab}, tgt_vocab={tgt_vocab}")
    attn = MultiHeadedAttention(h, d_model, dropout)
    ff = PositionwiseFeedForward(d_model, d_ff, dropout)
    position = PositionalEncoding(d_model, dropout, max_len)
    c = copy.deepcopy
    model = EncoderDecoder(
        Encoder(EncoderLayer(d_model, c(attn), c(ff), dropout, norm_first), N, norm_first),
        Decoder(DecoderLayer(d_model, c(attn), c(attn), c(ff), dropout, norm_first), N, norm_first),
        nn.Sequential(Embeddings(d_model, src_vocab), c(position)),
        nn.Sequential(Embeddings(d_model, tgt_vocab), c(position)),
        Generator(d_model, tgt_vocab),
    )
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    if share_embeddings:
        model.src_embed[0].lut.weight = model.tgt_embed[0].lut.weight
    if tie_generator:
        # Xavier init of a (vocab, d) matrix then x sqrt(d) keeps the tied logits at a sane scale.
        model.generator.proj.weight = model.tgt_embed[0].lut.weight
    return model
