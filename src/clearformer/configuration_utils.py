"""PretrainedConfig: a typed dataclass whose fields are config.json keys.

Like transformers' configs, a constructor takes every field by keyword and keeps any other keyword
(or attribute set later) as an extra, written back to config.json, so a file survives a load/save
round trip unchanged. Files are written the way transformers 5.24 reads them (``dtype``,
``id2label`` with string keys). Subclasses declare the rules on their values (sizes, probabilities,
choices, an estimate of the parameter count); ``validate`` applies them on every construction.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from . import configuration_checks as checks
from .hub import resolve_pretrained_dir

CONFIG_NAME = "config.json"

# Older config.json files use these names; they are read into the newer field.
_KEY_ALIASES = {"torch_dtype": "dtype"}
_TOKEN_ID_FIELDS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")


@dataclass(eq=False, init=False)
class PretrainedConfig:
    """Fields shared by every model. ``num_labels`` is derived from ``id2label`` as in HF."""

    model_type: ClassVar[str] = ""
    # Maps a common name (``hidden_size``) to the model's own key (GPT-2's ``n_embd``).
    attribute_map: ClassVar[dict[str, str]] = {}

    # Rules a subclass declares on its own fields; validate() applies them.
    size_fields: ClassVar[dict[str, int]] = {}  # field -> smallest allowed value (None skips)
    layer_fields: ClassVar[tuple[str, ...]] = ()  # layer counts, at most checks.MAX_LAYERS
    probability_fields: ClassVar[tuple[str, ...]] = ()  # dropout rates: between 0 and 1
    nonnegative_fields: ClassVar[tuple[str, ...]] = ()  # epsilons, init standard deviations
    choice_fields: ClassVar[dict[str, tuple[str, ...]]] = {}
    activation_fields: ClassVar[tuple[str, ...]] = ()  # names looked up in activations.py
    head_splits: ClassVar[tuple[tuple[str, str], ...]] = ()  # (width, heads): heads must divide width
    padding_tables: ClassVar[tuple[str, ...]] = ()  # table sizes pad_token_id must index (padding_idx)
    # 20 billion: 1.5x the largest published checkpoint of these families (mT5-XXL, 13B) and 80 GB
    # of float32 weights. One limit on the whole estimate rather than a cap per field, so a real
    # large model loads whichever field makes it large. Raise it to build something bigger on purpose.
    max_parameters: ClassVar[int] = 20 * 10**9

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        owner = type(self).__name__
        if args:
            raise TypeError(
                f"{owner} takes keyword arguments only (got {len(args)} positional), e.g. {owner}(vocab_size=100)"
            )
        kwargs = self._canonical_keys(kwargs)
        num_labels = kwargs.pop("num_labels", None)
        name_or_path = kwargs.pop("name_or_path", kwargs.pop("_name_or_path", ""))
        object.__setattr__(self, "extra", {})
        for f in dataclasses.fields(self):
            value = kwargs.pop(f.name) if f.name in kwargs else f.default
            object.__setattr__(self, f.name, value)
        self.extra.update(kwargs)  # what the class does not know is kept and written back
        self._attn_implementation = "sdpa"
        self.name_or_path = name_or_path
        self._check_types()  # before __post_init__, which derives values from these
        self.__post_init__()
        if num_labels is not None:
            self.num_labels = num_labels
        # Only each value on its own: like the reference, a config may pass through inconsistent
        # states while it is edited (``DistilBertConfig(dim=64)`` then ``n_heads = 4``). Loading a
        # file and building a model run validate(), which also checks the fields against each other.
        self._check_fields()

    def __post_init__(self) -> None:
        """Derive defaults that depend on other fields (subclasses extend this)."""
        if self.id2label is None:
            self.num_labels = 2
        elif self.label2id is None:
            self.label2id = {v: k for k, v in self.id2label.items()}

    @classmethod
    def _canonical_keys(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Old names (``torch_dtype``) and aliases (``hidden_size`` for GPT-2) -> the field's name."""
        out = dict(data)
        for alias, real in {**_KEY_ALIASES, **cls.attribute_map}.items():
            if alias not in out:
                continue
            value = out.pop(alias)
            if real in out and out[real] != value:
                raise ValueError(
                    f"{cls.__name__}: {alias}={value!r} and {real}={out[real]!r} name the same setting with "
                    f"different values; keep only {real}"
                )
            out[real] = value
        return out

    # --- checks -------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ValueError naming the field, the value and the fix if any value is unusable.

        Runs when a config is loaded (from_dict, from_pretrained) and when a model is built from it,
        before anything is allocated: the fields one by one, then against each other, then the size.
        """
        self._check_types()
        self._check_fields()
        self._check_consistency()

    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        return {f.name: f.default for f in dataclasses.fields(cls)}

    def _check_types(self) -> None:
        owner = type(self).__name__
        if type(self.dtype).__module__ == "torch":  # a torch.dtype: stored by name, as written to JSON
            object.__setattr__(self, "dtype", str(self.dtype).removeprefix("torch."))
        id2label, label2id = checks.label_maps(owner, self.id2label, self.label2id)
        object.__setattr__(self, "id2label", id2label)
        object.__setattr__(self, "label2id", label2id)
        defaults = self._defaults()
        for name, tp in checks.field_types(type(self)).items():
            if name not in ("id2label", "label2id"):
                checks.check_type(owner, name, getattr(self, name), tp, defaults[name])

    def _check_fields(self) -> None:
        owner, defaults = type(self).__name__, self._defaults()
        minimums = {"chunk_size_feed_forward": 0, **self.size_fields}
        for name, low in minimums.items():
            value = getattr(self, name)
            if value is not None and value < low:
                raise ValueError(f"{owner}: {name}={value} must be at least {low}, e.g. {name}={defaults[name]}")
        for name in self.layer_fields:
            value = getattr(self, name)
            if value is not None and value > checks.MAX_LAYERS:
                raise ValueError(
                    f"{owner}: {name}={value} is more layers than any checkpoint has (the limit here is "
                    f"{checks.MAX_LAYERS}); is it a typo for {defaults[name]}?"
                )
        for name in self.probability_fields:
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"{owner}: {name}={value} is a dropout probability, so it must be between 0 and 1")
        for name in self.nonnegative_fields:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{owner}: {name}={value} must be at least 0, e.g. {name}={defaults[name]}")
        self._check_names(owner)
        self._check_token_ids(owner)
        if self.id2label is not None:
            checks.check_num_labels(owner, self.num_labels)

    def _check_consistency(self) -> None:
        owner = type(self).__name__
        for width, heads in self.head_splits:
            w, h = getattr(self, width), getattr(self, heads)
            if w % h:
                raise ValueError(
                    f"{owner}: {width} ({w}) is not a multiple of {heads} ({h}): each head gets "
                    f"{width} / {heads} dimensions, so pick a head count that divides the width"
                )
        pad = self.pad_token_id
        for table in self.padding_tables:
            size = getattr(self, table)
            if pad is not None and pad >= size:
                raise ValueError(
                    f"{owner}: pad_token_id={pad} must be below {table} ({size}): the model keeps that row of "
                    f"the table for padding; set pad_token_id to the tokenizer's pad id"
                )
        self._check_family()
        self._check_size(owner)

    def _check_names(self, owner: str) -> None:
        choices = {"problem_type": checks.PROBLEM_TYPES, **self.choice_fields}
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(f"{owner}: {name}={value!r} is not one of {', '.join(map(repr, allowed))}")
        from .activations import get_activation

        for name in self.activation_fields:
            value = getattr(self, name)
            if value is not None:
                try:
                    get_activation(value)
                except ValueError as err:
                    raise ValueError(f"{owner}: {name}={value!r}: {err}") from None

    def _check_token_ids(self, owner: str) -> None:
        for name in _TOKEN_ID_FIELDS:
            value = getattr(self, name)
            for token_id in value if isinstance(value, list) else [value]:
                if token_id is not None and token_id < 0:
                    raise ValueError(f"{owner}: {name}={value} must be at least 0: token ids index the vocabulary")

    def _check_family(self) -> None:
        """Rules that tie several fields of one family together (subclasses override)."""

    def parameter_terms(self) -> list[tuple[str, int, tuple[str, ...]]]:
        """(part, approximate parameter count, the fields it grows with); subclasses override."""
        return []

    def estimated_parameters(self) -> int:
        """About how many numbers a model built from this config holds (weights and fixed tables)."""
        return sum(count for _, count, _ in self.parameter_terms())

    def _check_size(self, owner: str) -> None:
        terms = self.parameter_terms()
        total = sum(count for _, count, _ in terms)
        if total <= self.max_parameters:
            return
        part, count, names = max(terms, key=lambda term: term[1])
        values = ", ".join(f"{name}={getattr(self, name)}" for name in names)
        raise ValueError(
            f"{owner}: this config describes a model of about {checks.format_count(total)} parameters, more "
            f"than the limit of {checks.format_count(self.max_parameters)} (1.5x the largest published "
            f"checkpoint); most of it is {part}: about {checks.format_count(count)} from {values}. Check "
            "those values (a digit too many?); to build a model this big on purpose, raise "
            "clearformer.PretrainedConfig.max_parameters"
        )

    # --- labels ------------------------------------------------------------------------------
    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        checks.check_num_labels(type(self).__name__, n)
        if self.id2label is None or len(self.id2label) != n:
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}
            self.label2id = {v: k for k, v in self.id2label.items()}

    @property
    def use_return_dict(self) -> bool:
        return self.return_dict

    @property
    def name_or_path(self) -> str:
        return self._name_or_path

    @name_or_path.setter
    def name_or_path(self, value: str | os.PathLike) -> None:
        self._name_or_path = str(value)

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
        if name.startswith("_") or name == "extra" or name in self.__dict__ or hasattr(type(self), name):
            super().__setattr__(name, value)
        else:
            self.extra[name] = value  # like the reference, a new attribute is written to config.json

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__.get("extra", {}):
            del self.extra[name]
        else:
            super().__delattr__(name)

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}

    # --- dict / json ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **overrides: Any) -> PretrainedConfig:
        if not isinstance(config_dict, dict):
            raise ValueError(f"{cls.__name__}.from_dict needs a dict of settings, got {checks.json_kind(config_dict)}")
        data = {**cls._canonical_keys(config_dict), **cls._canonical_keys(overrides)}  # overrides win
        data.pop("model_type", None)
        config = cls(**data)
        config.validate()
        return config

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
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
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise ValueError(f"{path} is not UTF-8 text (bad byte at {e.start}); is it really a config.json?") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}") from e
        except (ValueError, RecursionError) as e:  # nesting too deep, a number too long
            raise ValueError(f"{path} could not be read as JSON: {e}") from None
        if not isinstance(data, dict):
            raise ValueError(
                f"{path} holds {checks.json_kind(data)}, but a config.json must be one JSON object of "
                f'settings, e.g. {{"model_type": "bert", "hidden_size": 768}}'
            )
        return data, folder

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
        try:
            config = cls.from_dict(data, **used)
        except ValueError as e:
            raise ValueError(f"{folder / CONFIG_NAME}: {e}") from e
        config.name_or_path = str(name_or_path)
        return (config, unused) if return_unused_kwargs else config

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        from .weight_files import atomic_write_text

        folder = Path(save_directory)
        if folder.is_file():
            raise ValueError(f"save_pretrained needs a directory, but {folder} is a file")
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / CONFIG_NAME, self.to_json_string())
