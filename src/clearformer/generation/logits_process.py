"""Logits processors: each one takes (token ids so far, next-token scores) and returns new scores.

They run in the reference's order — repetition penalty, no-repeat n-gram, min length, then (only
when sampling) temperature, top-k, top-p, min-p — so seeded sampling picks the same tokens.
Removed tokens get ``-inf``; scores are fp32 of shape (batch, vocab).
"""

from __future__ import annotations

import torch

from .configuration_utils import GenerationConfig


class LogitsProcessor:
    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LogitsProcessorList(list):
    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        for processor in self:
            scores = processor(input_ids, scores)
        return scores


class RepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """CTRL's penalty: every token already present gets its score divided by ``penalty`` (times, if < 0)."""

    def __init__(self, penalty: float) -> None:
        self.penalty = penalty

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        seen = torch.gather(scores, 1, input_ids)
        seen = torch.where(seen < 0, seen * self.penalty, seen / self.penalty)
        return scores.scatter(1, input_ids, seen)


class NoRepeatNGramLogitsProcessor(LogitsProcessor):
    """Forbid any token that would complete an n-gram already present in the sequence."""

    def __init__(self, ngram_size: int) -> None:
        self.n = ngram_size

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        n, length = self.n, input_ids.shape[1]
        if length + 1 < n:
            return scores
        scores = scores.clone()
        for row, ids in enumerate(input_ids.tolist()):
            prefix = tuple(ids[length - n + 1 :]) if n > 1 else ()
            banned = {ids[i + n - 1] for i in range(length - n + 1) if tuple(ids[i : i + n - 1]) == prefix}
            if banned:
                scores[row, list(banned)] = -float("inf")
        return scores


class MinLengthLogitsProcessor(LogitsProcessor):
    """No end-of-sequence until the whole sequence (prompt included) has ``min_length`` tokens."""

    def __init__(self, min_length: int, eos_token_ids: list[int]) -> None:
        self.min_length = min_length
        self.eos = eos_token_ids

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[1] < self.min_length:
            scores = scores.clone()
            scores[:, self.eos] = -float("inf")
        return scores


class MinNewTokensLengthLogitsProcessor(MinLengthLogitsProcessor):
    """No end-of-sequence until ``min_new_tokens`` tokens have been generated."""

    def __init__(self, prompt_length: int, min_new_tokens: int, eos_token_ids: list[int]) -> None:
        super().__init__(prompt_length + min_new_tokens, eos_token_ids)


class TemperatureLogitsWarper(LogitsProcessor):
    """Divide by T: T < 1 sharpens the distribution, T > 1 flattens it."""

    def __init__(self, temperature: float) -> None:
        self.temperature = temperature

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores / self.temperature


class TopKLogitsWarper(LogitsProcessor):
    """Keep the k highest scores (ties with the k-th are kept too)."""

    def __init__(self, top_k: int, min_tokens_to_keep: int = 1) -> None:
        self.top_k = max(top_k, min_tokens_to_keep)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        k = min(self.top_k, scores.shape[-1])
        kth = torch.topk(scores, k)[0][..., -1:]
        return scores.masked_fill(scores < kth, -float("inf"))


class TopPLogitsWarper(LogitsProcessor):
    """Nucleus sampling: keep the smallest set of top tokens whose probabilities sum to >= top_p."""

    def __init__(self, top_p: float, min_tokens_to_keep: int = 1) -> None:
        self.top_p = top_p
        self.min_keep = min_tokens_to_keep

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        sorted_scores, order = torch.sort(scores, descending=False)
        cumulative = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
        # Ascending order: drop the low tail whose total mass is <= 1 - top_p.
        drop = cumulative <= (1 - self.top_p)
        drop[..., -self.min_keep :] = False
        drop = drop.scatter(1, order, drop)
        return scores.masked_fill(drop, -float("inf"))


class MinPLogitsWarper(LogitsProcessor):
    """Keep tokens whose probability is at least ``min_p`` times the top token's."""

    def __init__(self, min_p: float, min_tokens_to_keep: int = 1) -> None:
        self.min_p = min_p
        self.min_keep = min_tokens_to_keep

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        probs = scores.softmax(dim=-1)
        threshold = self.min_p * probs.amax(dim=-1, keepdim=True)
        drop = probs < threshold
        order = torch.argsort(scores, dim=-1, descending=True)
        sorted_drop = torch.gather(drop, 1, order)
        sorted_drop[..., : self.min_keep] = False
        drop = sorted_drop.scatter(1, order, sorted_drop)
        return scores.masked_fill(drop, -float("inf"))


def build_logits_processors(
    config: GenerationConfig, prompt_length: int, eos_token_ids: list[int]
) -> LogitsProcessorList:
    """The processors ``config`` asks for, in the reference's order."""
    processors = LogitsProcessorList()
    if config.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(config.repetition_penalty))
    if config.no_repeat_ngram_size > 0:
        processors.append(NoRepeatNGramLogitsProcessor(config.no_repeat_ngram_size))
    if eos_token_ids and config.min_length > 0:
        processors.append(MinLengthLogitsProcessor(config.min_length, eos_token_ids))
    if eos_token_ids and config.min_new_tokens:
        processors.append(MinNewTokensLengthLogitsProcessor(prompt_length, config.min_new_tokens, eos_token_ids))
    if config.do_sample:
        # Beam sampling must keep one non-eos continuation per eos id to explore.
        keep = len(eos_token_ids) + 1 if config.num_beams > 1 else 1
        if config.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(config.temperature))
        if config.top_k:
            processors.append(TopKLogitsWarper(config.top_k, keep))
        if config.top_p < 1.0:
            processors.append(TopPLogitsWarper(config.top_p, keep))
        if config.min_p is not None:
            processors.append(MinPLogitsWarper(config.min_p, keep))
    return processors
