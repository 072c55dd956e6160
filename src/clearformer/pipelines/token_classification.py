"""token-classification / ner: a label per token, or entities grouped with ``aggregation_strategy``.

Strategies as in transformers 5.24: ``none`` (every non-O token with its index), ``simple``
(adjacent tokens with the same tag and no new B- merged; the course's ``grouped_entities=True``),
``first`` / ``average`` / ``max`` (subword tokens first agree on one label per word). ``stride``
splits a long text into overlapping windows whose entities are merged back.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from .base import Pipeline

STRATEGIES = ("none", "simple", "first", "average", "max")


def split_tag(label: str) -> tuple[str, str]:
    """``B-PER`` -> ("B", "PER"); a label without a B-/I- prefix counts as inside ("I")."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


def legacy_strategy(grouped_entities: bool | None, ignore_subwords: bool | None, given: str | None) -> str:
    """The course's 4.x ``grouped_entities`` / ``ignore_subwords`` flags as an aggregation strategy."""
    strategy = "first" if grouped_entities and ignore_subwords else "simple" if grouped_entities else "none"
    if given is not None and str(getattr(given, "value", given)).lower() != strategy:
        raise ValueError(
            f"grouped_entities/ignore_subwords mean aggregation_strategy={strategy!r}, but "
            f"aggregation_strategy={given!r} was also given; pass only aggregation_strategy"
        )
    return strategy


