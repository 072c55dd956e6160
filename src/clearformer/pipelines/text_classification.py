"""text-classification / sentiment-analysis: one label (or the top_k labels) per text or text pair.

Matches transformers 5.24: softmax for several labels, sigmoid for one label or multi-label
problems, nothing for regression; ``top_k`` (None = all, sorted) and ``function_to_apply``.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Pipeline

FUNCTIONS = ("softmax", "sigmoid", "none")
_UNSET = object()  # top_k not given: the course's one-dict-per-text output


def apply_function(logits: torch.Tensor, name: str) -> torch.Tensor:
    logits = logits.float()
    if name == "softmax":
        return logits.softmax(-1)
    if name == "sigmoid":
        return logits.sigmoid()
    return logits


def default_function(config: Any) -> str:
    """The score function transformers picks from the config when none is asked for."""
    if config.problem_type == "regression":
        return "none"
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    if config.problem_type == "single_label_classification" or config.num_labels > 1:
        return "softmax"
    return getattr(config, "function_to_apply", None) or "none"


class TextClassificationPipeline(Pipeline):
    task = "text-classification"

    def _sanitize_parameters(self, top_k: Any = _UNSET, function_to_apply: str | None = None, **tokenizer_kwargs):
        post: dict[str, Any] = {}
        if top_k is not _UNSET:
            if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
                raise ValueError(f"top_k must be a positive int or None (all labels), got {top_k!r}")
            post["top_k"] = top_k
        if function_to_apply is not None:
            name = str(getattr(function_to_apply, "value", function_to_apply)).lower()
            if name not in FUNCTIONS:
                raise ValueError(f"function_to_apply={function_to_apply!r}; use one of {FUNCTIONS}")
            post["function_to_apply"] = name
        unknown = set(tokenizer_kwargs) - {"truncation", "max_length", "padding"}
        if unknown:
            raise TypeError(f"the text-classification pipeline got unknown options {sorted(unknown)}")
        return tokenizer_kwargs, {}, post

    def preprocess(self, inputs: Any, **tokenizer_kwargs: Any):
        if isinstance(inputs, dict):
            if "text" not in inputs:
                raise ValueError(f"a dict input needs 'text' (and optionally 'text_pair'); got keys {sorted(inputs)}")
            text, pair = inputs["text"], inputs.get("text_pair")
        elif isinstance(inputs, (list, tuple)) and len(inputs) == 1 and len(inputs[0]) == 2:
            text, pair = inputs[0]
        elif isinstance(inputs, str):
            text, pair = inputs, None
        else:
            raise ValueError(
                f"text-classification takes a string, a list of strings, or {{'text': ..., 'text_pair': ...}} "
                f"for a pair; got {type(inputs).__name__} {inputs!r}"
            )
        yield {"model_inputs": self.model_inputs(self.tokenizer(text, pair, **tokenizer_kwargs))}

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": self.model(**model_inputs).logits}

    def postprocess(self, outputs: list[dict], top_k: Any = _UNSET, function_to_apply: str | None = None):
        config = self.model.config
        scores = apply_function(outputs[0]["logits"], function_to_apply or default_function(config)).tolist()
        if top_k is _UNSET:
            best = max(range(len(scores)), key=scores.__getitem__)
            return {"label": config.id2label[best], "score": scores[best]}
        ranked = sorted(
            ({"label": config.id2label[i], "score": s} for i, s in enumerate(scores)),
            key=lambda d: d["score"],
            reverse=True,
        )
        return ranked if top_k is None else ranked[:top_k]

    def _wrap_result(self, inputs: Any, result: Any, post: dict) -> Any:
        # transformers wraps a single text's result in a list unless top_k was given
        if isinstance(inputs, str) and "top_k" not in post:
            return [result]
        return result
