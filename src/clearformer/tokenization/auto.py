"""``AutoTokenizer``: pick the tokenizer class for a local checkpoint folder.

Resolution order, as in transformers: ``tokenizer_class`` in tokenizer_config.json, then
``model_type`` in config.json, then the model type inside tokenizer.json. The default is
clearformer's own Python tokenizer (a ``PreTrainedTokenizerFast`` for BERT, GPT-2, RoBERTa);
``backend="tokenizers"`` opts into the `tokenizers` package (Rust) behind the same API.
``use_fast`` is accepted and ignored, as transformers 5.24 does.
"""

from __future__ import annotations

import importlib

from ..hub import resolve_pretrained_dir
from .serialization import read_json, read_tokenizer_config

# class name -> "module:attribute", imported on first use so a registry entry costs nothing.
TOKENIZER_CLASSES: dict[str, str] = {
    "BertTokenizer": "clearformer.models.bert.tokenization_bert:BertTokenizer",
    "DistilBertTokenizer": ("clearformer.models.distilbert.tokenization_distilbert:DistilBertTokenizer"),
    "GPT2Tokenizer": "clearformer.models.gpt2.tokenization_gpt2:GPT2Tokenizer",
    "RobertaTokenizer": "clearformer.models.roberta.tokenization_roberta:RobertaTokenizer",
    "MarianTokenizer": "clearformer.models.marian.tokenization_marian:MarianTokenizer",
    "T5Tokenizer": "clearformer.models.t5.tokenization_t5:T5Tokenizer",
}
MODEL_TYPE_TO_TOKENIZER: dict[str, str] = {
    "bert": "BertTokenizer",
    "distilbert": "DistilBertTokenizer",
    "gpt2": "GPT2Tokenizer",
    "roberta": "RobertaTokenizer",
    "marian": "MarianTokenizer",
    "t5": "T5Tokenizer",
}


def tokenizer_class_from_name(name: str) -> type:
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


class AutoTokenizer:
    """Use ``AutoTokenizer.from_pretrained(folder_or_cached_name)``; it cannot be instantiated."""

    def __init__(self) -> None:
        raise OSError("AutoTokenizer is a factory: call AutoTokenizer.from_pretrained(path)")

    @staticmethod
    def register(model_type_or_class: str, tokenizer_class: type, exist_ok: bool = False) -> None:
        """Make ``model_type`` (config.json) and the class name resolve to ``tokenizer_class``."""
        name = tokenizer_class.__name__
        if not exist_ok and model_type_or_class in MODEL_TYPE_TO_TOKENIZER:
            raise ValueError(f"{model_type_or_class!r} is already registered; pass exist_ok=True")
        TOKENIZER_CLASSES[name] = tokenizer_class
        MODEL_TYPE_TO_TOKENIZER[model_type_or_class] = name
        if model_type_or_class != name:
            TOKENIZER_CLASSES.setdefault(model_type_or_class, tokenizer_class)

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
            model = read_json(folder / "tokenizer.json").get("model", {})
            post = (read_json(folder / "tokenizer.json").get("post_processor") or {}).get("type")
            if model.get("type") == "WordPiece":
                return tokenizer_class_from_name("BertTokenizer")
            if model.get("type") == "BPE":
                name = "RobertaTokenizer" if post == "RobertaProcessing" else "GPT2Tokenizer"
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
