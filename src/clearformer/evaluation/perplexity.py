"""Perplexity of a causal LM over a long text with a sliding window.

A text longer than the model's positions is scored in windows of ``max_length`` tokens that move
by ``stride``: each token is predicted once, by the window that first contains it as a new token,
with at least ``max_length - stride`` tokens of context (except at the start). ``stride ==
max_length`` gives disjoint windows (fast, pessimistic; a window's first token has no context and
is not scored, as in the reference's guide); a smaller stride gives each token more context
(slower, closer to the model's true quality). PPL = exp(mean NLL of the scored tokens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..generation.utils import projects_last_positions


@dataclass
class PerplexityResult:
    perplexity: float
    nll: float  # mean negative log-likelihood per scored token (nats)
    num_tokens: int  # tokens scored (every token but the first)
    num_windows: int
    max_length: int
    stride: int


def window_spans(num_tokens: int, max_length: int, stride: int) -> list[tuple[int, int, int]]:
    """(begin, end, first_scored) per window: tokens [begin, end) are fed, [first_scored, end) scored."""
    if not 0 < stride <= max_length:
        raise ValueError(f"stride must be in (0, max_length={max_length}], got {stride}")
    spans, scored_until = [], 0
    for begin in range(0, num_tokens, stride):
        end = min(begin + max_length, num_tokens)
        spans.append((begin, end, max(scored_until, begin + 1)))
        scored_until = end
        if end == num_tokens:
            break
    return spans


@torch.no_grad()
def perplexity(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    stride: int = 512,
    max_length: int | None = None,
) -> PerplexityResult:
    """Sliding-window perplexity of ``input_ids`` (one long sequence, 1-D or (1, N)) under ``model``."""
    ids = input_ids.reshape(-1)
    if ids.numel() < 2:
        raise ValueError("perplexity needs at least two tokens (one to condition on, one to predict)")
    limit = getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", None)
    max_length = max_length or limit
    if limit is not None and max_length > limit:
        raise ValueError(f"max_length {max_length} exceeds the model's {limit} positions; use max_length <= {limit}")
    was_training = model.training
    model.eval()
    total_nll, count = 0.0, 0
    spans = window_spans(ids.numel(), max_length, stride)
    device = next(model.parameters()).device
    # Only the positions that predict scored tokens need the (vocab-wide) LM head.
    can_trim = projects_last_positions(model)
    for begin, end, first in spans:
        window = ids[begin:end][None].to(device)
        # Position t predicts token t + 1; score the targets in [first, end).
        targets = window[0, first - begin :]
        if can_trim:  # logits of positions [first - begin - 1, end - begin)
            logits = model(window, use_cache=False, logits_to_keep=end - first + 1).logits[0].float()
        else:
            logits = model(window, use_cache=False).logits[0, first - begin - 1 :].float()
        preds = logits[:-1]
        total_nll += F.cross_entropy(preds, targets, reduction="sum").item()
        count += targets.numel()
    model.train(was_training)
    nll = total_nll / count
    return PerplexityResult(math.exp(nll), nll, count, len(spans), max_length, stride)
