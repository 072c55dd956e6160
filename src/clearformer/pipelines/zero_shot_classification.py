"""zero-shot-classification: rank any candidate labels with a model trained on NLI.

Each label becomes the hypothesis ``hypothesis_template.format(label)`` paired with the text; the
model's *entailment* logit (its id found in ``config.label2id``) scores the label. Labels compete
(softmax across labels) unless ``multi_label=True``, where each label is entailment vs
contradiction on its own. Matches transformers 5.24.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from .base import Pipeline

logger = logging.getLogger(__name__)
DEFAULT_TEMPLATE = "This example is {}."


def parse_labels(labels: str | list[str]) -> list[str]:
    if isinstance(labels, str):
        return [label.strip() for label in labels.split(",") if label.strip()]
    return list(labels)


class ZeroShotClassificationPipeline(Pipeline):
    task = "zero-shot-classification"

    @property
    def entailment_id(self) -> int:
        """The id of the first label starting with "entail" (case-insensitive); -1 if none."""
        for label, index in (self.model.config.label2id or {}).items():
            if label.lower().startswith("entail"):
                return index
        return -1

    def __call__(self, sequences: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and "candidate_labels" not in kwargs:
            kwargs["candidate_labels"] = args[0]
        elif args:
            raise TypeError(f"zero-shot-classification takes the texts and candidate_labels; extra arguments {args}")
        return super().__call__(sequences, **kwargs)

    def _sanitize_parameters(
        self, candidate_labels: Any = None, hypothesis_template: str | None = None, multi_label: bool | None = None
    ):
        pre: dict[str, Any] = {}
        if candidate_labels is not None:
            pre["candidate_labels"] = parse_labels(candidate_labels)
        if hypothesis_template is not None:
            pre["hypothesis_template"] = hypothesis_template
        post = {"multi_label": multi_label} if multi_label is not None else {}
        return pre, {}, post

    def preprocess(
        self, sequence: Any, candidate_labels: list[str] | None = None, hypothesis_template: str = DEFAULT_TEMPLATE
    ):
        if not candidate_labels:
            raise ValueError("zero-shot-classification needs candidate_labels: a list or a comma-separated string")
        if not isinstance(sequence, str) or not sequence:
            raise ValueError(f"zero-shot-classification takes non-empty strings, got {sequence!r}")
        if hypothesis_template.format(candidate_labels[0]) == hypothesis_template:
            raise ValueError(
                f"hypothesis_template {hypothesis_template!r} has no {{}} where the label goes, "
                f"e.g. {DEFAULT_TEMPLATE!r}"
            )
        if self.entailment_id == -1:
            logger.warning(
                "no label starting with 'entail' in config.label2id %s; scoring with the last logit",
                self.model.config.label2id,
            )
        for label in candidate_labels:
            yield {
                "model_inputs": self._encode_pair(sequence, hypothesis_template.format(label)),
                "candidate_label": label,
                "sequence": sequence,
            }

    def _encode_pair(self, premise: str, hypothesis: str) -> dict[str, list[int]]:
        # only the premise is cut when too long: the hypothesis carries the label
        try:
            enc = self.tokenizer(premise, hypothesis, truncation="only_first")
        except ValueError:  # the hypothesis alone is over the limit: run it whole, as transformers does
            enc = self.tokenizer(premise, hypothesis, truncation=False)
        return self.model_inputs(enc)

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": self.model(**model_inputs).logits}

    def postprocess(self, outputs: list[dict], multi_label: bool = False) -> dict:
        logits = torch.stack([o["logits"].float() for o in outputs])  # (labels, classes)
        entail = self.entailment_id
        if multi_label or len(outputs) == 1:
            contradiction = -1 if entail == 0 else 0
            scores = logits[:, [contradiction, entail]].softmax(-1)[:, 1]
        else:
            scores = logits[:, entail].softmax(-1)
        scores = scores.tolist()
        # best first; equal scores keep transformers' order (a reversed stable ascending sort)
        order = sorted(range(len(scores)), key=lambda i: (scores[i], i), reverse=True)
        return {
            "sequence": outputs[0]["sequence"],
            "labels": [outputs[i]["candidate_label"] for i in order],
            "scores": [scores[i] for i in order],
        }
