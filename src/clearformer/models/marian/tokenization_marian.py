"""MarianTokenizer: separate source and target SentencePiece models, ids from a shared vocab.json.

Sources are segmented with ``source.spm`` and targets with ``target.spm``; both map pieces to ids
through ``vocab.json`` (or ``target_vocab.json`` with ``separate_vocabs``), unknown pieces to
``<unk>``, and every sequence ends with ``</s>``. Targets are tokenized with
``tokenizer(text, text_target=...)`` (transformers 5.x) or inside the course's
``with tokenizer.as_target_tokenizer():`` (4.x; kept here as a shim, tested to agree).
Ids match transformers 5.24's MarianTokenizer.from_pretrained(folder).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

from ...tokenization.base import PreTrainedTokenizer
from ...tokenization.unigram import UnigramModel
from ..t5.tokenization_t5 import TextTargetMixin, sentencepiece_pipeline


def _load_vocab(path: str) -> dict[str, int]:
    with open(path, encoding="utf-8") as f:
        return {str(k): int(v) for k, v in json.load(f).items()}


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
        self.source_pipeline = sentencepiece_pipeline(
            sources, source_vocab, eos_token, source_vocab[eos_token], False, special
        )
        self.target_pipeline = sentencepiece_pipeline(
            targets, target_vocab, eos_token, target_vocab[eos_token], False, special
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

    def save_vocabulary(self, save_directory, filename_prefix: str | None = None) -> tuple[str, ...]:
        prefix = filename_prefix + "-" if filename_prefix else ""
        out = []
        for source, name in zip([*self.spm_files, self.vocab_file], ["source.spm", "target.spm", "vocab.json"]):
            target = Path(save_directory) / (prefix + name)
            if Path(source).resolve() != target.resolve():
                shutil.copyfile(source, target)
            out.append(str(target))
        return tuple(out)
