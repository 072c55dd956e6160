"""``generate``: greedy, sampling and beam search over any model with an LM head and a KV cache.

Inputs are validated once on entry; the loop then only runs the model on the new token (the
prompt once, "prefill"), applies the logits processors, picks the next tokens and writes them
into a preallocated buffer. Decisions match transformers 5.24 token for token (greedy and beam
search exactly; seeded sampling where the random draws are taken in the same order). An
encoder-decoder model plugs in through ``_encoder_decoder_inputs``: encoder run once,
``decoder_start_token_id`` as the first decoder token, an EncoderDecoderCache for both attentions.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from ..nn.cache import DynamicCache, EncoderDecoderCache, StaticCache
from .configuration_utils import GENERATION_CONFIG_NAME, GenerationConfig
from .logits_process import LogitsProcessorList, build_logits_processors
from .outputs import (
    GenerateBeamDecoderOnlyOutput,
    GenerateBeamEncoderDecoderOutput,
    GenerateDecoderOnlyOutput,
    GenerateEncoderDecoderOutput,
    GenerateOutput,
)
from .validated import inputs_validated

logger = logging.getLogger(__name__)

# New tokens made when no max_length or max_new_tokens is set anywhere (the reference's default).
DEFAULT_NEW_TOKENS = 20
Step = Callable[[torch.Tensor, int, int], torch.Tensor]


class GenerationMixin:
    """Adds ``generate`` and a ``generation_config`` (saved and loaded with the model)."""

    # GPT-2 overrides this: its preallocated cache is the faster path.
    _default_cache_implementation = "dynamic"

    # --- generation_config: created from the model config, replaced by generation_config.json ----
    @property
    def generation_config(self) -> GenerationConfig:
        config = self.__dict__.get("_generation_config")
        if config is None:
            config = GenerationConfig.from_model_config(self.config)
            self.__dict__["_generation_config"] = config
        return config

    @generation_config.setter
    def generation_config(self, value: GenerationConfig) -> None:
        self.__dict__["_generation_config"] = value

    def can_generate(self) -> bool:
        return True

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *args: Any, **kwargs: Any):
        """The base loader, plus generation_config.json when the folder has one."""
        from ..hub import resolve_pretrained_dir

        loaded = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        folder = resolve_pretrained_dir(pretrained_model_name_or_path)
        if (folder / GENERATION_CONFIG_NAME).is_file():
            model.generation_config = GenerationConfig.from_pretrained(folder)
        return loaded

    def save_pretrained(self, save_directory: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        super().save_pretrained(save_directory, *args, **kwargs)
        self.generation_config.save_pretrained(save_directory)

    # --- entry ------------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self,
        input_ids: torch.Tensor | None = None,
        generation_config: GenerationConfig | None = None,
        logits_processor: LogitsProcessorList | None = None,
        streamer: Any = None,
        generator: torch.Generator | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> torch.Tensor | GenerateOutput:
        """Continue each prompt; returns (batch * num_return_sequences, prompt + new) token ids.

        Keyword arguments set GenerationConfig fields (``max_new_tokens=50, do_sample=True``).
        Batched prompts must be left padded with their ``attention_mask``. ``generator`` makes
        sampling reproducible without touching the global seed.
        """
        if input_ids is None:
            input_ids = kwargs.pop("inputs", None)
        config = (generation_config or self.generation_config).copy()
        unused = config.update(**kwargs)
        if unused:
            raise TypeError(
                f"generate() got unknown arguments {sorted(unused)}; generation settings are the "
                f"GenerationConfig fields: {', '.join(sorted(GenerationConfig.field_names()))}"
            )
        input_ids, attention_mask, eos = self._validate_generation_inputs(input_ids, attention_mask, config)
        prompt_length = input_ids.shape[1]
        processors = build_logits_processors(config, prompt_length, eos)
        if logits_processor:
            processors.extend(logits_processor)
        try:
            if streamer is not None:
                streamer.put(input_ids.cpu())
            if config.num_beams > 1:
                result = self._beam_search(input_ids, attention_mask, config, processors, eos, generator)
            else:
                result = self._sample(input_ids, attention_mask, config, processors, eos, streamer, generator)
        finally:
            if streamer is not None:
                streamer.end()
        return result if config.return_dict_in_generate else result.sequences

    def _resolve_max_length(self, config: GenerationConfig, prompt_length: int) -> int:
        """The total length (prompt included) a run may reach; ``prompt_length`` is the decoder's.

        As transformers 5.24: max_new_tokens counts from the prompt; a max_length set anywhere (the
        call, a GenerationConfig, generation_config.json) counts the prompt; with neither, 20 new
        tokens, but no more than ``max_position_embeddings`` in all.
        """
        if config.max_new_tokens is not None:
            return prompt_length + config.max_new_tokens
        if config.max_length is not None:
            return config.max_length
        total = prompt_length + DEFAULT_NEW_TOKENS
        limit = getattr(self.config, "max_position_embeddings", None)
        if limit is not None and total > limit:
            if limit > prompt_length:  # otherwise the caller's error says there is no room at all
                logger.warning(
                    "generating %d new tokens, not %d: the model has %d positions and the prompt has %d",
                    limit - prompt_length,
                    DEFAULT_NEW_TOKENS,
                    limit,
                    prompt_length,
                )
            return limit
        return total

    def _max_positions(self) -> int | None:
        cfg = self.config
        return getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", None)

    def _validate_generation_inputs(
        self, input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, config: GenerationConfig
    ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        """Every check of the whole run, done once; also fills in lengths, eos list and pad id."""
        from ..modeling_utils import validate_attention_mask, validate_input_ids

        if input_ids is None:
            if config.bos_token_id is None:
                raise ValueError("generate needs input_ids (a prompt) or a bos_token_id to start from")
            input_ids = torch.full((1, 1), config.bos_token_id, dtype=torch.long, device=self.device)
        if input_ids.dim() == 1:
            input_ids = input_ids[None]
        if input_ids.dim() != 2 or input_ids.shape[1] == 0:
            # The reference fails inside the model on a (B, 0) prompt; here the error says what to pass.
            start = (
                f"pass no input_ids to start from bos_token_id {config.bos_token_id}"
                if config.bos_token_id is not None and not self.config.is_encoder_decoder
                else "give each row at least one token"
            )
            raise ValueError(
                f"input_ids must be a non-empty (batch, seq_len) tensor, got shape {tuple(input_ids.shape)}; {start}"
            )
        vocab = self.get_input_embeddings().num_embeddings
        config.validate(vocab_size=vocab)
        validate_input_ids(input_ids, vocab)
        eos = config.eos_token_id
        eos = [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
        explicit_pad = config.pad_token_id
        if config.pad_token_id is None and eos:
            config.pad_token_id = eos[0]  # the reference's fallback: finished rows are filled with eos
        batch, prompt_length = input_ids.shape
        if attention_mask is None:
            if batch > 1 and explicit_pad is None:
                raise ValueError(
                    f"a batch of {batch} prompts needs an attention_mask (from the tokenizer, with "
                    "padding_side='left') or a pad_token_id to tell padding from text; GPT-2 has no pad "
                    "token: set tokenizer.pad_token = tokenizer.eos_token and pass attention_mask"
                )
            attention_mask = torch.ones_like(input_ids)
            if explicit_pad is not None and explicit_pad not in eos:
                attention_mask = (input_ids != explicit_pad).long()
        validate_attention_mask(tuple(input_ids.shape), attention_mask)
        length_was_set = config.max_length is not None or config.max_new_tokens is not None
        config.max_length = self._resolve_max_length(config, prompt_length)
        if config.max_length <= prompt_length:
            why = (
                "max_length counts the prompt"
                if length_was_set
                else f"the default of {DEFAULT_NEW_TOKENS} new tokens is capped at the model's positions"
            )
            raise ValueError(
                f"the prompt has {prompt_length} tokens but max_length is {config.max_length} ({why}); "
                "shorten the prompt, or pass max_new_tokens=N for N new tokens"
            )
        limit = self._max_positions()
        if limit is not None and not self.config.is_encoder_decoder and config.max_length > limit:
            raise ValueError(
                f"prompt ({prompt_length} tokens) + new tokens ({config.max_length - prompt_length}) = "
                f"{config.max_length} exceeds the model's {limit} positions; shorten the prompt or "
                "lower max_new_tokens (nothing is truncated silently)"
            )
        return input_ids, attention_mask.to(input_ids.device), eos

    # --- the model call for one decoding step -------------------------------------------------------
    def _make_step(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, config: GenerationConfig
    ) -> tuple[Step, Any]:
        """A function (sequences, start, end) -> fp32 next-token logits of positions [start, end).

        With a cache only the new positions are run; without one the whole prefix is recomputed.
        Padding-free batches pass no mask and let the model count positions from the cache.
        """
        if self.config.is_encoder_decoder:
            return self._encoder_decoder_step(input_ids, attention_mask, config)
        # An opt-in swap (inference.compile_decoding) may carry a compiled step; an explicit
        # cache_implementation="dynamic" or use_cache=False still asks for the eager path.
        compiled = self._modules.get("compiled_decoding")
        if compiled is not None and config.use_cache and config.cache_implementation in (None, "static"):
            return compiled.make_step(input_ids, attention_mask, config)
        batch, max_length = input_ids.shape[0], config.max_length
        padded = not bool(attention_mask.all())
        mask = positions = None
        if padded:
            mask = torch.ones(batch, max_length, dtype=attention_mask.dtype, device=input_ids.device)
            mask[:, : input_ids.shape[1]] = attention_mask
            prompt_pos = (attention_mask.long().cumsum(-1) - 1).masked_fill(attention_mask == 0, 0)
            positions = torch.cat(
                [
                    prompt_pos,
                    prompt_pos[:, -1:] + torch.arange(1, max_length - input_ids.shape[1] + 1, device=input_ids.device),
                ],
                dim=1,
            )
        cache = None
        if config.use_cache:
            kind = config.cache_implementation or self._default_cache_implementation
            cache = StaticCache(max_length, self.config.num_hidden_layers) if kind == "static" else DynamicCache()
        extra = {"logits_to_keep": 1} if projects_last_positions(self) else {}
        base = getattr(self, "base_model", self)

        def step(sequences: torch.Tensor, start: int, end: int) -> torch.Tensor:
            if cache is None:
                start = 0
            kwargs = dict(extra)
            if padded:
                kwargs["attention_mask"] = mask[:, :end]
                kwargs["position_ids"] = positions[:, start:end]
            # Ids, mask and lengths were validated on entry: only this call may skip the model's checks
            # (a logits processor or another thread calling the model is still checked).
            with inputs_validated(base):
                out = self(
                    sequences[:, start:end], cache=cache, use_cache=cache is not None, return_dict=True, **kwargs
                )
            return out.logits[:, -1].float()

        return step, cache

    def _encoder_decoder_step(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, config: GenerationConfig
    ) -> tuple[Step, Any]:
        """Run the encoder once; each step runs the decoder over its new tokens with a two-part cache."""
        encoder_outputs = self.get_encoder()(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        cache = EncoderDecoderCache() if config.use_cache else None

        def step(sequences: torch.Tensor, start: int, end: int) -> torch.Tensor:
            out = self(
                decoder_input_ids=sequences[:, start if cache is not None else 0 : end],
                encoder_outputs=encoder_outputs,
                attention_mask=attention_mask,
                past_key_values=cache,
                use_cache=cache is not None,
                return_dict=True,
            )
            return out.logits[:, -1].float()

        return step, cache

    def _start_sequences(self, input_ids: torch.Tensor, config: GenerationConfig) -> torch.Tensor:
        """The token buffer the loop writes into: the prompt (or decoder start), then fill."""
        if self.config.is_encoder_decoder:
            start = config.decoder_start_token_id
            if start is None:
                start = config.bos_token_id
            if start is None:
                raise ValueError("an encoder-decoder model needs decoder_start_token_id in its config")
            input_ids = torch.full((input_ids.shape[0], 1), start, dtype=torch.long, device=input_ids.device)
        fill = config.pad_token_id if config.pad_token_id is not None else 0
        buffer = torch.full((input_ids.shape[0], config.max_length), fill, dtype=torch.long, device=input_ids.device)
        buffer[:, : input_ids.shape[1]] = input_ids
        return buffer

    # --- greedy and multinomial sampling ---------------------------------------------------------------
    def _sample(self, input_ids, attention_mask, config, processors, eos, streamer, generator):
        if config.num_return_sequences > 1:
            input_ids = input_ids.repeat_interleave(config.num_return_sequences, dim=0)
            attention_mask = attention_mask.repeat_interleave(config.num_return_sequences, dim=0)
        step, cache = self._make_step(input_ids, attention_mask, config)
        sequences = self._start_sequences(input_ids, config)
        start = input_ids.shape[1] if not self.config.is_encoder_decoder else 1
        max_length = sequences.shape[1]
        eos_ids = torch.tensor(eos, device=sequences.device) if eos else None
        unfinished = torch.ones(sequences.shape[0], dtype=torch.bool, device=sequences.device)
        all_scores = [] if config.output_scores else None
        logits = step(sequences, 0, start)
        cur = start
        while True:
            scores = processors(sequences[:, :cur], logits) if processors else logits
            if all_scores is not None:
                all_scores.append(scores)
            if config.do_sample:
                next_tokens = torch.multinomial(F.softmax(scores, dim=-1), 1, generator=generator).squeeze(1)
            else:
                # the first of tied maxima, as argmax, and NaN first as argmax; half argmax's time on
                # CPU at 8 rows of 50k logits (375 vs 729 us a step, 1 thread)
                next_tokens = scores.max(dim=-1).indices
            if eos_ids is not None:
                next_tokens = torch.where(unfinished, next_tokens, config.pad_token_id)
            sequences[:, cur] = next_tokens
            cur += 1
            if streamer is not None:
                streamer.put(next_tokens.cpu())
            if eos_ids is not None:
                unfinished &= ~torch.isin(next_tokens, eos_ids)
                if not unfinished.any():
                    break
            if cur >= max_length:
                break
            logits = step(sequences, cur - 1, cur)
        output_class = GenerateEncoderDecoderOutput if self.config.is_encoder_decoder else GenerateDecoderOnlyOutput
        return output_class(
            sequences=sequences[:, :cur],
            scores=tuple(all_scores) if all_scores is not None else None,
            past_key_values=cache,
        )

    # --- beam search -------------------------------------------------------------------------------------
    def _beam_search(self, input_ids, attention_mask, config, processors, eos, generator):
        """Vectorised beam search with the reference's bookkeeping (see docs in the loop)."""
        k, batch = config.num_beams, input_ids.shape[0]
        input_ids = input_ids.repeat_interleave(k, dim=0)
        attention_mask = attention_mask.repeat_interleave(k, dim=0)
        step, cache = self._make_step(input_ids, attention_mask, config)
        flat = self._start_sequences(input_ids, config)
        prompt = input_ids.shape[1] if not self.config.is_encoder_decoder else 1
        max_length = flat.shape[1]
        dev = flat.device
        fill = (config.pad_token_id if config.pad_token_id else eos[0]) if eos else -1
        flat[:, prompt:] = fill
        running = flat.view(batch, k, max_length)
        finished = running.clone()
        running_scores = torch.zeros(batch, k, device=dev)
        running_scores[:, 1:] = -1e9  # all beams start identical: only the first may expand
        finished_scores = torch.full((batch, k), -1e9, device=dev)
        finished_len = torch.zeros(batch, k, dtype=torch.long, device=dev)
        is_finished = torch.zeros(batch, k, dtype=torch.bool, device=dev)
        can_improve = torch.ones(batch, 1, dtype=torch.bool, device=dev)
        # Keep enough candidates that K of them are still running after the eos ones are set aside.
        keep = max(2, 1 + len(eos)) * k
        top_k_mask = torch.arange(keep, device=dev) < k
        eos_ids = torch.tensor(eos, device=dev) if eos else None
        batch_offset = torch.arange(batch, device=dev)[:, None] * k
        cur = prompt
        logits = step(flat, 0, prompt)
        while True:
            log_probs = processors(running.view(batch * k, max_length)[:, :cur], F.log_softmax(logits, dim=-1))
            vocab = log_probs.shape[-1]
            total = (log_probs.view(batch, k, vocab) + running_scores[:, :, None]).view(batch, k * vocab)
            if config.do_sample:
                idx = torch.multinomial(F.softmax(total, dim=-1), keep, generator=generator)
                cand_scores, order = total.gather(1, idx).sort(dim=-1, descending=True)
                idx = idx.gather(1, order)
            else:
                cand_scores, idx = torch.topk(total, keep)
            cand_beam, cand_token = idx // vocab, idx % vocab  # (B, keep)
            cand = running.gather(1, cand_beam[:, :, None].expand(-1, -1, max_length)).clone()
            cand[:, :, cur] = cand_token
            hits = torch.full_like(cand_token, cur + 1 >= max_length, dtype=torch.bool)
            if eos_ids is not None:
                hits |= torch.isin(cand_token, eos_ids)
            # Next running beams: the best K candidates that did not stop.
            run_scores = cand_scores + hits.float() * -1e9
            sel = torch.topk(run_scores, k)[1]
            running = cand.gather(1, sel[:, :, None].expand(-1, -1, max_length))
            running_scores = run_scores.gather(1, sel)
            source_beam = cand_beam.gather(1, sel)
            # Finished hypotheses: only stopped candidates among the top K may enter, scored with
            # the length penalty, and only while they can still improve the finished set.
            just = hits & top_k_mask[None, :]
            fin = cand_scores / ((cur + 1 - prompt) ** config.length_penalty)
            full = is_finished.all(dim=-1, keepdim=True) & (config.early_stopping is True)
            fin = fin + full.float() * -1e9 + (~can_improve).float() * -1e9 + (~just).float() * -1e9
            merged_scores = torch.cat([finished_scores, fin], dim=1)
            sel = torch.topk(merged_scores, k)[1]
            finished = torch.cat([finished, cand], dim=1).gather(1, sel[:, :, None].expand(-1, -1, max_length))
            finished_scores = merged_scores.gather(1, sel)
            new_len = torch.full_like(cand_token, cur + 1 - prompt)
            finished_len = torch.cat([finished_len, new_len], dim=1).gather(1, sel)
            is_finished = torch.cat([is_finished, just], dim=1).gather(1, sel)
            cur += 1
            can_improve = can_improve & self._beam_can_improve(
                running_scores, finished_scores, is_finished, cur, prompt, max_length, config
            )
            stop_early = bool(is_finished.all()) and config.early_stopping is True
            if not bool(can_improve.any()) or stop_early or bool(hits.all()):
                break
            if cache is not None:
                cache.reorder_cache((source_beam + batch_offset).view(-1))
            flat = running.reshape(batch * k, max_length)
            logits = step(flat, cur - 1, cur)
        n = config.num_return_sequences
        out_len = prompt + int(finished_len[:, :n].max())
        if self.config.is_encoder_decoder:
            beam_class = GenerateBeamEncoderDecoderOutput
        else:
            beam_class = GenerateBeamDecoderOnlyOutput
        return beam_class(
            sequences=finished[:, :n, :out_len].reshape(batch * n, out_len),
            sequences_scores=finished_scores[:, :n].reshape(-1),
            past_key_values=cache,
        )

    @staticmethod
    def _beam_can_improve(running_scores, finished_scores, is_finished, cur, prompt, max_length, config):
        """Could the best running beam still beat the worst finished one? (the reference's heuristic)"""
        if config.early_stopping == "never" and config.length_penalty > 0.0:
            best_length = max_length - prompt
        else:
            best_length = cur - prompt
        best_running = running_scores[:, :1] / (best_length**config.length_penalty)
        worst = torch.where(is_finished, finished_scores.min(dim=1, keepdim=True)[0], -1.0e9)
        return (best_running > worst).any(dim=-1, keepdim=True)


def projects_last_positions(model: Any) -> bool:
    """Whether ``model.forward`` takes ``logits_to_keep``: it can project only the last positions
    through its (vocabulary-wide) head, so generate asks for one a row, prompt included."""
    return "logits_to_keep" in inspect.signature(model.forward).parameters
