"""Saving and loading tokenizers: vocab files, tokenizer_config.json, special_tokens_map.json and
tokenizer.json (the `tokenizers` library's format, so transformers 5.24 and ``tokenizers`` load
what we write, and we load what they write). Offline only: names resolve through
``clearformer.hub.resolve_pretrained_dir``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..hub import resolve_pretrained_dir
from .added_tokens import AddedToken
from .bpe import BPE
from .decoders import ByteLevelDecoder, WordPieceDecoder
from .files import write_text_atomic
from .normalizers import BertNormalizer
from .pipeline import Pipeline
from .pre_tokenizers import BertPreTokenizer, ByteLevelPreTokenizer, WhitespaceSplit
from .processors import ByteLevelProcessing, RobertaProcessing, TemplateProcessing, bert_processing
from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES
from .wordpiece import WordPiece

SUPPORTED = {
    "model": ("WordPiece", "BPE"),
    "normalizer": ("BertNormalizer", None),
    "pre_tokenizer": ("BertPreTokenizer", "ByteLevel", "WhitespaceSplit"),
    "post_processor": ("TemplateProcessing", "BertProcessing", "RobertaProcessing", "ByteLevel"),
    "decoder": ("WordPiece", "ByteLevel"),
}


class TokenizerFileError(ValueError):
    """A tokenizer file that is not valid JSON or lacks a field; the message names both."""


class UnsupportedTokenizerJson(TokenizerFileError):
    """A well-formed tokenizer.json with a part this package does not implement: the loader may
    fall back to the vocabulary files then (never for a damaged file, which could be a torn save)."""


def read_json(path: Path) -> dict:
    """A JSON file whose top level must be an object; errors name the file, line and column."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise TokenizerFileError(
            f"{path}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg}); the file "
            "is damaged or was cut short (an interrupted save?): restore it or save the tokenizer again"
        ) from err
    if not isinstance(data, dict):
        raise TokenizerFileError(
            f"{path}: expected a JSON object ({{...}}) at the top level, got a {type(data).__name__}; "
            "this file maps names to values"
        )
    return data


def _field(source, spec: dict, name: str, kind: type, where: str = ""):
    """``spec[name]``, checked to be a ``kind``; the error names the file and the dotted field."""
    value = spec.get(name) if isinstance(spec, dict) else None
    if not isinstance(value, kind):
        seen = "missing" if value is None else f"a {type(value).__name__}"
        expected = {dict: "an object", list: "a list", str: "a string", int: "an integer"}[kind]
        raise TokenizerFileError(f"{source}: field '{where}{name}' should be {expected}, but it is {seen}")
    return value


# ---------------------------------------------------------------- tokenizer.json -> Pipeline
def _unsupported(part: str, value) -> ValueError:
    kind = value.get("type") if isinstance(value, dict) else value
    return UnsupportedTokenizerJson(
        f"tokenizer.json {part} of type {kind!r} is not supported by clearformer's Python "
        f"tokenizers (supported: {SUPPORTED[part]}); load with backend='tokenizers' to use the "
        "`tokenizers` package for it"
    )


def _template(items: list[dict]) -> list[tuple[str, int]]:
    out = []
    for item in items:
        ((kind, spec),) = item.items()
        out.append((spec["id"], spec["type_id"]))
    return out


def _model_from_json(m: dict, source="tokenizer.json"):
    kind = m.get("type") or ("BPE" if "merges" in m else "WordPiece")
    if kind not in SUPPORTED["model"]:
        raise _unsupported("model", m)
    vocab = _field(source, m, "vocab", dict, "model.")
    if kind == "WordPiece":
        return WordPiece(
            vocab,
            m.get("unk_token", "[UNK]"),
            m.get("continuing_subword_prefix", "##"),
            m.get("max_input_chars_per_word", 100),
        )
    merges = [
        tuple(p) if isinstance(p, list) else tuple(p.split(" ", 1)) for p in _field(source, m, "merges", list, "model.")
    ]
    return BPE(vocab, merges)


def _normalizer_from_json(n: dict | None):
    if n is None:
        return None
    if n.get("type") == "BertNormalizer":
        return BertNormalizer(
            n.get("clean_text", True),
            n.get("handle_chinese_chars", True),
            n.get("strip_accents"),
            n.get("lowercase", True),
        )
    raise _unsupported("normalizer", n)


def _pre_tokenizer_from_json(p: dict | None):
    p = p or {}
    if p.get("type") == "BertPreTokenizer":
        return BertPreTokenizer()
    if p.get("type") == "ByteLevel":
        return ByteLevelPreTokenizer(p.get("add_prefix_space", False), p.get("use_regex", True))
    if p.get("type") == "WhitespaceSplit":
        return WhitespaceSplit()
    raise _unsupported("pre_tokenizer", p)


