"""text-generation: continue a prompt with the model's ``generate`` (greedy, sampling, beams).

Matches transformers 5.24: unless the call or the model's generation config says otherwise the
pipeline samples (``do_sample=True, temperature=0.7``) up to ``max_new_tokens=256``; the result is
``[{"generated_text": prompt + continuation}]`` (``return_full_text=False``: the continuation only;
``return_tensors=True``: ``generated_token_ids``). Batches are left-padded, as generate needs.
"""

from __future__ import annotations

from typing import Any

import torch

from ..generation import GenerationConfig
from .base import Pipeline

# transformers' pipeline defaults, used where neither the call nor the model's config sets them
PIPELINE_DEFAULTS = {"max_new_tokens": 256, "do_sample": True, "temperature": 0.7}
SAMPLING_ONLY = {"temperature", "top_k", "top_p", "min_p", "typical_p"}
_POST_KEYS = (
    "return_full_text",
    "return_tensors",
    "return_text",
    "clean_up_tokenization_spaces",
    "skip_special_tokens",
)


class TextGenerationPipeline(Pipeline):
    task = "text-generation"

    def _padding_side(self) -> str:
        return "left"  # prompts must end where generation starts

    def _pad_id(self) -> int | None:
        # GPT-2 has no pad token; any id works under the attention mask, eos is the usual choice
        pad = self.tokenizer.pad_token_id
        return self.tokenizer.eos_token_id if pad is None else pad

    def _sanitize_parameters(self, prefix: str | None = None, max_length: int | None = None, **kwargs: Any):
        post = {k: kwargs.pop(k) for k in _POST_KEYS if k in kwargs}
        if post.get("return_full_text") is not None and post.get("return_tensors"):
            raise ValueError("return_full_text and return_tensors exclude each other; pass one")
        pre = {"prefix": prefix} if prefix is not None else {}
        if "add_special_tokens" in kwargs:
            pre["add_special_tokens"] = kwargs.pop("add_special_tokens")
        if max_length is not None:
            kwargs["max_length"] = max_length
        allowed = GenerationConfig.field_names() | {"generator", "generation_config"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(
                f"the text-generation pipeline got unknown options {sorted(unknown)}; it takes {_POST_KEYS}, "
                "prefix, add_special_tokens and the GenerationConfig fields"
            )
        return pre, kwargs, post

    def preprocess(self, prompt: Any, prefix: str = "", add_special_tokens: bool | None = None):
        if not isinstance(prompt, str):
            raise ValueError(f"text-generation takes prompt strings, got {type(prompt).__name__} {prompt!r}")
        extra = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        inputs = self.model_inputs(self.tokenizer(prefix + prompt, **extra))
        prompt_length = len(inputs["input_ids"])
        if prompt_length == 0:  # an empty prompt starts from the model's bos token
            bos = self.model.generation_config.bos_token_id
            if bos is None:
                raise ValueError("the prompt is empty and the model has no bos_token_id to start from")
            inputs = {"input_ids": [bos], "attention_mask": [1]}
        inputs.setdefault("attention_mask", [1] * len(inputs["input_ids"]))
        yield {"model_inputs": inputs, "prompt_text": prompt, "prompt_length": prompt_length}

    def _generation_kwargs(self, kwargs: dict) -> dict:
        """The call's settings plus transformers' pipeline defaults for what nobody set."""
        model_config, fresh = self.model.generation_config, GenerationConfig()
        given = set(kwargs) | {k for k in PIPELINE_DEFAULTS if getattr(model_config, k) != getattr(fresh, k)}
        added = {k: v for k, v in PIPELINE_DEFAULTS.items() if k not in given}
        if "max_length" in given:
            added.pop("max_new_tokens", None)
        if not {**kwargs, **added}.get("do_sample", model_config.do_sample):
            added = {k: v for k, v in added.items() if k not in SAMPLING_ONLY}
        return {**kwargs, **added}

    def _forward(self, model_inputs: dict[str, torch.Tensor], **generate_kwargs: Any) -> dict[str, torch.Tensor]:
        input_ids, mask = model_inputs["input_ids"], model_inputs["attention_mask"]
        sequences = self.model.generate(
            input_ids=input_ids, attention_mask=mask, **self._generation_kwargs(generate_kwargs)
        )
        batch = input_ids.shape[0]
        return {
            "sequences": sequences.view(batch, sequences.shape[0] // batch, -1),  # (B, num_return, T)
            "padding": (mask == 0).sum(-1),
        }

    def postprocess(
        self,
        outputs: list[dict],
        return_full_text: bool | None = None,
        return_tensors: bool = False,
        return_text: bool = True,
        clean_up_tokenization_spaces: bool | None = None,
        skip_special_tokens: bool = True,
    ) -> list[dict]:
        feature = outputs[0]
        sequences = feature["sequences"][:, int(feature["padding"]) :]  # drop this prompt's left padding
        records = []
        for sequence in sequences.tolist():
            if return_tensors:
                records.append({"generated_token_ids": sequence})
                continue
            # an empty prompt was replaced by bos, which the continuation then includes
            start = len(feature["model_inputs"]["input_ids"]) if feature["prompt_length"] else 0
            text = self.tokenizer.decode(
                sequence[start:],
                skip_special_tokens=skip_special_tokens,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            )
            if return_full_text is None or return_full_text:
                text = feature["prompt_text"] + text
            records.append({"generated_text": text})
        return records