class TokenClassificationPipeline(Pipeline):
    task = "token-classification"
    token_outputs = ("logits",)

    def _sanitize_parameters(
        self,
        aggregation_strategy: str | None = None,
        grouped_entities: bool | None = None,
        ignore_subwords: bool | None = None,
        ignore_labels: list[str] | None = None,
        stride: int | None = None,
        is_split_into_words: bool | None = None,
        delimiter: str | None = None,
    ):
        pre: dict[str, Any] = {}
        post: dict[str, Any] = {}
        if grouped_entities is not None or ignore_subwords is not None:
            aggregation_strategy = legacy_strategy(grouped_entities, ignore_subwords, aggregation_strategy)
        if aggregation_strategy is not None:
            strategy = str(getattr(aggregation_strategy, "value", aggregation_strategy)).lower()
            if strategy not in STRATEGIES:
                raise ValueError(f"aggregation_strategy={aggregation_strategy!r}; use one of {STRATEGIES}")
            post["aggregation_strategy"] = strategy
        if ignore_labels is not None:
            post["ignore_labels"] = list(ignore_labels)
        if stride is not None:
            defaults = getattr(self, "_defaults", ({}, {}, {}))[2]  # absent while __init__ sanitizes them
            self._check_stride(stride, post.get("aggregation_strategy", defaults.get("aggregation_strategy", "none")))
            pre["stride"] = stride
        if is_split_into_words is not None:
            pre["is_split_into_words"] = is_split_into_words
        if delimiter is not None:
            pre["delimiter"] = delimiter
        return pre, {}, post

    def _check_stride(self, stride: int, strategy: str) -> None:
        if strategy == "none":
            raise ValueError(
                "stride splits the text into overlapping windows whose entities are then merged, which "
                "needs aggregation_strategy 'simple', 'first', 'average' or 'max' (got 'none')"
            )
        if stride < 0 or stride >= self.tokenizer.model_max_length:
            raise ValueError(
                f"stride={stride} must be >= 0 and below tokenizer.model_max_length="
                f"{self.tokenizer.model_max_length} (the window size)"
            )

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        split = kwargs.get("is_split_into_words", self._defaults[0].get("is_split_into_words", False))
        if split and isinstance(inputs, (list, tuple)) and inputs and all(isinstance(w, str) for w in inputs):
            # one pre-split sentence; transformers answers it as a batch of one (a list of lists)
            return super().__call__([list(inputs)], **kwargs)
        return super().__call__(inputs, **kwargs)

    # ------------------------------------------------------------------ preprocess / forward
    def preprocess(self, sentence: Any, stride: int | None = None, is_split_into_words: bool = False, delimiter=None):
        word_starts = None
        if is_split_into_words:
            if not isinstance(sentence, (list, tuple)):
                raise ValueError("with is_split_into_words=True each input must be a list of words")
            delimiter = " " if delimiter is None else delimiter
            words, sentence = list(sentence), delimiter.join(sentence)
            word_starts, position = [], 0
            for word in words:
                word_starts.append(position)
                position += len(word) + len(delimiter)
            to_tokenize = words
        elif not isinstance(sentence, str):
            raise ValueError(
                f"token-classification takes strings (or word lists with is_split_into_words=True), "
                f"got {type(sentence).__name__}"
            )
        else:
            to_tokenize = sentence
        extra = {"return_overflowing_tokens": True, "stride": stride} if stride is not None else {}
        enc = self.tokenizer(
            to_tokenize,
            truncation=True,
            return_special_tokens_mask=True,
            return_offsets_mapping=True,
            is_split_into_words=is_split_into_words,
            **extra,
        )
        rows = len(enc["input_ids"]) if stride is not None else None
        for i in range(rows or 1):
            row = i if rows is not None else None
            offsets = list(enc["offset_mapping"] if row is None else enc["offset_mapping"][row])
            if word_starts is not None:
                word_ids = enc.word_ids(i)
                offsets = [
                    (s + word_starts[w], e + word_starts[w]) if w is not None else (s, e)
                    for (s, e), w in zip(offsets, word_ids)
                ]
            yield {
                "model_inputs": self.model_inputs(enc, row),
                "special_tokens_mask": enc["special_tokens_mask"] if row is None else enc["special_tokens_mask"][row],
                "offsets": offsets,
                "sentence": sentence,
            }

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": self.model(**model_inputs).logits}

    # ------------------------------------------------------------------ postprocess
    def postprocess(self, outputs: list[dict], aggregation_strategy: str = "none", ignore_labels=None) -> list[dict]:
        ignore = ["O"] if ignore_labels is None else ignore_labels
        entities = []
        for feature in outputs:
            pre_entities = self.gather_pre_entities(feature, aggregation_strategy)
            for entity in self.aggregate(pre_entities, aggregation_strategy):
                if entity.get("entity", entity.get("entity_group")) not in ignore:
                    entities.append(entity)
        return merge_overlapping(entities) if len(outputs) > 1 else entities

    def _subword_prefix(self) -> str | None:
        model = getattr(getattr(self.tokenizer, "pipeline", None), "model", None)
        return getattr(model, "prefix", None) or getattr(model, "continuing_subword_prefix", None)

    def gather_pre_entities(self, feature: dict, strategy: str) -> list[dict]:
        """Every non-special token with its softmax scores, text span and whether it continues a word."""
        scores = feature["logits"].float().softmax(-1)
        ids = feature["model_inputs"]["input_ids"]
        sentence, prefix = feature["sentence"], self._subword_prefix()
        if prefix is None and strategy in ("first", "average", "max"):
            warnings.warn("this tokenizer has no subword prefix; guessing word starts from spaces", stacklevel=4)
        pre = []
        for index, token_id in enumerate(ids):
            if feature["special_tokens_mask"][index]:
                continue
            word = self.tokenizer.convert_ids_to_tokens(token_id)
            start, end = feature["offsets"][index]
            original = sentence[start:end]
            if prefix is not None:
                # a continuation piece ("##ing") is longer than the text it covers
                is_subword = len(word) != len(original)
            else:
                is_subword = start > 0 and " " not in sentence[start - 1 : start + 1]
            if token_id == self.tokenizer.unk_token_id:
                word, is_subword = original, False
            pre.append(
                {
                    "word": word,
                    "scores": scores[index],
                    "start": start,
                    "end": end,
                    "index": index,
                    "is_subword": is_subword,
                }
            )
        return pre

    def aggregate(self, pre_entities: list[dict], strategy: str) -> list[dict]:
        id2label = self.model.config.id2label
        if strategy in ("none", "simple"):
            entities = []
            for pre in pre_entities:
                best = int(pre["scores"].argmax())
                entities.append(
                    {
                        "entity": id2label[best],
                        "score": pre["scores"][best].item(),
                        "index": pre["index"],
                        "word": pre["word"],
                        "start": pre["start"],
                        "end": pre["end"],
                    }
                )
        else:
            entities = [self.aggregate_word(group, strategy) for group in _words(pre_entities)]
        return entities if strategy == "none" else self.group_entities(entities)

    def aggregate_word(self, tokens: list[dict], strategy: str) -> dict:
        """One label for a whole word from its subword tokens' scores."""
        if strategy == "first":
            scores = tokens[0]["scores"]
        elif strategy == "max":
            scores = max(tokens, key=lambda t: t["scores"].max().item())["scores"]
        else:
            scores = torch.stack([t["scores"] for t in tokens]).mean(0)
        best = int(scores.argmax())
        return {
            "entity": self.model.config.id2label[best],
            "score": scores[best].item(),
            "word": self.tokenizer.convert_tokens_to_string([t["word"] for t in tokens]),
            "start": tokens[0]["start"],
            "end": tokens[-1]["end"],
        }

    def group_entities(self, entities: list[dict]) -> list[dict]:
        """Merge runs of tokens/words with the same tag where no new ``B-`` starts an entity."""
        groups, run = [], []
        for entity in entities:
            if run:
                bi, tag = split_tag(entity["entity"])
                if tag == split_tag(run[-1]["entity"])[1] and bi != "B":
                    run.append(entity)
                    continue
                groups.append(self._group(run))
            run = [entity]
        if run:
            groups.append(self._group(run))
        return groups

    def _group(self, run: list[dict]) -> dict:
        return {
            "entity_group": run[0]["entity"].split("-", 1)[-1],
            "score": sum(e["score"] for e in run) / len(run),
            "word": self.tokenizer.convert_tokens_to_string([e["word"] for e in run]),
            "start": run[0]["start"],
            "end": run[-1]["end"],
        }


def _words(pre_entities: list[dict]) -> list[list[dict]]:
    """Tokens grouped into words: a token starts a new word unless it is a subword continuation."""
    words: list[list[dict]] = []
    for pre in pre_entities:
        if words and pre["is_subword"]:
            words[-1].append(pre)
        else:
            words.append([pre])
    return words


def merge_overlapping(entities: list[dict]) -> list[dict]:
    """Entities from overlapping stride windows: of those that overlap, keep the longest (then the
    highest scoring), as transformers does."""
    if not entities:
        return entities
    entities = sorted(entities, key=lambda e: e["start"])
    kept, current = [], entities[0]
    for entity in entities:
        if current["start"] <= entity["start"] < current["end"]:
            longer = entity["end"] - entity["start"] - (current["end"] - current["start"])
            if longer > 0 or longer == 0 and entity["score"] > current["score"]:
                current = entity
        else:
            kept.append(current)
            current = entity
    kept.append(current)
    return kept
