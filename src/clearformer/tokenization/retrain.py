"""``train_new_from_iterator``: a tokenizer of the same kind, with a vocabulary learnt from your
texts (the colleague-written trainers in trainers.py do the learning; this wires their result
into a ready tokenizer with the original's settings and special tokens)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from .bpe import BPE
from .trainers import ByteLevelBPETrainer, WordPieceTrainer
from .wordpiece import WordPiece


def _special_tokens_in_id_order(tokenizer, extra) -> list[str]:
    specials = sorted(tokenizer.all_special_tokens, key=lambda t: tokenizer.convert_tokens_to_ids(t))
    return specials + [t for t in extra or () if t not in specials]


def train_like(tokenizer, texts: Iterable[str], vocab_size: int, new_special_tokens=None, min_frequency: int = 0):
    """Train a new vocabulary for ``type(tokenizer)``; special tokens keep their relative order
    and come first, so ``[PAD]`` stays id 0 for BERT and ``<s>`` id 0 for RoBERTa."""
    specials = _special_tokens_in_id_order(tokenizer, new_special_tokens)
    model = tokenizer.pipeline.model
    config = tokenizer.config_kwargs() if hasattr(tokenizer, "config_kwargs") else {}
    init = dict(config, **{k: v for k, v in tokenizer.special_tokens_map.items()})
    init["model_max_length"] = tokenizer.model_max_length
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(model, WordPiece):
            lowercase = bool(getattr(tokenizer.pipeline.normalizer, "lowercase", False))
            trainer = WordPieceTrainer(
                vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=specials, lowercase=lowercase
            )
            path = trainer.train(texts).save(tmp)
            new = type(tokenizer)(vocab_file=str(path), **init)
        elif isinstance(model, BPE):
            trainer = ByteLevelBPETrainer(
                vocab_size=vocab_size,
                min_frequency=min_frequency,
                special_tokens=specials,
                add_prefix_space=bool(getattr(tokenizer, "add_prefix_space", False)),
            )
            vocab_path, merges_path = trainer.train(texts).save(tmp)
            new = type(tokenizer)(vocab_file=str(vocab_path), merges_file=str(merges_path), **init)
        else:
            raise NotImplementedError(
                f"train_new_from_iterator supports WordPiece and byte-level BPE tokenizers, not {type(model).__name__}"
            )
    new.name_or_path = str(Path(tmp).name)
    return new
