"""text2text-generation, summarization, translation: an encoder-decoder model's ``generate``.

Matches transformers 4.57 (5.x dropped these pipelines): the model's task prefix (T5's
``"translate English to German: "`` from ``config.task_specific_params``) goes before each text;
generation settings are, by priority, the call's, the task's ``task_specific_params``, the model's
generation config, then ``max_new_tokens=256, num_beams=4``; results are
``{"generated_text"|"summary_text"|"translation_text": ...}``, one per returned sequence.
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
        task_params = dict((getattr(model.config, "task_specific_params", None) or {}).get(self.task) or {})
        self.prefix = task_params.pop("prefix", None) or getattr(model.config, "prefix", None) or ""
        self.generation_defaults = self._generation_defaults(task_params)

    def _generation_defaults(self, task_params: dict) -> dict:
        """Pipeline defaults where the model's generation config keeps the global default, then the
        task's own settings (T5's ``num_beams``, ``max_length``...) on top."""
        model_config, fresh = self.model.generation_config, GenerationConfig()
        defaults = {k: v for k, v in PIPELINE_DEFAULTS.items() if getattr(model_config, k) == getattr(fresh, k)}
        if model_config.max_length != fresh.max_length:  # the model's own length limit wins
            defaults.pop("max_new_tokens", None)
        if model_config.pad_token_id is None and self.tokenizer.pad_token_id is not None:
            defaults["pad_token_id"] = self.tokenizer.pad_token_id
        unknown = set(task_params) - GenerationConfig.field_names()
        return {**defaults, **{k: v for k, v in task_params.items() if k not in unknown}}

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
        defaults = dict(self.generation_defaults)
        if "max_length" in generate_kwargs:  # an explicit total length replaces the default new-token count
            defaults.pop("max_new_tokens", None)
        sequences = self.model.generate(**model_inputs, **{**defaults, **generate_kwargs})
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
