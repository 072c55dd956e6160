"""T5Tokenizer: a SentencePiece (Unigram) model + ``</s>`` after each sequence + 100 sentinel tokens.

Built on clearformer's own Unigram model (sentencepiece parity) and the shared
``PreTrainedTokenizer`` call API. The pipeline stages used here (whole-text SentencePiece model,
special-token-aware decoder) are reused by MarianTokenizer. Ids must equal sentencepiece's on plain
text and transformers 5.24's ``T5Tokenizer.from_pretrained(folder)`` with special tokens in the text.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from ...tokenization.base import PreTrainedTokenizer
from ...tokenization.files import copy_file_atomic, write_text_atomic
from ...tokenization.pipeline import Pipeline
from ...tokenization.processors import TemplateProcessing
from ...tokenization.special_tokens import SPECIAL_TOKENS_ATTRIBUTES
from ...tokenization.unigram import UnigramModel


class WholeText:
    """Pre-tokenizer stand-in: SentencePiece segments whole texts itself (spaces are pieces)."""

    pattern = re.compile(r"(?s).+")

    def split(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))] if text else []


class SentencePieceStage:
    """Pipeline model stage: raw text -> SentencePiece pieces (normalization included), then ids.

    ``vocab`` maps pieces to ids when they differ from the .model's own ids (Marian's vocab.json).
    """

    def __init__(self, sp: UnigramModel, vocab: dict[str, int] | None = None, unk_token: str = "<unk>") -> None:
        self.sp = sp
        self.vocab = dict(vocab) if vocab is not None else sp.get_vocab()
        self._own_ids = vocab is None
        self._tokens = {i: t for t, i in self.vocab.items()}
        self.unk_id = self.vocab.get(unk_token)

    def tokenize_word(self, text: str):
        enc = self.sp.encode_with_offsets(text)
        ids = enc.ids if self._own_ids else [self.vocab.get(p, self.unk_id) for p in enc.pieces]
        return tuple(ids), tuple(enc.pieces), tuple(enc.offsets)

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, index: int) -> str | None:
        return self._tokens.get(index)

    def save(self, folder) -> list[str]:
        return []


class SentencePieceDecoder:
    """Pieces -> text with the SentencePiece model; special tokens are kept verbatim, space-separated."""

    def __init__(self, sp: UnigramModel, special: set[str]) -> None:
        self.sp = sp
        self.special = special

    def decode(self, tokens: list[str]) -> str:
        out, pieces = "", []
        for token in tokens:
            if token in self.special:
                out += self.sp.decode_pieces(pieces) + token + " "
                pieces = []
            else:
                pieces.append(token)
        return (out + self.sp.decode_pieces(pieces)).strip()


def sentencepiece_pipeline(sp, vocab, eos: str, eos_id: int, pair_eos: bool, special: set[str]) -> Pipeline:
    """``A </s>`` / pair ``A </s> B </s>`` (T5) or ``A B </s>`` (Marian)."""
    pair = [("A", 0), (eos, 0), ("B", 0), (eos, 0)] if pair_eos else [("A", 0), ("B", 0), (eos, 0)]
    post = TemplateProcessing([("A", 0), (eos, 0)], pair, {eos: eos_id})
    return Pipeline(SentencePieceStage(sp, vocab), None, WholeText(), post, SentencePieceDecoder(sp, special))


def save_sentencepiece_tokenizer(tokenizer, save_directory, extra_config: dict | None = None) -> tuple[str, ...]:
    """The SentencePiece tokenizers' save_pretrained: their vocabulary files (``save_vocabulary``),
    tokenizer_config.json and special_tokens_map.json; no tokenizer.json (transformers' Marian is
    slow-only, and both read the .model/.spm files)."""
    folder = Path(save_directory)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"tokenizer_class": type(tokenizer).__name__, **(extra_config or {})}
    for name in SPECIAL_TOKENS_ATTRIBUTES:
        value = tokenizer._special_tokens.get(name)
        config[name] = str(value) if value is not None else None
    if tokenizer.additional_special_tokens:
        config["additional_special_tokens"] = [str(t) for t in tokenizer.additional_special_tokens]
    config.update(
        model_max_length=tokenizer.model_max_length,
        padding_side=tokenizer.padding_side,
        truncation_side=tokenizer.truncation_side,
        clean_up_tokenization_spaces=tokenizer.clean_up_tokenization_spaces,
        model_input_names=list(tokenizer.model_input_names),
        added_tokens_decoder={str(i): t.to_dict() for i, t in tokenizer.added_tokens_decoder.items()},
    )
    files = []
    for name, content in (("tokenizer_config.json", config), ("special_tokens_map.json", tokenizer.special_tokens_map)):
        files.append(write_text_atomic(folder / name, json.dumps(content, indent=2, ensure_ascii=False) + "\n"))
    (folder / "tokenizer.json").unlink(missing_ok=True)  # a stale one would be read first
    return (*files, *tokenizer.save_vocabulary(folder))


class TextTargetMixin:
    """``tokenizer(text, text_target=...)``: targets come back as ``labels`` (transformers 5.x).

    ``_side(target=True)`` is where a tokenizer with a separate target vocabulary switches to it.
    """

    @contextlib.contextmanager
    def _side(self, target: bool):
        yield self

    def __call__(self, text=None, text_pair=None, text_target=None, text_pair_target=None, **kwargs):
        if text is None and text_target is None:
            raise ValueError("give the text to tokenize (text=... and/or text_target=...)")
        encoded = super().__call__(text, text_pair, **kwargs) if text is not None else None
        if text_target is None:
            return encoded
        with self._side(target=True):
            targets = super().__call__(text_target, text_pair_target, **kwargs)
        if encoded is None:
            return targets
        encoded["labels"] = targets["input_ids"]
        return encoded


class T5Tokenizer(TextTargetMixin, PreTrainedTokenizer):
    vocab_files_names = {"vocab_file": "spiece.model"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | None = None,
        eos_token: str = "</s>",
        unk_token: str = "<unk>",
        pad_token: str = "<pad>",
        extra_ids: int = 100,
        additional_special_tokens=None,
        _pipeline: Pipeline | None = None,
        **kwargs,
    ) -> None:
        if vocab_file is None:
            raise ValueError("T5Tokenizer needs vocab_file (a SentencePiece spiece.model)")
        self.vocab_file = str(vocab_file)
        sp = UnigramModel.from_sentencepiece(vocab_file)
        n = sp.vocab_size
        # Sentinels for span corruption: <extra_id_0> is the LAST id, <extra_id_99> the first after the pieces.
        sentinels = [f"<extra_id_{i}>" for i in range(extra_ids)]
        vocab = sp.get_vocab()
        vocab.update({tok: n + extra_ids - 1 - i for i, tok in enumerate(sentinels)})
        special = {eos_token, unk_token, pad_token, *sentinels}
        pipeline = sentencepiece_pipeline(sp, vocab, eos_token, vocab[eos_token], True, special)
        if additional_special_tokens is None:
            additional_special_tokens = sentinels
        for name in ("extra_special_tokens",):
            kwargs.pop(name, None)
        self._extra_ids = extra_ids
        super().__init__(
            pipeline,
            eos_token=eos_token,
            unk_token=unk_token,
            pad_token=pad_token,
            additional_special_tokens=additional_special_tokens,
            **kwargs,
        )

    @property
    def vocab_size(self) -> int:
        return len(self.pipeline.model.vocab)

    def get_sentinel_tokens(self) -> list[str]:
        return [t for t in self.additional_special_tokens if re.fullmatch(r"<extra_id_\d+>", t)]

    def get_sentinel_token_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(t) for t in self.get_sentinel_tokens()]

    def save_pretrained(self, save_directory, **kwargs) -> tuple[str, ...]:
        """spiece.model, tokenizer_config.json (with extra_ids), special_tokens_map.json."""
        return save_sentencepiece_tokenizer(self, save_directory, {"extra_ids": self._extra_ids})

    def save_vocabulary(self, save_directory, filename_prefix: str | None = None) -> tuple[str, ...]:
        target = Path(save_directory) / ((filename_prefix + "-" if filename_prefix else "") + "spiece.model")
        if Path(self.vocab_file).resolve() != target.resolve():
            copy_file_atomic(self.vocab_file, target)
        return (str(target),)
