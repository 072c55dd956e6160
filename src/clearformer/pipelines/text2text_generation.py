"""text2text-generation, summarization, translation: an encoder-decoder model's ``generate``.

Matches transformers 4.57 (5.x dropped these pipelines): the model's task prefix (T5's
``"translate English to German: "`` from ``config.task_specific_params``) goes before each text;
unless the model's generation config says otherwise ``max_new_tokens=256, num_beams=4``; results
are ``{"generated_text"|"summary_text"|"translation_text": ...}``, one per returned sequence.
"""

from __future__ import annotations

from typing import Any

import torch

from ..generation import GenerationConfig
from .base import Pipeline

PIPELINE_DEFAULTS = {"max_new_tokens": 256, "num_beams": 4}


class Text2TextGenerationPipeline(Pipeline):
    task = "text2text-generation"
    return_name = "generated"

    def __init__(self, model: torch.nn.Module, tokenizer: Any = None, **kwargs: Any) -> None:
        if not getattr(model.config, "is_encoder_decoder", False) or not hasattr(model, "generate"):
            raise TypeError(
                f"the {kwargs.get('task') or self.task} pipeline needs an encoder-decoder model with generate "
                f"(Marian, T5, BART), got {type(model).__name__}"
            )
        super().__init__(model, tokenizer, **kwargs)

    @property
    def prefix(self) -> str:
        """The model's prefix for this task (T5), from task_specific_params or config.prefix."""
        specific = (getattr(self.model.config, "task_specific_params", None) or {}).get(self.task) or {}
        return specific.get("prefix") or getattr(self.model.config, "prefix", None) or ""

    def _sanitize_parameters(
        self,
        return_tensors: bool | None = None,
        return_text: bool | None = None,
        clean_up_tokenization_spaces: bool | None = None,
        truncation: Any = None,
        **generate_kwargs: Any,
    ):
        pre = {"truncation": truncation} if truncation is not None else {}
        post: dict[str, Any] = {}
        if return_tensors is not None:
            post["return_tensors"] = return_tensors
        if clean_up_tokenization_spaces is not None:
            post["clean_up_tokenization_spaces"] = clean_up_tokenization_spaces
        unknown = set(generate_kwargs) - GenerationConfig.field_names() - {"generator", "generation_config"}
        if unknown:
            raise TypeError(f"the {self.task} pipeline got unknown options {sorted(unknown)}")
        return pre, generate_kwargs, post

    def preprocess(self, text: Any, truncation: Any = False):
        if not isinstance(text, str):
            raise ValueError(f"{self.task} takes strings, got {type(text).__name__} {text!r}")
        enc = self.tokenizer(self.prefix + text, truncation=truncation)
        yield {"model_inputs": {k: v for k, v in self.model_inputs(enc).items() if k != "token_type_ids"}}

    def _forward(self, model_inputs: dict[str, torch.Tensor], **generate_kwargs: Any) -> dict[str, torch.Tensor]:
        model_config, fresh = self.model.generation_config, GenerationConfig()
        for key, value in PIPELINE_DEFAULTS.items():
            unset = key not in generate_kwargs and getattr(model_config, key) == getattr(fresh, key)
            if unset and (key != "max_new_tokens" or "max_length" not in generate_kwargs):
                generate_kwargs[key] = value
        sequences = self.model.generate(**model_inputs, **generate_kwargs)
        batch = model_inputs["input_ids"].shape[0]
        return {"sequences": sequences.view(batch, sequences.shape[0] // batch, -1)}

    def postprocess(
        self, outputs: list[dict], return_tensors: bool = False, clean_up_tokenization_spaces: bool = False
    ) -> list[dict]:
        records = []
        for ids in outputs[0]["sequences"].tolist():
            if return_tensors:
                records.append({f"{self.return_name}_token_ids": ids})
            else:
                text = self.tokenizer.decode(
                    ids, skip_special_tokens=True, clean_up_tokenization_spaces=clean_up_tokenization_spaces
                )
                records.append({f"{self.return_name}_text": text})
        return records

    def _wrap_result(self, inputs: Any, result: Any, post: dict) -> Any:
        # transformers flattens a list input's one-record results into one list of dicts
        if isinstance(inputs, list) and all(len(r) == 1 for r in result):
            return [r[0] for r in result]
        return result


class SummarizationPipeline(Text2TextGenerationPipeline):
    task = "summarization"
    return_name = "summary"


class TranslationPipeline(Text2TextGenerationPipeline):
    task = "translation"
    return_name = "translation"