def _processor_from_json(pp: dict | None):
    pp = pp or {"type": "ByteLevel", "trim_offsets": False}
    kind = pp.get("type")
    if kind == "TemplateProcessing":
        specials = {k: v["ids"][0] for k, v in pp.get("special_tokens", {}).items()}
        return TemplateProcessing(_template(pp["single"]), _template(pp["pair"]), specials)
    if kind == "BertProcessing":
        return bert_processing(tuple(pp["cls"]), tuple(pp["sep"]))
    if kind == "RobertaProcessing":
        trim, prefix = pp.get("trim_offsets", True), pp.get("add_prefix_space", False)
        return RobertaProcessing(tuple(pp["cls"]), tuple(pp["sep"]), trim, prefix)
    if kind == "ByteLevel":
        return ByteLevelProcessing(pp.get("trim_offsets", True), pp.get("add_prefix_space", False))
    raise _unsupported("post_processor", pp)


def _decoder_from_json(d: dict | None):
    d = d or {}
    if d.get("type") == "WordPiece":
        return WordPieceDecoder(d.get("prefix", "##"), d.get("cleanup", True))
    if d.get("type") == "ByteLevel":
        return ByteLevelDecoder()
    raise _unsupported("decoder", d)


def pipeline_from_json(spec: dict, source="tokenizer.json") -> Pipeline:
    """A Pipeline from a tokenizer.json dict (the `tokenizers` library's format); ``source``
    (the file) is named in errors."""
    model = _model_from_json(_field(source, spec, "model", dict), source)
    parts = []
    for part, build in (
        ("normalizer", _normalizer_from_json),
        ("pre_tokenizer", _pre_tokenizer_from_json),
        ("post_processor", _processor_from_json),
        ("decoder", _decoder_from_json),
    ):
        try:
            parts.append(build(spec.get(part)))
        except (KeyError, TypeError, AttributeError, IndexError) as err:
            raise TokenizerFileError(f"{source}: field '{part}' is malformed ({type(err).__name__}: {err})") from err
    pipeline = Pipeline(model, *parts)
    entries = spec.get("added_tokens") or []
    if not isinstance(entries, list):
        raise TokenizerFileError(
            f"{source}: field 'added_tokens' should be a list, but it is a {type(entries).__name__}"
        )
    for index, entry in enumerate(entries):
        where = f"added_tokens[{index}]"
        content = _field(source, entry, "content", str, where + ".")
        token_id = _field(source, entry, "id", int, where + ".")
        if token_id < 0:
            raise TokenizerFileError(f"{source}: field '{where}.id' of {content!r} is {token_id}; ids are >= 0")
        pipeline.added.add(_as_token(dict(entry, special=entry.get("special", False))), token_id)
    pipeline.refresh_added_tokens()
    return pipeline


def pipeline_to_json(pipeline: Pipeline) -> dict:
    """The tokenizer.json dict the `tokenizers` library reads (no padding/truncation preset)."""
    added = [t.to_dict(i) for i, t in sorted(pipeline.added.tokens.items())]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": pipeline.normalizer.to_dict() if pipeline.normalizer is not None else None,
        "pre_tokenizer": pipeline.pre_tokenizer.to_dict(),
        "post_processor": pipeline.post_processor.to_dict(),
        "decoder": pipeline.decoder.to_dict(),
        "model": pipeline.model.to_dict(),
    }


# ---------------------------------------------------------------- saving
def _token_json(value):
    return str(value) if value is not None else None


def save_tokenizer(tokenizer, save_directory) -> tuple[str, ...]:
    folder = Path(save_directory)
    folder.mkdir(parents=True, exist_ok=True)
    files = list(tokenizer.pipeline.model.save(folder))
    config = {"tokenizer_class": type(tokenizer).__name__.removesuffix("TokenizersBackend").removesuffix("Fast")}
    config.update(tokenizer.config_kwargs() if hasattr(tokenizer, "config_kwargs") else {})
    for name in SPECIAL_TOKENS_ATTRIBUTES:
        config[name] = _token_json(tokenizer._special_tokens.get(name))
    if tokenizer.additional_special_tokens:
        config["additional_special_tokens"] = tokenizer.additional_special_tokens
    config["model_max_length"] = tokenizer.model_max_length
    config["padding_side"] = tokenizer.padding_side
    config["truncation_side"] = tokenizer.truncation_side
    config["clean_up_tokenization_spaces"] = tokenizer.clean_up_tokenization_spaces
    config["model_input_names"] = list(tokenizer.model_input_names)
    config["added_tokens_decoder"] = {
        str(i): {k: v for k, v in t.to_dict().items()} for i, t in tokenizer.added_tokens_decoder.items()
    }
    paths = {
        "tokenizer_config.json": config,
        "special_tokens_map.json": tokenizer.special_tokens_map,
        "tokenizer.json": pipeline_to_json(tokenizer.pipeline),
    }
    for name, content in paths.items():
        files.append(write_text_atomic(folder / name, json.dumps(content, indent=2, ensure_ascii=False) + "\n"))
    return tuple(files)


