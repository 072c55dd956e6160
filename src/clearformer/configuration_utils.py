"""PretrainedConfig: a typed dataclass whose fields are config.json keys.

Subclasses add their model's fields. Keys a class does not know are kept and written back, so a
config.json survives a load/save round trip unchanged. Files are written the way transformers 5.24
reads them (``dtype``, ``id2label`` with string keys).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .hub import resolve_pretrained_dir

CONFIG_NAME = "config.json"

# Older config.json files use these names; they are read into the newer field.
_KEY_ALIASES = {"torch_dtype": "dtype"}


@dataclass
class PretrainedConfig:
    """Fields shared by every model. ``num_labels`` is derived from ``id2label`` as in HF."""

    model_type: ClassVar[str] = ""
    # Maps a common name (``hidden_size``) to the model's own key (GPT-2's ``n_embd``).
    attribute_map: ClassVar[dict[str, str]] = {}

    architectures: list[str] | None = None
    is_decoder: bool = False
    is_encoder_decoder: bool = False
    add_cross_attention: bool = False
    tie_word_embeddings: bool = True
    output_attentions: bool = False
    output_hidden_states: bool = False
    return_dict: bool = True
    use_cache: bool = True
    dtype: str | None = None
    chunk_size_feed_forward: int = 0
    id2label: dict[int, str] | None = None
    label2id: dict[str, int] | None = None
    problem_type: str | None = None
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    decoder_start_token_id: int | None = None
    tokenizer_class: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.id2label is None:
            self.num_labels = 2
        else:
            self.id2label = {int(k): v for k, v in self.id2label.items()}
            if self.label2id is None:
                self.label2id = {v: k for k, v in self.id2label.items()}
        self._attn_implementation = "sdpa"
        self.name_or_path = ""

    # --- labels ------------------------------------------------------------------------------
    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        if self.id2label is None or len(self.id2label) != n:
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}
            self.label2id = {v: k for k, v in self.id2label.items()}

    @property
    def use_return_dict(self) -> bool:
        return self.return_dict

    # --- attribute aliases and unknown keys ---------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: try the alias table, then the preserved extras.
        if name.startswith("__"):
            raise AttributeError(name)
        amap = type(self).attribute_map
        if name in amap:
            return getattr(self, amap[name])
        extra = self.__dict__.get("extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        name = type(self).attribute_map.get(name, name)
        super().__setattr__(name, value)

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)} - {"extra"}

    # --- dict / json ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **overrides: Any) -> PretrainedConfig:
        data = dict(config_dict)
        data.update(overrides)
        data.pop("model_type", None)
        name_or_path = data.pop("_name_or_path", "")
        for old, new in _KEY_ALIASES.items():
            if old in data:
                data.setdefault(new, data.pop(old))
        for alias, real in cls.attribute_map.items():
            if alias in data:
                data.setdefault(real, data.pop(alias))
        num_labels = data.pop("num_labels", None)
        known = cls.field_names()
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        config = cls(**kwargs, extra=extra)
        if num_labels is not None:
            config.num_labels = num_labels
        config.name_or_path = name_or_path
        return config

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name == "id2label" and value is not None:
                value = {str(k): v for k, v in value.items()}
            out[f.name] = copy.deepcopy(value)
        out.update(copy.deepcopy(self.extra))
        out["model_type"] = self.model_type
        return dict(sorted(out.items()))

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    # --- files ------------------------------------------------------------------------------------
    @staticmethod
    def read_config_file(name_or_path: str | os.PathLike) -> tuple[dict[str, Any], Path]:
        folder = resolve_pretrained_dir(name_or_path)
        path = folder / CONFIG_NAME
        if not path.is_file():
            raise OSError(f"no {CONFIG_NAME} in {folder}; a model folder needs one (see save_pretrained)")
        try:
            return json.loads(path.read_text(encoding="utf-8")), folder
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}") from e

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike, return_unused_kwargs: bool = False, **kwargs: Any
    ) -> PretrainedConfig:
        data, folder = cls.read_config_file(name_or_path)
        file_type = data.get("model_type")
        if cls.model_type and file_type and file_type != cls.model_type:
            raise ValueError(
                f"{folder / CONFIG_NAME} has model_type {file_type!r} but {cls.__name__} is for "
                f"{cls.model_type!r}; use AutoConfig.from_pretrained to pick the right class"
            )
        known = cls.field_names() | set(cls.attribute_map) | {"num_labels"} | set(_KEY_ALIASES)
        used = {k: v for k, v in kwargs.items() if k in known}
        unused = {k: v for k, v in kwargs.items() if k not in known}
        config = cls.from_dict(data, **used)
        config.name_or_path = str(name_or_path)
        return (config, unused) if return_unused_kwargs else config

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        from .weight_files import atomic_write_text

        folder = Path(save_directory)
        if folder.is_file():
            raise ValueError(f"save_pretrained needs a directory, but {folder} is a file")
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / CONFIG_NAME, self.to_json_string())
