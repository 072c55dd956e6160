"""``AutoTokenizer``: pick the tokenizer class for a local checkpoint folder.

Resolution order, as in transformers: ``tokenizer_class`` in tokenizer_config.json, then
``model_type`` in config.json, then the model type inside tokenizer.json, each looked up in the
registry (registry.py) that the model families fill. The default is clearformer's own Python
tokenizer (a ``PreTrainedTokenizerFast`` for BERT, GPT-2, RoBERTa); ``backend="tokenizers"`` opts
into the `tokenizers` package (Rust) behind the same API. ``use_fast`` is accepted and ignored,
as transformers 5.24 does.
"""

from __future__ import annotations

from ..hub import resolve_pretrained_dir
from .registry import (
    MODEL_TYPE_TO_TOKENIZER,
    TOKENIZER_CLASSES,
    register_tokenizer,
    tokenizer_class_from_name,
    tokenizer_name_for_json,
)
from .serialization import read_json, read_tokenizer_config

__all__ = ["MODEL_TYPE_TO_TOKENIZER", "TOKENIZER_CLASSES", "AutoTokenizer", "tokenizer_class_from_name"]


class AutoTokenizer:
    """Use ``AutoTokenizer.from_pretrained(folder_or_cached_name)``; it cannot be instantiated."""

    def __init__(self) -> None:
        raise OSError("AutoTokenizer is a factory: call AutoTokenizer.from_pretrained(path)")

    @staticmethod
    def register(model_type_or_class: str, tokenizer_class: type, exist_ok: bool = False) -> None:
        """Make ``model_type`` (config.json) and the class name resolve to ``tokenizer_class``."""
        register_tokenizer(model_type_or_class, tokenizer_class, exist_ok=exist_ok)

    @staticmethod
    def resolve_class(name_or_path) -> type:
        folder = resolve_pretrained_dir(name_or_path)
        config = read_tokenizer_config(folder)
        if config.get("tokenizer_class"):
            return tokenizer_class_from_name(config["tokenizer_class"])
        model_type = None
        if (folder / "config.json").is_file():
            model_type = read_json(folder / "config.json").get("model_type")
        if model_type is not None:
            if model_type not in MODEL_TYPE_TO_TOKENIZER:
                raise ValueError(
                    f"{folder}/config.json has model_type {model_type!r}, which has no tokenizer "
                    f"here; supported model types: {sorted(MODEL_TYPE_TO_TOKENIZER)}"
                )
            return tokenizer_class_from_name(MODEL_TYPE_TO_TOKENIZER[model_type])
        if (folder / "tokenizer.json").is_file():
            spec = read_json(folder / "tokenizer.json")
            post = (spec.get("post_processor") or {}).get("type")
            name = tokenizer_name_for_json(spec.get("model", {}).get("type"), post)
            if name is not None:
                return tokenizer_class_from_name(name)
        raise ValueError(
            f"cannot tell which tokenizer {folder} needs: no tokenizer_class in "
            "tokenizer_config.json, no model_type in config.json, no tokenizer.json; supported: "
            f"{sorted(TOKENIZER_CLASSES)}"
        )

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *inputs, **kwargs):
        tokenizer_class = cls.resolve_class(pretrained_model_name_or_path)
        return tokenizer_class.from_pretrained(pretrained_model_name_or_path, *inputs, **kwargs)
