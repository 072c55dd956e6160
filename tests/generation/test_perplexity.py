"""Sliding-window perplexity (clearformer.evaluation.perplexity) against the reference's recipe."""

from __future__ import annotations

import math

import pytest
import torch

from clearformer.evaluation.perplexity import perplexity, window_spans


@pytest.mark.parametrize(("n", "max_length", "stride"), [(50, 16, 16), (50, 16, 5), (16, 16, 4), (7, 16, 3)])
def test_windows_score_each_token_at_most_once_and_all_when_overlapping(n, max_length, stride):
    scored = []
    for begin, end, first in window_spans(n, max_length, stride):
        assert end - begin <= max_length and begin < first <= end
        scored.extend(range(first, end))
    starts = {b for b, _, _ in window_spans(n, max_length, stride) if b > 0} if stride == max_length else set()
    # Disjoint windows cannot predict their own first token (no context): the reference skips it too.
    assert scored == [t for t in range(1, n) if t not in starts]


def test_sliding_window_perplexity_matches_reference_loop(models):
    ref, ours = models
    ids = torch.randint(6, 97, (1, 150), generator=torch.Generator().manual_seed(4))
    max_length, stride = 64, 24
    nll, count, prev_end = 0.0, 0, 0
    with torch.no_grad():  # the loop from the reference's perplexity guide
        for begin in range(0, ids.shape[1], stride):
            end = min(begin + max_length, ids.shape[1])
            window = ids[:, begin:end]
            target = window.clone()
            target[:, : -(end - prev_end)] = -100
            n = int((target[:, 1:] != -100).sum())
            nll += ref(window, labels=target).loss.item() * n
            count += n
            prev_end = end
            if end == ids.shape[1]:
                break
    result = perplexity(ours, ids, stride=stride, max_length=max_length)
    assert result.num_tokens == count == 149
    assert result.perplexity == pytest.approx(math.exp(nll / count), rel=1e-5)


def test_perplexity_rejects_windows_beyond_positions(models):
    _, ours = models
    with pytest.raises(ValueError, match="positions"):
        perplexity(ours, torch.randint(6, 97, (200,)), max_length=100)
    with pytest.raises(ValueError, match="stride"):
        perplexity(ours, torch.randint(6, 97, (200,)), stride=0)
