"""MarianTokenizer: separate source and target SentencePiece models, ids from a shared vocab.json.

Sources are segmented with ``source.spm`` and targets with ``target.spm``; both map pieces to ids
through ``vocab.json`` (or ``target_vocab.json`` with ``separate_vocabs``), unknown pieces to
``<unk>``, and every sequence ends with ``</s>``. Targets are tokenized with
``tokenizer(text, text_target=...)`` (transformers 5.x) or inside the course's
``with tokenizer.as_target_tokenizer():`` (4.x; kept here as a shim, tested to agree).
Multilingual checkpoints put a target-language code such as ``>>fra<<`` at the start of the
source; like transformers, a text (or a text segment between special tokens) that starts with
``>>...<<`` yields that code as one token (its vocab.json id, or ``<unk>`` when absent) and the
rest goes through SentencePiece. ``save_pretrained`` writes everything ``from_pretrained`` reads:
source.spm, target.spm, vocab.json (+ target_vocab.json), tokenizer_config.json and
special_tokens_map.json. Ids match transformers 5.24's MarianTokenizer.from_pretrained(folder).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from ...tokenization.base import PreTrainedTokenizer
from ...tokenization.files import copy_file_atomic
from ...tokenization.unigram import UnigramModel
from ..t5.tokenization_t5 import (
    SentencePieceStage,
    TextTargetMixin,
    save_sentencepiece_tokenizer,
    sentencepiece_pipeline,
)


def _load_vocab(path: str) -> dict[str, int]:
    with open(path, encoding="utf-8") as f:
        return {str(k): int(v) for k, v in json.load(f).items()}


class LanguageCodeStage(SentencePieceStage):
    """SentencePiece stage that first splits off a leading ``>>xx<<`` language code as one token."""

    def tokenize_word(self, text: str):
        if not text.startswith(">>") or (end := text.find("<<")) == -1:
            return super().tokenize_word(text)
        code = text[: end + 2]
        ids, pieces, offsets = super().tokenize_word(text[end + 2 :])
        shift = end + 2
        return (
            (self.vocab.get(code, self.unk_id), *ids),
            (code, *pieces),
            ((0, shift), *((a + shift, b + shift) for a, b in offsets)),
        )


def _with_language_codes(pipeline):
    stage = pipeline.model
    pipeline.model = LanguageCodeStage(stage.sp, stage.vocab)
    return pipeline


class MarianTokenizer(TextTargetMixin, PreTrainedTokenizer):
    vocab_files_names = {"source_spm": "source.spm", "target_spm": "target.spm", "vocab": "vocab.json"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        source_spm: str | None = None,
        target_spm: str | None = None,
        vocab: str | None = None,
        target_vocab_file: str | None = None,
        source_lang: str | None = None,
        target_lang: str | None = None,
        unk_token: str = "<unk>",
        eos_token: str = "</s>",
        pad_token: str = "<pad>",
        model_max_length: int = 512,
        separate_vocabs: bool = False,
        **kwargs,
    ) -> None:
        missing = [n for n, p in (("source_spm", source_spm), ("target_spm", target_spm), ("vocab", vocab)) if not p]
        if missing:
            raise ValueError(f"MarianTokenizer needs {', '.join(missing)} (source.spm, target.spm, vocab.json)")
        self.spm_files = [str(source_spm), str(target_spm)]
        self.vocab_file = str(vocab)
        self.separate_vocabs = separate_vocabs
        source_vocab = _load_vocab(vocab)
        if unk_token not in source_vocab:
            raise KeyError(f"{unk_token!r} must be in {vocab}")
        if separate_vocabs:
            if target_vocab_file is None:
                raise ValueError("separate_vocabs=True needs target_vocab_file (target_vocab.json)")
            target_vocab = _load_vocab(target_vocab_file)
        else:
            target_vocab = source_vocab
        self.target_vocab_file = target_vocab_file
        self.source_lang, self.target_lang = source_lang, target_lang
        special = {unk_token, eos_token, pad_token}
        sources = UnigramModel.from_sentencepiece(source_spm)
        targets = UnigramModel.from_sentencepiece(target_spm)
        self.source_pipeline = _with_language_codes(
            sentencepiece_pipeline(sources, source_vocab, eos_token, source_vocab[eos_token], False, special)
        )
        self.target_pipeline = _with_language_codes(
            sentencepiece_pipeline(targets, target_vocab, eos_token, target_vocab[eos_token], False, special)
        )
        # transformers lists the codes only for one shared vocabulary (multilingual opus-mt models).
        self.supported_language_codes = (
            [] if separate_vocabs else [k for k in source_vocab if k.startswith(">>") and k.endswith("<<")]
        )
        self.target_pipeline.added = self.source_pipeline.added  # one set of added/special tokens
        for name in ("sp_model_kwargs", "extra_special_tokens"):
            kwargs.pop(name, None)
        super().__init__(
            self.source_pipeline,
            model_max_length=model_max_length,
            unk_token=unk_token,
            eos_token=eos_token,
            pad_token=pad_token,
            **kwargs,
        )

    @contextlib.contextmanager
    def _side(self, target: bool):
        previous = self.pipeline
        self.pipeline = self.target_pipeline if target else self.source_pipeline
        try:
            yield self
        finally:
            self.pipeline = previous

    @contextlib.contextmanager
    def as_target_tokenizer(self):
        """The course's 4.x API: inside the block, texts are tokenized as targets (target.spm)."""
        with self._side(target=True):
            yield self

    def decode(self, token_ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces=None, **kwargs) -> str:
        """Ids -> text with the target side (generated ids are targets), as transformers does."""
        with self._side(target=True):
            return super().decode(token_ids, skip_special_tokens, clean_up_tokenization_spaces, **kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *inputs, **kwargs):
        """Load source.spm, target.spm, vocab.json (and target_vocab.json when present) from a folder."""
        from ...hub import resolve_pretrained_dir

        folder = resolve_pretrained_dir(pretrained_model_name_or_path)
        if (folder / "target_vocab.json").is_file():
            kwargs.setdefault("target_vocab_file", str(folder / "target_vocab.json"))
        return super().from_pretrained(pretrained_model_name_or_path, *inputs, **kwargs)

    def save_pretrained(self, save_directory, **kwargs) -> tuple[str, ...]:
        """source.spm, target.spm, vocab.json (+ target_vocab.json), tokenizer_config.json and
        special_tokens_map.json: what this class's and transformers' MarianTokenizer.from_pretrained read."""
        extra = {
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "separate_vocabs": self.separate_vocabs,
        }
        return save_sentencepiece_tokenizer(self, save_directory, extra)

    def save_vocabulary(self, save_directory, filename_prefix: str | None = None) -> tuple[str, ...]:
        prefix = filename_prefix + "-" if filename_prefix else ""
        sources = [*self.spm_files, self.vocab_file]
        names = ["source.spm", "target.spm", "vocab.json"]
        if self.separate_vocabs:
            sources.append(self.target_vocab_file)
            names.append("target_vocab.json")
        out = []
        for source, name in zip(sources, names):
            target = Path(save_directory) / (prefix + name)
            if Path(source).resolve() != target.resolve():
                copy_file_atomic(source, target)
            out.append(str(target))
        return tuple(out)
