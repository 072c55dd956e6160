"""fill-mask: the most likely tokens for each mask token, with the filled-in sentence.

Matches transformers 5.24: ``top_k`` (default 5) candidates per mask; ``targets`` limits the
candidates to given words (a word outside the vocabulary is replaced by its first token, with a
warning); one mask gives a list of candidates, several masks a list per mask.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from .base import Pipeline

logger = logging.getLogger(__name__)


class FillMaskPipeline(Pipeline):
    task = "fill-mask"
    token_outputs = ("logits",)

    def _sanitize_parameters(self, top_k: int | None = None, targets: Any = None, tokenizer_kwargs: dict | None = None):
        if self.tokenizer.mask_token_id is None:
            raise ValueError(f"fill-mask needs a tokenizer with a mask token; {type(self.tokenizer).__name__} has none")
        post: dict[str, Any] = {}
        if top_k is not None:
            if not isinstance(top_k, int) or top_k < 1:
                raise ValueError(f"top_k must be a positive int, got {top_k!r}")
            post["top_k"] = top_k
        if targets is not None:
            post["target_ids"] = self.target_ids(targets)
        return ({"tokenizer_kwargs": tokenizer_kwargs} if tokenizer_kwargs else {}), {}, post

    def target_ids(self, targets: str | list[str]) -> list[int]:
        """Vocabulary ids of the target words; an unknown word stands for its first token."""
        vocab = self.tokenizer.get_vocab()
        ids = []
        for target in [targets] if isinstance(targets, str) else targets:
            if target in vocab:
                ids.append(vocab[target])
                continue
            pieces = self.tokenizer(target, add_special_tokens=False)["input_ids"]
            if not pieces:
                logger.warning("target %r is not in the vocabulary and tokenizes to nothing; ignoring it", target)
                continue
            logger.warning(
                "target %r is not in the vocabulary; using its first token %r",
                target,
                self.tokenizer.convert_ids_to_tokens(pieces[0]),
            )
            ids.append(pieces[0])
        if not ids:
            raise ValueError(f"none of the targets {targets!r} maps to a vocabulary token; give at least one word")
        return sorted(set(ids))

    def preprocess(self, inputs: Any, tokenizer_kwargs: dict | None = None):
        if not isinstance(inputs, str):
            raise ValueError(f"fill-mask takes strings containing {self.tokenizer.mask_token}, got {inputs!r}")
        enc = self.tokenizer(inputs, **(tokenizer_kwargs or {}))
        if self.tokenizer.mask_token_id not in enc["input_ids"]:
            raise ValueError(f"no mask token ({self.tokenizer.mask_token}) found in the input {inputs!r}")
        yield {"model_inputs": self.model_inputs(enc)}

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": self.model(**model_inputs).logits}

    def postprocess(self, outputs: list[dict], top_k: int = 5, target_ids: list[int] | None = None) -> list:
        ids = torch.tensor(outputs[0]["model_inputs"]["input_ids"])
        masked = (ids == self.tokenizer.mask_token_id).nonzero().squeeze(-1)
        probs = outputs[0]["logits"][masked].float().softmax(-1)
        if target_ids is not None:
            probs = probs[:, target_ids]
            top_k = min(top_k, len(target_ids))
        values, candidates = probs.topk(top_k)
        single = len(masked) == 1
        result = []
        for position, row_values, row_candidates in zip(masked.tolist(), values.tolist(), candidates.tolist()):
            row = []
            for score, candidate in zip(row_values, row_candidates):
                token = target_ids[candidate] if target_ids is not None else candidate
                filled = ids.clone()
                filled[position] = token
                filled = filled[filled != self.tokenizer.pad_token_id]
                row.append(
                    {
                        "score": score,
                        "token": token,
                        "token_str": self.tokenizer.decode([token]),
                        "sequence": self.tokenizer.decode(filled.tolist(), skip_special_tokens=single),
                    }
                )
            result.append(row)
        return result[0] if single else result

    def _wrap_result(self, inputs: Any, result: Any, post: dict) -> Any:
        # transformers unwraps a one-element list input
        if isinstance(inputs, list) and len(inputs) == 1:
            return result[0]
        return result