# ---------------------------------------------------------------- loading
def _as_token(value):
    if isinstance(value, dict) and "content" in value:
        return AddedToken(
            value["content"],
            value.get("single_word", False),
            value.get("lstrip", False),
            value.get("rstrip", False),
            value.get("normalized"),
            value.get("special", True),
        )
    return value


_IGNORED_CONFIG_KEYS = {
    "tokenizer_class",
    "added_tokens_decoder",
    "name_or_path",
    "auto_map",
    "backend",
    "is_local",
    "local_files_only",
    "processor_class",
    "tokenizer_file",
    "use_fast",
    "special_tokens_map_file",
    "extra_special_tokens",
    "add_bos_token",
    "add_eos_token",
    "clean_up_tokenization_spaces",
}


def read_tokenizer_config(folder: Path) -> dict:
    config = {}
    if (folder / "tokenizer_config.json").is_file():
        config = read_json(folder / "tokenizer_config.json")
    if (folder / "special_tokens_map.json").is_file():
        for key, value in read_json(folder / "special_tokens_map.json").items():
            config.setdefault(key, value)
    return config


def _tokenizes_itself(cls) -> bool:
    """A hand-written subclass (its own ``_tokenize``, see custom.py)."""
    from .base import PreTrainedTokenizerBase

    return getattr(cls, "_tokenize", None) is not getattr(PreTrainedTokenizerBase, "_tokenize", None)


def load_tokenizer(cls, name_or_path, **kwargs):
    folder = resolve_pretrained_dir(name_or_path)
    config = read_tokenizer_config(folder)
    init = {k: _as_token(v) for k, v in config.items() if k not in _IGNORED_CONFIG_KEYS}
    if "clean_up_tokenization_spaces" in config:  # otherwise the class's own default
        init["clean_up_tokenization_spaces"] = bool(config["clean_up_tokenization_spaces"])
    if isinstance(init.get("additional_special_tokens"), list):
        init["additional_special_tokens"] = [_as_token(t) for t in init["additional_special_tokens"]]
    init.update(kwargs)
    init["name_or_path"] = str(name_or_path)
    json_file = folder / "tokenizer.json"
    vocab_files = {k: folder / v for k, v in cls.vocab_files_names.items()}
    have_vocab = bool(vocab_files) and all(p.is_file() for p in vocab_files.values())
    # Every vocabulary file the class names and the folder has goes to the constructor, even
    # beside a tokenizer.json, as transformers' Python tokenizers always got them: a subclass
    # written like chapter 3.1's requires vocab_file (issue 15). Arguments the caller gave win.
    for key, path in vocab_files.items():
        if path.is_file():
            init.setdefault(key, str(path))
    # a hand-written subclass's own _tokenize is its tokenizer, not the tokenizer.json beside it
    use_json = json_file.is_file() and "_pipeline" not in init and not (have_vocab and _tokenizes_itself(cls))
    if use_json:
        try:
            pipeline = pipeline_from_json(read_json(json_file), json_file)
        except UnsupportedTokenizerJson:
            # a part we do not implement: the vocabulary files describe the tokenizer too. A
            # damaged tokenizer.json raises instead: falling back would hide a torn save.
            if not have_vocab:
                raise
        else:
            init["_pipeline"] = pipeline
            if init.get("never_split"):
                pipeline.set_never_split(init["never_split"])
    if "_pipeline" not in init and not have_vocab:
        missing = [str(p) for p in vocab_files.values() if not p.is_file()]
        raise FileNotFoundError(
            f"{folder} has neither tokenizer.json nor the vocabulary files "
            f"{cls.__name__} needs (missing: {', '.join(missing)})"
        )
    tokenizer = cls(**init)
    for token_id, entry in config.get("added_tokens_decoder", {}).items():
        token = _as_token(entry)
        if token.content not in tokenizer.pipeline.added.ids:
            tokenizer.pipeline.added.add(token, int(token_id))
    if (folder / "added_tokens.json").is_file():
        for content, token_id in read_json(folder / "added_tokens.json").items():
            if content not in tokenizer.pipeline.added.ids:
                tokenizer.pipeline.added.add(AddedToken(content), int(token_id))
    tokenizer.pipeline.refresh_added_tokens()
    return tokenizer
