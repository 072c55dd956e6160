"""``postprocess_qa_predictions``: start/end logits of SQuAD windows -> one answer text per example.

The course's chapter 4.3 step, as a tested library function: for each example, every window
(feature) proposes the ``n_best_size`` best starts x ends; spans must lie in the context (offset not
None), end >= start, and be at most ``max_answer_length`` tokens; a span scores start logit + end
logit. SQuAD v2 (``version_2_with_negative`` / ``squad_v2``) answers "" unless the best span beats
the null score: the lowest [CLS] start+end logit over the example's windows (+ a threshold).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def postprocess_qa_predictions(
    examples: Iterable[dict],
    features: Sequence[dict],
    raw_predictions: Any,
    n_best_size: int = 20,
    max_answer_length: int = 30,
    version_2_with_negative: bool = False,
    null_score_diff_threshold: float = 0.0,
    tokenizer: Any = None,
    squad_v2: bool | None = None,
    return_n_best: bool = False,
) -> OrderedDict | tuple[OrderedDict, OrderedDict]:
    """Map each example ``id`` to its answer text (and, with ``return_n_best``, to its n-best list).

    ``examples`` have ``id`` and ``context``; ``features`` have ``example_id`` and
    ``offset_mapping`` (None for tokens outside the context, as the course's
    ``prepare_validation_features`` writes), and ``input_ids`` when ``tokenizer`` is given to
    locate [CLS] (else position 0). ``raw_predictions`` is ``(start_logits, end_logits)`` with one
    row per feature, or the Trainer's prediction output holding them in ``.predictions``.
    """
    if squad_v2 is not None:
        version_2_with_negative = squad_v2
    if n_best_size < 1 or max_answer_length < 1:
        raise ValueError(f"n_best_size and max_answer_length must be >= 1, got {n_best_size}, {max_answer_length}")
    start_logits, end_logits = _split_predictions(raw_predictions)
    features = list(features)
    if len(start_logits) != len(features):
        raise ValueError(
            f"{len(start_logits)} rows of logits for {len(features)} features; pass the predictions of exactly "
            "these features (e.g. trainer.predict(validation_features).predictions)"
        )
    by_example: dict[Any, list[int]] = defaultdict(list)
    for index, feature in enumerate(features):
        by_example[feature["example_id"]].append(index)
    answers, n_best = OrderedDict(), OrderedDict()
    for example in examples:
        candidates, null_score = [], None
        for index in by_example.get(example["id"], []):
            cls = _cls_index(features[index], tokenizer)
            feature_null = float(start_logits[index][cls] + end_logits[index][cls])
            null_score = feature_null if null_score is None else min(null_score, feature_null)
            start, end, offsets = start_logits[index], end_logits[index], features[index]["offset_mapping"]
            candidates += _feature_spans(start, end, offsets, n_best_size, max_answer_length)
        if not version_2_with_negative:
            null_score = None
        answers[example["id"]], n_best[example["id"]] = _choose(
            example["context"], candidates, n_best_size, null_score, null_score_diff_threshold
        )
    return (answers, n_best) if return_n_best else answers


def _choose(context: str, candidates: list[dict], n_best_size: int, null_score: float | None, threshold: float):
    """(answer text, n-best list with probabilities); "" wins when null_score is given and not beaten."""
    candidates = sorted(candidates, key=lambda c: c["score"], reverse=True)[:n_best_size]
    for candidate in candidates:
        candidate["text"] = context[candidate["start"] : candidate["end"]]
    best = candidates[0] if candidates else {"text": "", "score": 0.0}
    if null_score is None:
        return best["text"], _with_probabilities(candidates)
    answer = best["text"] if best["score"] > null_score + threshold else ""
    candidates.append({"text": "", "score": null_score, "start": 0, "end": 0})
    candidates.sort(key=lambda c: c["score"], reverse=True)
    return answer, _with_probabilities(candidates)


def _split_predictions(raw: Any) -> tuple[np.ndarray, np.ndarray]:
    raw = getattr(raw, "predictions", raw)
    if not isinstance(raw, (tuple, list)) or len(raw) < 2:
        raise ValueError("raw_predictions must be (start_logits, end_logits), or an object whose .predictions is")
    return np.asarray(raw[0], dtype=np.float64), np.asarray(raw[1], dtype=np.float64)


def _cls_index(feature: dict, tokenizer: Any) -> int:
    if tokenizer is not None and "input_ids" in feature:
        ids = list(feature["input_ids"])
        if tokenizer.cls_token_id in ids:
            return ids.index(tokenizer.cls_token_id)
    return 0


def _feature_spans(start: np.ndarray, end: np.ndarray, offsets: Sequence, n_best: int, max_len: int) -> list[dict]:
    """The valid spans among this window's n_best starts x n_best ends, with char offsets."""
    starts = np.argsort(start)[::-1][:n_best].tolist()
    ends = np.argsort(end)[::-1][:n_best].tolist()
    spans = []
    for s in starts:
        for e in ends:
            if s >= len(offsets) or e >= len(offsets) or _outside(offsets[s]) or _outside(offsets[e]):
                continue
            if e < s or e - s + 1 > max_len:
                continue
            spans.append({"score": float(start[s] + end[e]), "start": int(offsets[s][0]), "end": int(offsets[e][1])})
    return spans


def _outside(offset: Any) -> bool:
    # None marks a question/special token; an empty list is how some Arrow round trips store None
    return offset is None or len(offset) == 0


def _with_probabilities(candidates: list[dict]) -> list[dict]:
    if not candidates:
        return []
    scores = np.array([c["score"] for c in candidates])
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    return [{**c, "probability": float(p)} for c, p in zip(candidates, probs)]
