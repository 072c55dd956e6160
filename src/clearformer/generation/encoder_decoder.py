"""``generate`` for encoder-decoder models (Marian, T5): the length rule and Marian's forced eos.

The shared loop in utils.py already runs the encoder once, starts the decoder from
``decoder_start_token_id`` and reorders an EncoderDecoderCache between beam steps. Two things
differ from a decoder-only model, as in transformers: ``max_new_tokens`` counts decoder tokens
after the start token (the source length does not count), and ``forced_eos_token_id`` (opus-mt's
configs set it) makes the last allowed step emit eos.
"""

from __future__ import annotations

from typing import Any

import torch

from .configuration_utils import GenerationConfig
from .logits_process import LogitsProcessor, LogitsProcessorList
from .utils import GenerationMixin


class ForcedEOSTokenLogitsProcessor(LogitsProcessor):
    """At the last position (length ``max_length - 1``) only eos may be chosen."""

    def __init__(self, max_length: int, eos_token_id: int | list[int]) -> None:
        self.max_length = max_length
        self.eos_token_ids = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] == self.max_length - 1:
            forced = torch.full_like(scores, -float("inf"))
            forced[:, self.eos_token_ids] = 0.0
            return forced
        return scores


class EncoderDecoderGenerationMixin(GenerationMixin):
    """GenerationMixin with the encoder-decoder length rule; models put it first in their bases."""

    @torch.inference_mode()
    def generate(
        self,
        input_ids: torch.Tensor | None = None,
        generation_config: GenerationConfig | None = None,
        logits_processor: LogitsProcessorList | None = None,
        **kwargs: Any,
    ) -> torch.Tensor | Any:
        """Translate / summarise ``input_ids`` (the source); returns decoder ids starting with the start token."""
        if input_ids is None:
            input_ids = kwargs.pop("inputs", None)
        if input_ids is None:
            raise ValueError("an encoder-decoder model needs input_ids: the source sequence to encode")
        config = (generation_config or self.generation_config).copy()
        forced_eos = kwargs.pop("forced_eos_token_id", config.extra.pop("forced_eos_token_id", None))
        if forced_eos is None and "forced_eos_token_id" not in kwargs:
            forced_eos = getattr(self.config, "forced_eos_token_id", None)
        processors = LogitsProcessorList(logits_processor or [])
        if forced_eos is not None:
            lengths = config.copy()
            lengths.update(**{k: kwargs[k] for k in ("max_length", "max_new_tokens") if k in kwargs})
            processors.append(ForcedEOSTokenLogitsProcessor(self._resolve_max_length(lengths, 1), forced_eos))
        return super().generate(input_ids, config, processors or None, **kwargs)

    def _validate_generation_inputs(
        self, input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, config: GenerationConfig
    ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        new_tokens = config.max_new_tokens
        if new_tokens is not None and new_tokens <= 0:
            raise ValueError(f"max_new_tokens must be a positive number of tokens to generate, got {new_tokens}")
        # The decoder's prompt is its start token alone.
        wanted = self._resolve_max_length(config, 1)
        # The base rule counts max_length from the prompt; here the prompt is the encoder's input and
        # the output starts from one decoder token, so neutralise the rule and apply ours after.
        config.max_new_tokens = None
        config.max_length = input_ids.shape[-1] + 1
        try:
            ids, mask, eos = super()._validate_generation_inputs(input_ids, attention_mask, config)
        finally:
            config.max_new_tokens = new_tokens
            config.max_length = wanted
        if config.max_length < 2:
            raise ValueError(f"max_length={config.max_length} leaves no room after the decoder start token")
        return ids, mask, eos
