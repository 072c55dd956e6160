"""Which tokenizer class a checkpoint folder needs: the table ``AutoTokenizer`` reads.

tokenization/ knows no model family. Each family registers its tokenizer here (see
``clearformer/models/auto_tokenizer.py``), by class or by ``"module:Class"`` path so that nothing is
imported until a folder needs it; users add their own with ``AutoTokenizer.register``.
"""

from __future__ import annotations

import importlib

# class name -> the class, or "module:Class" imported on first use
TOKENIZER_CLASSES: dict[str, type | str] = {}
# config.json model_type -> class name
MODEL_TYPE_TO_TOKENIZER: dict[str, str] = {}
# (tokenizer.json model type, post_processor type or None) -> class name, for folders that name
# neither a tokenizer_class nor a model_type
TOKENIZER_JSON_TO_TOKENIZER: dict[tuple[str, str | None], str] = {}


def _class_name(tokenizer_class: type | str) -> str:
    if isinstance(tokenizer_class, str):
        module, sep, name = tokenizer_class.partition(":")
        if not (module and sep and name):
            raise ValueError(f"tokenizer class path {tokenizer_class!r} should read 'package.module:ClassName'")
        return name
    return tokenizer_class.__name__


def register_tokenizer(
    model_type: str,
    tokenizer_class: type | str,
    tokenizer_json: tuple[str, str | None] | None = None,
    exist_ok: bool = False,
) -> None:
    """Make ``model_type`` (config.json) and the class's name resolve to ``tokenizer_class``;
    ``tokenizer_json=(model type, post_processor type or None)`` also claims bare tokenizer.json
    folders of that kind."""
    if not exist_ok and model_type in MODEL_TYPE_TO_TOKENIZER:
        raise ValueError(f"{model_type!r} is already registered; pass exist_ok=True")
    name = _class_name(tokenizer_class)
    TOKENIZER_CLASSES[name] = tokenizer_class
    MODEL_TYPE_TO_TOKENIZER[model_type] = name
    if model_type != name:
        TOKENIZER_CLASSES.setdefault(model_type, tokenizer_class)
    if tokenizer_json is not None:
        TOKENIZER_JSON_TO_TOKENIZER[tokenizer_json] = name


def tokenizer_class_from_name(name: str) -> type:
    """``BertTokenizer`` (or transformers' ``BertTokenizerFast``, our ``...TokenizersBackend``) -> the class."""
    base = name.removesuffix("TokenizersBackend").removesuffix("Fast")
    target = TOKENIZER_CLASSES.get(base)
    if target is None:
        raise ValueError(
            f"tokenizer class {name!r} is not supported; supported: {sorted(TOKENIZER_CLASSES)} "
            "(add one with AutoTokenizer.register)"
        )
    if not isinstance(target, str):
        return target
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def tokenizer_name_for_json(model_type: str | None, post_processor: str | None) -> str | None:
    """The class registered for a tokenizer.json of this model / post-processor type, if any."""
    return TOKENIZER_JSON_TO_TOKENIZER.get((model_type, post_processor)) or TOKENIZER_JSON_TO_TOKENIZER.get(
        (model_type, None)
    )
