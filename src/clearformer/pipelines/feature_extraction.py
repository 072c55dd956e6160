"""feature-extraction: the base model's last hidden state, one vector per token.

Matches transformers 5.24: a text gives a nested list shaped [1, tokens, hidden] (a tensor of
that shape with ``return_tensors=True``). Batched inputs are cut back to their own length.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Pipeline


class FeatureExtractionPipeline(Pipeline):
    task = "feature-extraction"
    token_outputs = ("last_hidden_state",)

    def _sanitize_parameters(
        self, truncation: Any = None, tokenize_kwargs: dict | None = None, return_tensors: bool | None = None
    ):
        tokenize_kwargs = dict(tokenize_kwargs or {})
        if truncation is not None:
            if "truncation" in tokenize_kwargs:
                raise ValueError("truncation given twice: as an option and inside tokenize_kwargs; keep one")
            tokenize_kwargs["truncation"] = truncation
        post = {"return_tensors": return_tensors} if return_tensors is not None else {}
        return tokenize_kwargs, {}, post

    def preprocess(self, inputs: Any, **tokenize_kwargs: Any):
        if not isinstance(inputs, str):
            raise ValueError(f"feature-extraction takes strings, got {type(inputs).__name__} {inputs!r}")
        yield {"model_inputs": self.model_inputs(self.tokenizer(inputs, **tokenize_kwargs))}

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"last_hidden_state": self.model(**model_inputs)[0]}

    def postprocess(self, outputs: list[dict], return_tensors: bool = False) -> Any:
        hidden = outputs[0]["last_hidden_state"][None]  # (1, L, H) as transformers returns it
        return hidden if return_tensors else hidden.tolist()
