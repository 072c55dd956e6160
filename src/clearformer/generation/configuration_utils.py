"""GenerationConfig: how ``generate`` decodes, read from and written to generation_config.json.

Defaults are the reference's (greedy, 20 new tokens, ``top_k=50`` once sampling is on), so a
model folder written by transformers decodes the same way here. ``validate`` is called once when
``generate`` is entered; every error names the value seen and what to use instead.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENERATION_CONFIG_NAME = "generation_config.json"

# Settings that count tokens or beams: a float or a string here would fail deep inside the loop
# (the reference crashes in repeat_interleave or a comparison, or silently rounds 2.5 up).
INTEGER_SETTINGS = (
    "max_length",
    "max_new_tokens",
    "min_length",
    "min_new_tokens",
    "num_beams",
    "num_return_sequences",
    "top_k",
    "no_repeat_ngram_size",
)
NUMBER_SETTINGS = ("temperature", "top_p", "min_p", "repetition_penalty", "length_penalty")


def _check_types(config: GenerationConfig) -> None:
    for name in INTEGER_SETTINGS:
        value = getattr(config, name)
        # bool is an int subclass, but max_new_tokens=True is a mistake, not "1 token".
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__}); pass e.g. {name}=5")
    for name in NUMBER_SETTINGS:
        value = getattr(config, name)
        if (value is not None or name != "min_p") and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not isinstance(config.do_sample, bool):
        raise ValueError(f"do_sample must be True or False, got {config.do_sample!r}")


@dataclass
class GenerationConfig:
    # Length: max_new_tokens wins over max_length (which counts the prompt too). None, as in
    # transformers 5.24, means nobody set a length: generate() then makes DEFAULT_NEW_TOKENS new
    # tokens, which a default of 20 *counting the prompt* could not tell apart from max_length=20.
    max_length: int | None = None
    max_new_tokens: int | None = None
    min_length: int = 0
    min_new_tokens: int | None = None
    # Strategy: greedy (default), sampling, beam search, or beam search with sampling.
    do_sample: bool = False
    num_beams: int = 1
    early_stopping: bool | str = False  # True: stop a beam batch when num_beams hypotheses are done
    length_penalty: float = 1.0  # beam score = sum log p / length ** length_penalty
    num_return_sequences: int = 1
    # Logits processors, applied in this order.
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    min_p: float | None = None
    # Special tokens (from the model config when unset).
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    decoder_start_token_id: int | None = None
    # Decoding machinery.
    use_cache: bool = True
    cache_implementation: str | None = None  # None: the model's default ("static" for GPT-2)
    return_dict_in_generate: bool = False
    output_scores: bool = False
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- construction ----------------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)} - {"extra"}

    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides: Any) -> GenerationConfig:
        data = {**data, **overrides}
        known = cls.field_names()
        extra = {k: v for k, v in data.items() if k not in known and k != "transformers_version"}
        return cls(
            **{k: v for k, v in data.items() if k in known and (v is not None or _DEFAULTS[k] is None)}, extra=extra
        )

    @classmethod
    def from_model_config(cls, config: Any) -> GenerationConfig:
        """Take the special token ids (and any generation keys a config.json carries) from a model config."""
        keys = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")
        data = {k: getattr(config, k, None) for k in keys}
        extra = getattr(config, "extra", {}) or {}
        data.update({k: v for k, v in extra.items() if k in cls.field_names()})
        return cls.from_dict(data)

    def update(self, **kwargs: Any) -> dict[str, Any]:
        """Set known fields from kwargs; return the kwargs that are not generation settings."""
        unused = {}
        for key, value in kwargs.items():
            if key in self.field_names():
                # None means "the default" in the reference (all its fields default to None).
                setattr(self, key, _DEFAULTS.get(key) if value is None else value)
            else:
                unused[key] = value
        return unused

    def copy(self) -> GenerationConfig:
        return copy.deepcopy(self)

    # --- checks ----------------------------------------------------------------------------------
    def validate(self, vocab_size: int | None = None) -> None:
        """Raise on settings that cannot work, before any decoding starts."""
        _check_types(self)
        if self.max_new_tokens is not None and self.max_new_tokens <= 0:
            raise ValueError(
                f"max_new_tokens must be a positive number of tokens to generate, got {self.max_new_tokens}"
            )
        if self.max_length is not None and self.max_length <= 0:
            raise ValueError(f"max_length must be positive, got {self.max_length}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1] (the probability mass to keep), got {self.top_p}")
        if self.min_p is not None and not 0.0 <= self.min_p <= 1.0:
            raise ValueError(f"min_p must be in [0, 1], got {self.min_p}")
        if self.top_k is not None and self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 disables it), got {self.top_k}")
        if self.do_sample and self.temperature <= 0:
            raise ValueError(
                f"temperature must be > 0 when sampling, got {self.temperature}; for the most likely "
                "token use do_sample=False (greedy)"
            )
        if self.repetition_penalty <= 0:
            raise ValueError(f"repetition_penalty must be > 0 (1.0 = off), got {self.repetition_penalty}")
        if self.num_beams < 1:
            raise ValueError(f"num_beams must be >= 1, got {self.num_beams}")
        if self.num_return_sequences < 1:
            raise ValueError(f"num_return_sequences must be >= 1, got {self.num_return_sequences}")
        for name in ("min_length", "min_new_tokens"):
            if (getattr(self, name) or 0) < 0:
                raise ValueError(f"{name} must be >= 0 (a number of tokens), got {getattr(self, name)}")
        if vocab_size is not None and self.num_beams > vocab_size:
            raise ValueError(
                f"num_beams ({self.num_beams}) is larger than the vocabulary ({vocab_size} tokens): "
                "a step cannot keep more distinct continuations than there are tokens"
            )
        if vocab_size is not None:
            for name in ("eos_token_id", "pad_token_id", "bos_token_id", "decoder_start_token_id"):
                value = getattr(self, name, None)
                ids = [] if value is None else [value] if isinstance(value, int) else list(value)
                bad = [i for i in ids if not 0 <= i < vocab_size]
                if bad:
                    raise ValueError(
                        f"{name} {value} is outside the model's vocabulary of {vocab_size} tokens; set "
                        f"generation_config.{name} (or pass {name}=...) to an id the model has, or None"
                    )
        if self.num_beams > 1 and self.num_return_sequences > self.num_beams:
            raise ValueError(
                f"num_return_sequences ({self.num_return_sequences}) cannot exceed num_beams ({self.num_beams})"
            )
        if self.num_beams == 1 and not self.do_sample and self.num_return_sequences > 1:
            raise ValueError(
                "greedy decoding returns one sequence per prompt; num_return_sequences > 1 needs "
                "do_sample=True or num_beams > 1"
            )
        if self.no_repeat_ngram_size < 0:
            raise ValueError(f"no_repeat_ngram_size must be >= 0, got {self.no_repeat_ngram_size}")
        if self.cache_implementation not in (None, "dynamic", "static"):
            raise ValueError(f"cache_implementation must be 'dynamic' or 'static', got {self.cache_implementation!r}")

    # --- files ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = {f.name: copy.deepcopy(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "extra"}
        out.update(copy.deepcopy(self.extra))
        return out

    def to_diff_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults: what the reference writes to generation_config.json."""
        default = GenerationConfig().to_dict()
        return {k: v for k, v in self.to_dict().items() if k not in default or default[k] != v}

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        from ..weight_files import atomic_write_text

        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_diff_dict(), indent=2, sort_keys=True) + "\n"
        atomic_write_text(folder / GENERATION_CONFIG_NAME, text)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **overrides: Any) -> GenerationConfig:
        path = Path(name_or_path)
        if path.is_dir():
            path = path / GENERATION_CONFIG_NAME
        if not path.is_file():
            raise OSError(f"no {GENERATION_CONFIG_NAME} at {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON (line {e.lineno}): {e.msg}") from e
        return cls.from_dict(data, **overrides)


# Field defaults, for reading None as "the default" (the reference's convention).
_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(GenerationConfig) if f.default is not dataclasses.MISSING
}
