"""What ``generate(..., return_dict_in_generate=True)`` returns, under transformers' four class names.

Field order is transformers 5.24's, less the fields this ``generate`` never fills (per-step
logits, attentions, hidden states, beam indices), so index access means the same thing there and
here. ``GenerateOutput`` is, as there, the union of the four, for ``isinstance`` checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..modeling_outputs import ModelOutput
from ..nn.cache import Cache


@dataclass
class GenerateDecoderOnlyOutput(ModelOutput):
    """Greedy or sampled continuations of a decoder-only model, with per-step scores if asked."""

    sequences: torch.LongTensor | None = None
    scores: tuple[torch.FloatTensor, ...] | None = None
    past_key_values: Cache | None = None


@dataclass
class GenerateEncoderDecoderOutput(ModelOutput):
    """Greedy or sampled outputs of an encoder-decoder model (sequences start with the decoder start)."""

    sequences: torch.LongTensor | None = None
    scores: tuple[torch.FloatTensor, ...] | None = None
    past_key_values: Cache | None = None


@dataclass
class GenerateBeamDecoderOnlyOutput(ModelOutput):
    """Beam search results of a decoder-only model, with each returned beam's final score."""

    sequences: torch.LongTensor | None = None
    sequences_scores: torch.FloatTensor | None = None
    scores: tuple[torch.FloatTensor, ...] | None = None
    past_key_values: Cache | None = None


@dataclass
class GenerateBeamEncoderDecoderOutput(ModelOutput):
    """Beam search results of an encoder-decoder model, with each returned beam's final score."""

    sequences: torch.LongTensor | None = None
    sequences_scores: torch.FloatTensor | None = None
    scores: tuple[torch.FloatTensor, ...] | None = None
    past_key_values: Cache | None = None


GenerateNonBeamOutput = GenerateDecoderOnlyOutput | GenerateEncoderDecoderOutput
GenerateBeamOutput = GenerateBeamDecoderOnlyOutput | GenerateBeamEncoderDecoderOutput
GenerateOutput = GenerateNonBeamOutput | GenerateBeamOutput
